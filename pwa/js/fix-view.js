/**
 * "Perlu perbaikan": the records the server rejected, and dismissing one. "Perbaiki" opens
 * #/perbaiki/<rid>: the form of its step (case-views.js openFix).
 */
import * as db from "./db.js";
import { serverFieldMessages } from "./resident-form.js";
import { FIELD_LABELS } from "./labels.js";
import { formatDateTimeWita } from "./format.js";
import { STEPS } from "./pipeline.js";
import { $, el, go, record, refresh, showView, state } from "./app-shell.js";

/** The "Perlu perbaikan" screen. */
export function showFix() {
  showView("view-fix");
  renderFix();
}

/** Redraw after a change notice, when shown. */
export function redrawFix() {
  if (!$("view-fix").hidden) renderFix();
}

/** Resident names of a rejected mutation. */
function namesOf(rejected) {
  const ids = rejected.resident_ids?.length ? rejected.resident_ids : [rejected.resident_id];
  const names = ids.map((id) => record(id)?.view?.name).filter(Boolean);
  if (rejected.args?.number) return `berkas ${rejected.args.number}`;
  return names.length > 2 ? `${names.slice(0, 2).join(", ")} dan ${names.length - 2} lainnya` : names.join(", ") || "Warga";
}

/** The list of rejected records with their server messages. */
function renderFix() {
  const items = state.rejected.map((r) => {
    const residentName = r.args?.name || namesOf(r);
    const fieldMsgs = Object.entries(serverFieldMessages(r.fields))
      .filter(([, m]) => m !== r.message) // the headline already says it
      .map(([f, m]) => `${FIELD_LABELS[f] || f}: ${m}`);
    return el("li", {},
      el("div", { class: "case-head" },
        el("span", { class: "case-name", text: residentName }),
        el("span", { class: "stage s-rejected", text: STEPS[r.name]?.label || r.name })),
      el("p", { text: r.message }),
      fieldMsgs.length ? el("ul", { class: "msg-warn" }, ...fieldMsgs.map((t) => el("li", { text: t }))) : null,
      el("p", { class: "case-meta", text: `Dicatat ${formatDateTimeWita(r.at)} · ditolak ${formatDateTimeWita(r.rejected_at)}` }),
      el("div", { class: "actions" },
        el("button", { type: "button", class: "primary", "aria-label": `Perbaiki data ${residentName}`, text: "Perbaiki", onclick: () => go(`#/perbaiki/${r.rid}`) }),
        el("button", { type: "button", class: "danger", "aria-label": `Abaikan data ${residentName}`, text: "Abaikan", onclick: () => onDismiss(r, residentName) })));
  });
  $("rejected-list").replaceChildren(...items);
  $("rejected-empty").hidden = items.length > 0;
}

async function onDismiss(rejected, residentName) {
  if (!window.confirm(`Abaikan ${STEPS[rejected.name]?.label.toLowerCase() || "data"} untuk ${residentName}? Isian ini akan dihapus dari HP dan tidak dikirim.`)) return;
  await db.dismissRejected(rejected.rid);
  await refresh();
}
