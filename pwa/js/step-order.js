/** Step times in SOP order, to the minute (sync/step_order.py): pure. */
import { formatDateTimeWita } from "./format.js";

// mutation → [the previous step, its time in a resident's view]
const PREVIOUS = {
  record_done: ["penjemputan", (v) => v.pickup?.at],
  handover_batch: ["perekaman", (v) => !v.recording?.failed && v.recording?.at],
  record_collection: ["penyerahan berkas ke Disdukcapil", (v) => v.batch_handed_at],
  deliver_card: ["pengambilan KTP", (v) => v.card_collected_at],
};
const minute = (iso) => Math.floor(Date.parse(iso) / 6e4);

/** The refusal when `at` (ISO) is before the previous step time in `view`, else null. */
export function stepOrderProblem(name, view, at) {
  const [what, timeOf] = PREVIOUS[name] ?? [];
  const before = view && timeOf?.(view);
  if (!before || Number.isNaN(minute(before))) return null;
  // NaN compares false: an unreadable time would pass `<` unnoticed.
  if (Number.isNaN(minute(at))) return "Waktu tidak valid. Periksa tanggal dan jam.";
  return minute(at) < minute(before)
    ? `Waktu ini lebih awal dari ${what} (${formatDateTimeWita(before)}). Periksa tanggal dan jam.` : null;
}

/** Set built.errors[field] (a builder's {args, errors}) for the first of `views` out of order. */
export function checkStepOrder(name, views, built, field) {
  const at = built.args?.[field];
  for (const v of at && !built.errors[field] ? views : []) {
    const problem = stepOrderProblem(name, v, at);
    if (problem) return void (built.errors[field] = views.length > 1 ? `${v.name}: ${problem}` : problem);
  }
}
