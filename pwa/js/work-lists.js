/**
 * Pure work lists (no DOM): which cases the officer has to find, verify, pick up, record,
 * hand over or deliver, per desa, with counts, search and sorting; and the cards Disdukcapil
 * marked printed (issue #13): "KTP siap diambil", by berita acara.
 */
import { STEPS } from "./pipeline.js";
import { NOT_PRINTED_REASON_LABELS, labelOf } from "./labels.js";
import { formatDateTimeWita } from "./format.js";

/** The lists in the order they are shown; `stages: null` is the whole list. */
export const WORK_LISTS = Object.freeze([
  { code: "all", label: "Semua", stages: null },
  { code: "find", label: "Belum ditemukan", stages: ["listed"] },
  { code: "verify", label: "Perlu verifikasi", stages: STEPS.verify_resident.offeredAt },
  { code: "pickup", label: "Siap dijemput", stages: STEPS.pick_up.offeredAt },
  { code: "record", label: "Menunggu rekam", stages: ["picked_up"] },
  { code: "handover", label: "Siap ke Disdukcapil", stages: STEPS.handover_batch.offeredAt },
  { code: "deliver", label: "KTP siap diserahkan", stages: STEPS.deliver_card.offeredAt },
]);

const BY_CODE = new Map(WORK_LISTS.map((l) => [l.code, l]));

/** The list behind the home line "KTP siap diambil: n" (not a button of the nav). */
export const READY_LIST = "ready";

/**
 * True when Disdukcapil marked the card printed and it still waits there: stage
 * sent_to_registry with `card_ready_at` (ISO UTC) set, as the office counts it
 * (sync/registry.py ready_count). `r`: a residents-store record or a view.
 */
export function cardReady(r) {
  const v = r?.view || r || {};
  return v.stage === "sent_to_registry" && Boolean(v.card_ready_at);
}

/** True when a record belongs to list `code` (unknown codes mean the whole list). */
export function inList(record, code) {
  if (code === READY_LIST) return cardReady(record);
  const stages = BY_CODE.get(code)?.stages;
  return !stages || stages.includes(record.view?.stage);
}

/** True when a record is in desa `desa` ("" or null: every desa). */
export function inDesa(record, desa) {
  return !desa || record.desa_code === desa;
}

/** {listCode: count} for the records of one desa (or all). */
export function countLists(records, desa = "") {
  const counts = Object.fromEntries(WORK_LISTS.map((l) => [l.code, 0]));
  for (const r of records) {
    if (!inDesa(r, desa)) continue;
    for (const l of WORK_LISTS) if (inList(r, l.code)) counts[l.code] += 1;
  }
  return counts;
}

// Folded as the office searches (wirefields.py fold): "MA’RUF" → "maruf", "Élok" → "elok".
const fold = (t) =>
  String(t ?? "").normalize("NFKD").replace(/[\p{Cf}\p{Mn}'`\u00b4\u2018\u2019\u02bc\u02bb]/gu, "")
    .toLowerCase().replace(/ß/g, "ss").split(/\s+/).filter(Boolean).join(" ");

/** Search match on name, NIK (without spaces, dots) or desa name, folded. */
export function matchesQuery(record, query, desaName = () => "") {
  const q = fold(query);
  if (!q) return true;
  const v = record.view || {};
  const digits = q.replace(/[\s.]/g, "");
  return Boolean(
    fold(v.name).includes(q) || (digits && (v.nik || "").includes(digits)) || fold(desaName(record.desa_code)).includes(q),
  );
}

/** Unsent first (newest change first), then by name (Indonesian collation). */
export function sortRecords(records) {
  return [...records].sort((a, b) => {
    if (!!b.pending !== !!a.pending) return b.pending ? 1 : -1;
    if (a.pending && a.changed_at !== b.changed_at) return String(b.changed_at).localeCompare(String(a.changed_at));
    return String(a.view?.name ?? "").localeCompare(String(b.view?.name ?? ""), "id");
  });
}

/** The records of one list, desa and search, sorted. */
export function filterRecords(records, { list = "all", desa = "", query = "", desaName } = {}) {
  return sortRecords(records.filter((r) => inDesa(r, desa) && inList(r, list) && matchesQuery(r, query, desaName)));
}

/**
 * Operations of the officer's assignment (changes.assignments.operations) for the home screen:
 * [{id, name, start_date, end_date, desa: [{code, name, target, done}]}] where `done` counts the
 * cases of that desa on the phone that reached `doneStage` or beyond (the camat's dashboard has
 * the authoritative figures).
 */
export function operationProgress(operations, records, rank, doneStage = "delivered") {
  const doneRank = rank(doneStage);
  return (operations || []).map((op) => ({
    ...op,
    desa: (op.desa || []).map((d) => ({
      ...d,
      done: records.filter((r) => r.desa_code === String(d.code) && rank(r.view?.stage) >= doneRank).length,
    })),
  }));
}

/**
 * The ready cards by berita acara, so the team knows which batch to collect:
 * [{batch_id, number (null when no case on the phone knows it), records}] ordered by number
 * (unnumbered last), the records by name. `records`: residents-store records (any; only the
 * ready ones count).
 */
export function readyByBatch(records) {
  const groups = new Map();
  for (const r of records) {
    if (!cardReady(r)) continue;
    const id = r.view.batch_id ?? null;
    if (!groups.has(id)) groups.set(id, { batch_id: id, number: null, records: [] });
    groups.get(id).records.push(r);
  }
  // The number may be known from any case of the batch on the phone, ready or not.
  for (const r of records) {
    const g = groups.get(r.view?.batch_id ?? null);
    if (g && !g.number && r.view.batch_number) g.number = r.view.batch_number;
  }
  return [...groups.values()]
    .map((g) => ({ ...g, records: sortRecords(g.records) }))
    .sort((a, b) => (!a.number - !b.number) || String(a.number ?? "").localeCompare(String(b.number ?? ""), "id", { numeric: true }));
}

/** "KTP siap diambil di Disdukcapil sejak 06/12/2026 09.15 WITA", or null when not ready. */
export function readyText(v) {
  return cardReady(v) ? `KTP siap diambil di Disdukcapil sejak ${formatDateTimeWita(v.card_ready_at)}` : null;
}

/** "KTP belum dicetak: Blanko habis (ditandai Disdukcapil)" from a case's card_issue, or null. */
export function cardIssueText(issue) {
  if (!issue) return null;
  return `KTP belum dicetak: ${labelOf(NOT_PRINTED_REASON_LABELS, issue.reason)}${issue.reason_text ? ` (${issue.reason_text})` : ""}` +
    `${issue.by === "disdukcapil" ? " (ditandai Disdukcapil)" : ""}`;
}

/** The collection form's outcome for a case: the one being fixed, else "collected" for a card
 * marked ready (issue #13: the team mostly confirms Disdukcapil's mark), else "" (unknown). */
export function collectionDefault(record, item = null) {
  return item?.outcome || (cardReady(record) ? "collected" : "");
}
