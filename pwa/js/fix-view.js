/**
 * "Perlu perbaikan": the records the server rejected, fixing one in its own form (the resident
 * form, or a step form of case-views.js) and dismissing one.
 */
import * as db from "./db.js";
import { serverFieldMessages } from "./resident-form.js";
import { FIELD_LABELS, MUTATION_LABELS } from "./labels.js";
import { formatDateTimeWita } from "./format.js";
import { FORM_OF_MUTATION, namesOf, openFix } from "./case-views.js";
import { $, el, go, loadData, showView, state } from "./app-shell.js";
import { refresh } from "./home-view.js";
import { openForm } from "./resident-form-view.js";

/** The "Perlu perbaikan" screen. */
export function showFix() {
  showView("view-fix");
  renderFix();
}

/** The list of rejected records with their server messages. */
export function renderFix() {
  const items = state.rejected.map((r) => {
    const residentName = r.args?.name || namesOf(r);
    const fieldMsgs = Object.entries(serverFieldMessages(r.fields))
      .filter(([, m]) => m !== r.message) // the headline already says it
      .map(([f, m]) => `${FIELD_LABELS[f] || f}: ${m}`);
    return el("li", {},
      el("div", { class: "case-head" },
        el("span", { class: "case-name", text: residentName }),
        el("span", { class: "stage s-rejected", text: MUTATION_LABELS[r.name] || r.name })),
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
  if (!window.confirm(`Abaikan ${MUTATION_LABELS[rejected.name]?.toLowerCase() || "data"} untuk ${residentName}? Isian ini akan dihapus dari HP dan tidak dikirim.`)) return;
  await db.dismissRejected(rejected.rid);
  await refresh();
}

/** Open the form that fixes rejected record rid (the resident form or a step form). */
export async function openFixForm(rid) {
  const rejected = await db.getRejected(rid);
  if (!rejected) return go("#/perbaikan");
  if (FORM_OF_MUTATION[rejected.name]) {
    await loadData();
    return openFix(rejected);
  }
  if (rejected.name === "register_resident") {
    openForm({ mode: "new", values: rejected.args, residentId: rejected.args.resident_id, rid, serverError: rejected });
    return;
  }
  const record = await db.getResident(rejected.resident_id);
  if (!record) {
    window.alert("Data warga ini tidak ada lagi di HP (mungkin bukan wilayah tugas Anda lagi). Pilih Abaikan.");
    return go("#/perbaikan");
  }
  openForm({ mode: "edit", values: { ...record.view, ...rejected.args.fields }, residentId: record.resident_id, record, rid, serverError: rejected });
}
