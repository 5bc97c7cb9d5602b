// Test doubles for the sync client: an in-memory store that carries out the same pure plans as
// pwa/js/db.js, and a fake /api/sync that follows DESIGN §4 (numbering, 409 gaps, paging).
import { gunzipSync } from "node:zlib";
import { recoverFromGap, sortById } from "../../pwa/js/outbox-rules.js";
import { healTrigger, logEntry, planHeal } from "../../pwa/js/heal-rules.js";
import { planSyncApply } from "../../pwa/js/sync-merge.js";

export const rid = (n) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

export function registration(n, overrides = {}) {
  return {
    resident_id: rid(n), desa_code: "6311042005", name: `Siti Aminah ${n}`,
    nik: null, kk_number: "6311040101200001", sex: "female", birth_place: "Batumandi",
    birth_date: "2007-05-14", marital_status: "single", address: "Jl. Pasar Lama",
    rt: "002", rw: "001", phone: "081234567890", vulnerable_category: "remote_community",
    disability: null, notes: null, ...overrides,
  };
}

export class MemoryStore {
  constructor({ session = {}, outbox = [], residents = [] } = {}) {
    this.session = { key: "current", token: "tok", client_id: "c1", cursor: null, next_mutation_id: outbox.length + 1, ...session };
    this.outbox = outbox;
    this.residents = residents;
    this.rejected = [];
    this.acked = []; // the acknowledged log, as db.js keeps it (seq = order of acknowledgement)
    this.signedOut = null;
  }
  #keep(entries) {
    for (const e of entries) this.acked.push({ ...logEntry(e, this.session.client_id, "2026-11-28T01:00:00Z"), seq: this.acked.length + 1 });
  }
  #heal(before, after, last, databaseId) {
    if (!healTrigger(before, last, databaseId)) return after;
    const plan = planHeal(this.acked, this.outbox, before.client_id, last);
    const gone = new Set(plan.dropSeqs);
    this.acked = this.acked.filter((e) => !gone.has(e.seq));
    this.outbox = plan.resend;
    return { ...after, acked_through: last, database_id: databaseId ?? after.database_id, cursor: null, next_mutation_id: plan.nextMutationId };
  }
  async getSession() { return structuredClone(this.session); }
  async getOutbox() { return sortById(this.outbox); }
  async applySyncResponse(response, nowIso) {
    const plan = planSyncApply({ session: this.session, outbox: this.outbox, residents: this.residents }, response, nowIso);
    const gone = new Set(plan.deleteOutbox);
    this.outbox = this.outbox.filter((e) => !gone.has(e.id));
    this.rejected.push(...plan.rejected);
    const del = new Set(plan.deleteResidents);
    const put = new Map(plan.putResidents.map((r) => [r.resident_id, r]));
    this.residents = this.residents.filter((r) => !del.has(r.resident_id) && !put.has(r.resident_id)).concat([...put.values()]);
    this.#keep(plan.logged);
    const before = this.session;
    this.session = this.#heal(before, plan.session, Number(response.last_mutation_id ?? 0), response.database_id);
    return { ...plan, healed: this.session !== plan.session };
  }
  async applyGap(last, databaseId = null) {
    const plan = recoverFromGap(this.outbox, last);
    this.outbox = plan.renumbered;
    this.#keep(plan.acknowledged);
    const before = this.session;
    this.session = this.#heal(before, { ...before, next_mutation_id: plan.nextMutationId, acked_through: last }, last, databaseId);
    return plan;
  }
  async signOut({ keepData, reason, message }) {
    this.signedOut = { keepData, reason, message };
    if (keepData) this.session = { ...this.session, token: null, signed_out: { reason, message } };
  }
  async noteSyncError(error) { this.session = { ...this.session, last_sync_error: error }; }
}

/** A fake server: returns {fetch, requests, state}; `script` may override single answers. */
export function fakeServer({ last = 0, residents = [], pageSize = 200, script = [], assigned = ["6311042005"], databaseId = "db-1" } = {}) {
  const state = { last, residents: [...residents], seq: residents.length, applied: [], databaseId };
  const requests = [];
  async function fetchImpl(url, init) {
    const raw = init.body instanceof Uint8Array ? Buffer.from(init.body) : Buffer.from(String(init.body));
    const zipped = init.headers["Content-Encoding"] === "gzip";
    const body = JSON.parse((zipped ? gunzipSync(raw) : raw).toString("utf8"));
    requests.push({ url, init, body, wireBytes: raw.length });
    const step = script.shift();
    if (step instanceof Error) throw step;
    if (step) return new Response(JSON.stringify(step.body), { status: step.status, headers: { "Content-Type": "application/json" } });
    const results = [];
    const sent = new Map(); // resident id → this request's applied registration (compact echoes)
    for (const m of body.mutations) {
      if (m.id <= state.last) { results.push({ id: m.id, status: "duplicate" }); continue; }
      if (m.id > state.last + 1) {
        return new Response(JSON.stringify({ code: "mutation_gap", message: "gap", fields: {}, last_mutation_id: state.last, database_id: state.databaseId }), { status: 409 });
      }
      state.last = m.id;
      if (m.args.name === "TOLAK") {
        results.push({ id: m.id, status: "rejected", code: "validation_error", message: "Nama tidak boleh TOLAK.", fields: { name: "Tidak boleh." } });
        continue;
      }
      results.push({ id: m.id, status: "applied" });
      state.applied.push(m);
      if (m.name === "register_resident") {
        sent.set(m.args.resident_id, m);
        state.seq += 1;
        state.residents.push({ ...m.args, version: 1, stage: "found", stage_label: "Terdata", warnings: [], seq: state.seq });
      }
    }
    const cursor = Number(body.cursor ?? 0);
    const page = state.residents.filter((r) => r.seq > cursor).sort((a, b) => a.seq - b.seq).slice(0, Math.min(pageSize, body.page_size ?? pageSize));
    const more = state.residents.filter((r) => r.seq > cursor).length > page.length;
    const next = page.length ? page[page.length - 1].seq : cursor;
    const rows = page.map(({ seq, ...r }) => r);
    // sync/echo.py's rule: the fields that differ from what mutation echo_of sent
    const echo = (r, m) => Object.fromEntries([["resident_id", r.resident_id], ["echo_of", m.id],
      ...Object.entries(r).filter(([k, v]) => k !== "resident_id" && JSON.stringify(m.args[k]) !== JSON.stringify(v))]);
    const compact = body.echo === "compact" ? { echoes: rows.filter((r) => sent.has(r.resident_id)).map((r) => echo(r, sent.get(r.resident_id))) } : {};
    return new Response(JSON.stringify({
      last_mutation_id: state.last, results, cursor: String(next), more,
      changes: { residents: rows.filter((r) => !compact.echoes || !sent.has(r.resident_id)), ...compact, removed: [], desa: [{ code: "6311042005", name: "Batumandi" }],
        assignments: { kecamatan: { code: "631104", name: "Batu Mandi" }, desa_codes: assigned } },
      server_time: "2026-11-28T01:00:00Z", clock_skew_flagged: false, database_id: state.databaseId,
    }), { status: 200, headers: { "Content-Type": "application/json" } });
  }
  return { fetch: fetchImpl, requests, state };
}
