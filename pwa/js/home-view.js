/**
 * The home screen: the officer's work lists and cases, operations, counters, warnings and the
 * sync status line with its progress bar.
 */
import { attachmentSummary, hashOf, offered, rankOf } from "./pipeline.js";
import { READY_LIST, WORK_LISTS, cardReady, countLists, filterRecords, operationProgress, readyByBatch } from "./work-lists.js";
import { stageLabel } from "./labels.js";
import { formatAge, formatDate, formatDateTimeWita, formatNumber, maskNik } from "./format.js";
import { formatBytes } from "./photo-sizing.js";
import { $, assignedDesa, desaName, el, go, refresh, showView, state, sync } from "./app-shell.js";
import { renderNotices } from "./case-screen.js";

const LIST_LIMIT = 200; // longer lists are searched, not scrolled

/** Redraw after a change notice: the whole screen when shown, else the counters. */
export function redrawHome() {
  if (!$("view-home").hidden) renderHome();
  else renderCounters();
}

/** The home screen. */
export function showHome() {
  showView("view-home");
  renderHome();
}

/** Unsent, rejected and photo counters, the idle sync line and the warnings. */
function renderCounters() {
  $("outbox-count").textContent = String(state.counts.outbox);
  $("rejected-count").textContent = String(state.counts.rejected);
  const photos = attachmentSummary(state.attachments);
  $("photo-queue").hidden = photos.count === 0;
  $("photo-count").textContent = String(photos.count);
  $("photo-bytes").textContent = photos.count
    ? `(${formatBytes(photos.bytes)}${photos.waiting ? `; ${photos.waiting} menunggu sinkron data` : ""}${photos.failed ? `; ${photos.failed} ditolak server` : ""})`
    : "";
  const s = state.summary;
  const age = s?.count ? formatAge(s.ageMs) : "";
  $("outbox-age").textContent = !age ? "" : age === "baru saja" ? "(baru saja)" : `(sejak ${age} lalu)`;
  if (!sync.running) $("sync-status").textContent = idleSyncText();
  renderWarnings();
  renderNotices($("home-notices"));
}

function idleSyncText() {
  const session = state.session;
  const last = session?.last_sync_at ? `Terakhir sinkron: ${formatDateTimeWita(session.last_sync_at)}.` : "Belum pernah sinkron.";
  const r = state.lastResult;
  if (session?.last_sync_error) return `Sinkronisasi gagal: ${session.last_sync_error.message} ${last}`;
  if (r?.status === "ok") {
    const parts = [];
    if (r.done) parts.push(`${formatNumber(r.done)} data terkirim`);
    if (r.rejected) parts.push(`${formatNumber(r.rejected)} perlu perbaikan`);
    if (r.received) parts.push(`${formatNumber(r.received)} data warga diperbarui`);
    // A conflict the officer's change lost is no plain success (notices.js).
    const n = state.session?.notices?.length;
    if (n) parts.unshift(`${formatNumber(n)} pemberitahuan konflik`);
    return `Sinkron ${n ? "selesai" : "berhasil"}${parts.length ? `${n ? "," : ":"} ${parts.join(", ")}` : ""}. ${last}`;
  }
  return last;
}

/** The warnings above the list (stale outbox, low space, clock skew, rejections). */
export function renderWarnings() {
  const list = $("home-warnings");
  list.replaceChildren();
  const add = (text) => list.append(el("li", { text }));
  if (state.summary?.stale) add("Ada data belum terkirim lebih dari 1 hari. Segera sinkronkan saat ada sinyal.");
  if (state.storage.lowSpace) add(`Ruang penyimpanan HP hampir penuh (sisa ${formatNumber(Math.floor(state.storage.free / 1048576))} MB). Sinkronkan dan kosongkan ruang.`);
  if (state.session?.clock_skew_flagged) add("Jam HP berbeda lebih dari 10 menit dari jam server. Periksa pengaturan tanggal dan jam HP.");
  if (state.counts.rejected) add(`${formatNumber(state.counts.rejected)} data ditolak server dan perlu diperbaiki.`);
}

function renderOperations() {
  const ops = operationProgress(state.session?.operations, state.residents, rankOf);
  $("operations").hidden = ops.length === 0;
  $("operations-list").replaceChildren(...ops.map((op) => {
    const period = [formatDate(op.start_date), formatDate(op.end_date)].filter(Boolean).join(" – ");
    return el("li", {},
      el("p", { class: "op-name", text: op.name }),
      period ? el("p", { class: "hint", text: `Periode ${period}` }) : null,
      el("ul", { class: "op-desa" }, ...op.desa.map((d) => el("li", {
        text: `Desa ${d.name || desaName(String(d.code))}: target ${formatNumber(d.target ?? 0)} warga, ` +
          `${formatNumber(d.done)} KTP sudah diserahkan (menurut HP ini)`,
      }))));
  }));
}

function renderWorkLists() {
  const select = $("desa-filter");
  const desa = assignedDesa();
  if (select.options.length !== desa.length + 1) {
    select.replaceChildren(el("option", { value: "", text: "Semua desa" }), ...desa.map((d) => el("option", { value: d.code, text: d.name })));
  }
  if (state.desa && !desa.some((d) => d.code === state.desa)) state.desa = "";
  select.value = state.desa;
  const counts = countLists(state.residents, state.desa);
  $("worklists").replaceChildren(...WORK_LISTS.map((l) => el("button", {
    type: "button", class: "worklist", "data-list": l.code, "aria-pressed": String(state.list === l.code),
    onclick: () => { state.list = l.code; renderHome(); },
  }, el("span", { text: l.label }), " ", el("span", { class: "count", text: formatNumber(counts[l.code]) }))));
  $("pickup-many-button").hidden = counts.pickup === 0;
  $("handover-many-button").hidden = counts.handover === 0;
}

/** "KTP siap diambil: n" (the cards Disdukcapil printed, every desa on the phone); hidden at 0.
 * Returns n. */
function renderReady() {
  const n = state.residents.filter(cardReady).length;
  if (!n && state.list === READY_LIST) state.list = "all";
  const button = $("ready-cards");
  button.hidden = n === 0;
  button.textContent = `KTP siap diambil: ${formatNumber(n)}`;
  button.setAttribute("aria-pressed", String(state.list === READY_LIST));
  // Every desa: the count covers them all, so the list does too.
  button.onclick = () => { state.list = READY_LIST; state.desa = ""; renderHome(); };
  return n;
}

/** The ready list: one group per berita acara, with the button to record its collection. */
function readyGroups(records) {
  return readyByBatch(records).map((g) => el("li", { class: "batch-group" },
    el("h2", { text: g.number ? `Berita acara ${g.number}` : "Berkas belum bernomor di HP ini (sinkronkan)" }),
    el("p", { class: "hint", text: `${formatNumber(g.records.length)} KTP siap diambil di Disdukcapil` }),
    el("button", { type: "button", class: "primary", text: "Catat pengambilan KTP", onclick: () => go(hashOf("record_collection", g.records[0].resident_id)) }),
    el("ul", { class: "cases" }, ...g.records.map(caseItem))));
}

/** The whole home screen from state (also on search input and list switches). */
export function renderHome() {
  const s = state.session;
  $("officer").textContent = s ? `${s.user?.full_name || s.user?.username} · Kec. ${s.kecamatan?.name || ""} · ${assignedDesa().length} desa` : "";
  renderCounters();
  renderOperations();
  renderReady();
  renderWorkLists();
  const all = state.residents;
  const matches = filterRecords(all, { list: state.list, desa: state.desa, query: $("search").value, desaName });
  const shown = matches.slice(0, LIST_LIMIT);
  $("case-list").replaceChildren(...(state.list === READY_LIST ? readyGroups(shown) : shown.map(caseItem)));
  $("case-empty").hidden = matches.length > 0;
  $("case-empty").textContent = all.length ? "Tidak ada warga di daftar ini." : "Belum ada warga di HP ini.";
  $("case-total").textContent = matches.length > shown.length
    ? `Menampilkan ${formatNumber(shown.length)} dari ${formatNumber(matches.length)} warga. Ketik nama untuk mencari.`
    : `${formatNumber(matches.length)} warga`;
}

function caseItem(record) {
  const v = record.view;
  const meta = [`Desa ${desaName(v.desa_code)}`];
  if (v.nik) meta.push(`NIK ${maskNik(v.nik)}`);
  if (v.birth_date) meta.push(`lahir ${formatDate(v.birth_date)}`);
  return el("li", { class: "case" },
    el("div", { class: "case-head" },
      el("span", { class: "case-name", text: v.name }),
      el("span", { class: `stage s-${v.stage}`, text: stageLabel(v.stage) }),
      record.pending ? el("span", { class: "badge", text: "Belum terkirim" }) : null,
      cardReady(record) ? el("span", { class: "badge ready", text: "KTP siap diambil" }) : null,
      v.warnings?.length ? el("span", { class: "badge", text: "Perlu dicek" }) : null),
    el("p", { class: "case-meta", text: meta.join(" · ") }),
    el("div", { class: "case-buttons" },
      el("button", { type: "button", class: "primary", "aria-label": `Buka ${v.name}`, text: "Buka", onclick: () => go(`#/warga/${record.resident_id}`) }),
      offered("update_resident", v.stage)
        ? el("button", { type: "button", "aria-label": `Ubah data ${v.name}`, text: "Ubah data", onclick: () => go(hashOf("update_resident", record.resident_id)) })
        : null));
}

// ---------------------------------------------------------------- sync UI
/** Sync progress event: n of m records, or photo bytes, and the progress bar. */
export function onSyncProgress(event) {
  const { phase, done, total, received } = event.detail;
  const bar = $("sync-progress");
  bar.hidden = false;
  if (phase === "upload") {
    const { bytesDone, bytesTotal, files, filesDone } = event.detail;
    bar.max = Math.max(bytesTotal, 1);
    bar.value = Math.min(bytesDone, bar.max);
    $("sync-status").textContent = `Mengunggah foto ${formatNumber(Math.min(filesDone + 1, files))} dari ${formatNumber(files)}: ` +
      `${formatBytes(bytesDone)} dari ${formatBytes(bytesTotal)}…`;
    $("sync-button").disabled = true;
    return;
  }
  bar.max = Math.max(total, 1);
  bar.value = Math.min(done, bar.max);
  $("sync-status").textContent = total === 0 || (phase === "pull" && received)
    ? `Mengambil data dari server${received ? `: ${formatNumber(received)} warga diterima` : ""}…`
    : `Menyinkronkan: ${formatNumber(done)} dari ${formatNumber(total)} data terkirim…`;
  $("sync-button").disabled = true;
}

/** Sync finished event: keep the result and redraw. */
export async function onSyncFinished(event) {
  state.lastResult = event.detail;
  $("sync-progress").hidden = true;
  $("sync-button").disabled = false;
  await refresh();
  const { status, retryInMs } = event.detail;
  if (status === "offline" && retryInMs) {
    $("sync-status").textContent = `Sinyal terputus, mencoba lagi dalam ${formatNumber(Math.ceil(retryInMs / 1000))} detik.${state.counts.outbox ? ` ${formatNumber(state.counts.outbox)} data menunggu.` : ""}`;
  } else if (status === "offline" && state.counts.outbox) {
    $("sync-status").textContent = `Tidak ada sinyal. ${formatNumber(state.counts.outbox)} data menunggu dan akan dikirim otomatis.`;
  }
}

/** "Sinkronkan sekarang". */
export function onSyncButton() {
  if (!navigator.onLine) {
    $("sync-status").textContent = "Tidak ada sinyal. Data tetap di HP; sinkronkan saat ada sinyal.";
  }
  sync.flush("manual");
}
