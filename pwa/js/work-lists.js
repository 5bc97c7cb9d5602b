/**
 * Pure work lists (no DOM): which cases the officer has to find, verify, pick up, record,
 * hand over or deliver, per desa, with counts, search and sorting.
 */
import { STEPS } from "./pipeline.js";

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

/** True when a record belongs to list `code` (unknown codes mean the whole list). */
export function inList(record, code) {
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
