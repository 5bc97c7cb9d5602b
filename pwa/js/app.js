/**
 * The phone app's UI: login, the officer's work lists, registration and edit forms, the
 * "Perlu perbaikan" list, sync status and the update banner. The case screen and the SOP step
 * forms are in case-views.js. Data lives in db.js; sync (and photo uploads) run in
 * sync-client.js; every rule that can be tested without a browser lives in a pure module.
 */
import * as db from "./db.js";
import { SyncClient } from "./sync-client.js";
import { baseVersionOf, summarize } from "./outbox-rules.js";
import { holdsForeignWork } from "./sync-merge.js";
import { FREE_FIELDS, buildRegistration, buildUpdate, serverFieldMessages, todayIso } from "./resident-form.js";
import { checkKk, checkNik, messageFor } from "./identity-checks.js";
import {
  DISABILITY_LABELS, FIELD_LABELS, MARITAL_STATUS_LABELS, MUTATION_LABELS, SEX_LABELS,
  VULNERABLE_CATEGORY_LABELS, stageLabel,
} from "./labels.js";
import {
  ageInYears, eligibilityNote, formatAge, formatDate, formatDateTimeWita, formatNumber, isoWithOffset, maskNik,
} from "./format.js";
import { setupServiceWorker, shellVersion } from "./sw-update.js";
import { CASE_VIEWS, FORM_OF_MUTATION, formOpen, namesOf, openAction, openFix, setupCaseViews, showCase } from "./case-views.js";
import { WORK_LISTS, countLists, filterRecords, operationProgress, sortRecords } from "./work-lists.js";
import { AttachmentUploader } from "./attachment-upload.js";
import { attachmentSummary, rankOf } from "./pipeline.js";
import { formatBytes } from "./photo-sizing.js";

const APP_VERSION = "1.0.0";
const LIST_LIMIT = 200; // longer lists are searched, not scrolled
const LOW_SPACE_BYTES = 30 * 1024 * 1024;
const FORM_FIELDS = Object.keys(FIELD_LABELS);

const $ = (id) => document.getElementById(id);
const state = {
  session: null,
  residents: [],
  rejected: [],
  attachments: [],
  counts: { outbox: 0, rejected: 0, attachments: 0 },
  list: "all", // the work list shown on the home screen (work-lists.js)
  desa: "", // "" = every desa
  summary: null,
  form: null, // {mode: "new" | "edit", residentId, record, rid}
  lastResult: null,
  storage: { persisted: null, lowSpace: false, free: null },
  offlineReady: false,
  version: "",
  updater: null,
  waitingWorker: null,
};

const sync = new SyncClient({ store: db, appVersion: APP_VERSION, uploader: new AttachmentUploader({ store: db }) });

// ---------------------------------------------------------------- small DOM helpers
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c != null) node.append(c);
  return node;
}

function showView(id) {
  for (const v of ["loading", "view-login", "view-home", "view-form", "view-fix", ...CASE_VIEWS]) $(v).hidden = v !== id;
  window.scrollTo(0, 0);
}

function newUuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // Older WebViews: RFC 4122 version 4 from getRandomValues.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const kecamatanCode = () => state.session?.kecamatan?.code || "";
const desaName = (code) => state.session?.desa?.find((d) => d.code === code)?.name || code || "";
const assignedDesa = () => {
  const codes = new Set(state.session?.assigned_codes || []);
  return (state.session?.desa || []).filter((d) => codes.has(d.code));
};

// ---------------------------------------------------------------- data refresh
async function loadData() {
  const [session, residents, rejected, outbox, attachments] = await Promise.all([
    db.getSession(), db.listResidents(), db.listRejected(), db.getOutbox(), db.listAttachments(),
  ]);
  state.session = session;
  state.residents = residents;
  state.rejected = rejected;
  state.attachments = attachments;
  state.summary = summarize(outbox);
  state.counts = { outbox: outbox.length, rejected: rejected.length, attachments: attachments.length };
}

async function refresh() {
  await loadData();
  if (!$("view-home").hidden) renderHome();
  if (!$("view-fix").hidden) renderFix();
  renderCounters();
}

// ---------------------------------------------------------------- router
async function route() {
  if (!state.session?.token) return showLogin();
  const hash = window.location.hash || "#/";
  let m;
  if (hash === "#/daftar") return openForm({ mode: "new" });
  if ((m = /^#\/daftar\/([0-9a-f-]{36})$/.exec(hash))) return openListed(m[1]);
  if ((m = /^#\/warga\/([0-9a-f-]{36})$/.exec(hash))) return showCase(m[1]);
  if ((m = /^#\/warga\/([0-9a-f-]{36})\/([a-z-]+)$/.exec(hash)) && CASE_ROUTES[m[2]]) return openAction(CASE_ROUTES[m[2]], m[1]);
  if ((m = /^#\/jemput(?:\/([0-9a-f-]{36}))?$/.exec(hash))) return openAction("pickup", m[1] || null);
  if ((m = /^#\/serahkan-berkas(?:\/([0-9a-f-]{36}))?$/.exec(hash))) return openAction("handover", m[1] || null);
  if ((m = /^#\/ubah\/([0-9a-f-]{36})$/.exec(hash))) return openEdit(m[1]);
  if (hash === "#/perbaikan") return showFix();
  if ((m = /^#\/perbaiki\/(\d+)$/.exec(hash))) return openFixForm(Number(m[1]));
  return showHome();
}

// #/warga/<id>/<step> → form of case-views.js
const CASE_ROUTES = {
  verifikasi: "verify", tolak: "reject", rekam: "record", "batal-jemput": "cancel", "ambil-ktp": "collection", "serahkan-ktp": "deliver",
};

function go(hash) {
  if (window.location.hash === hash) route();
  else window.location.hash = hash;
}

// ---------------------------------------------------------------- login
function showLogin() {
  showView("view-login");
  const prev = state.session;
  const note = $("login-message");
  note.textContent = "";
  if (prev?.signed_out && prev.signed_out.reason !== "logout") {
    const pending = state.counts.outbox + state.counts.rejected + state.counts.attachments;
    note.textContent = `${prev.signed_out.message || "Sesi perangkat berakhir."} Silakan masuk lagi.` +
      (pending ? ` ${formatNumber(pending)} data yang belum terkirim tetap aman di HP ini dan akan dikirim setelah masuk.` : "");
  }
  if (prev?.user?.username && !$("login-username").value) $("login-username").value = prev.user.username;
  if (!$("login-device").value) $("login-device").value = "HP lapangan";
  $("foreign-work").hidden = true;
}

async function onLogin(event) {
  event.preventDefault();
  const username = $("login-username").value.trim();
  const password = $("login-password").value;
  const message = $("login-message");
  message.textContent = "";
  if (!username || !password) {
    message.textContent = "Isi nama pengguna dan kata sandi.";
    return;
  }
  const previous = await db.getSession();
  const counts = await db.getCounts();
  if (holdsForeignWork(previous, username, counts.outbox, counts.rejected)) {
    const owner = previous.user.full_name || previous.user.username;
    $("foreign-work-text").textContent = `HP ini masih menyimpan ${formatNumber(counts.outbox + counts.rejected)} data ` +
      `belum terkirim milik ${owner} (${previous.user.username}). Minta ${owner} masuk dan menyinkronkan dulu, ` +
      "atau unduh data itu sebelum menghapusnya.";
    $("foreign-work").hidden = false;
    return;
  }
  const button = $("login-button");
  button.disabled = true;
  button.textContent = "Sedang masuk…";
  try {
    let response;
    try {
      response = await fetchWithTimeout("/api/auth/device", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ username, password, device_label: $("login-device").value.trim() }),
      }, 30000);
    } catch {
      message.textContent = "Tidak ada sambungan ke server. Masuk hanya bisa saat ada sinyal internet.";
      return;
    }
    const body = await response.json().catch(() => null);
    if (response.status !== 201 || !body?.token) {
      message.textContent = body?.message || `Gagal masuk (kode ${response.status}).`;
      return;
    }
    await db.startSession(body);
    $("login-password").value = "";
    await loadData();
    requestPersistence();
    sync.resume();
    sync.start();
    go("#/");
    sync.flush("login");
  } finally {
    button.disabled = false;
    button.textContent = "Masuk";
  }
}

function fetchWithTimeout(url, options, ms) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  return fetch(url, { ...options, signal: controller.signal, cache: "no-store", credentials: "omit" })
    .finally(() => clearTimeout(timer));
}

async function onForeignClear() {
  if (!window.confirm("Hapus semua data petugas sebelumnya dari HP ini? Data yang belum terkirim akan hilang.")) return;
  await db.clearAll();
  await loadData();
  $("foreign-work").hidden = true;
  $("login-message").textContent = "Data petugas sebelumnya sudah dihapus. Silakan masuk.";
}

async function onLogout() {
  await loadData();
  const pending = state.counts.outbox + state.counts.rejected + state.counts.attachments;
  if (pending && !window.confirm(
    `Masih ada ${formatNumber(pending)} data belum terkirim. Data itu tetap disimpan di HP ini dan ` +
    `hanya bisa dikirim setelah ${state.session.user?.username} masuk lagi. Tetap keluar?`)) return;
  await sync.pause();
  sync.stop();
  try {
    const res = await fetchWithTimeout("/api/auth/device", {
      method: "DELETE", headers: { Authorization: `Bearer ${state.session.token}` },
    }, 15000);
    if (!res.ok && res.status !== 401) throw new Error(String(res.status));
  } catch {
    if (!window.confirm("Tidak bisa menghubungi server, jadi akses HP ini belum dicabut di server. Tetap keluar dari HP ini?")) {
      sync.resume();
      sync.start();
      return;
    }
  }
  await db.signOut({ keepData: pending > 0, reason: "logout" });
  await loadData();
  $("login-password").value = "";
  window.location.hash = "#/";
  showLogin();
}

// ---------------------------------------------------------------- home
function showHome() {
  showView("view-home");
  renderHome();
}

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
    return `Sinkron berhasil${parts.length ? `: ${parts.join(", ")}` : ""}. ${last}`;
  }
  return last;
}

function renderWarnings() {
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

function renderHome() {
  const s = state.session;
  $("officer").textContent = s ? `${s.user?.full_name || s.user?.username} · Kec. ${s.kecamatan?.name || ""} · ${assignedDesa().length} desa` : "";
  renderCounters();
  renderOperations();
  renderWorkLists();
  const all = state.residents;
  const matches = filterRecords(all, { list: state.list, desa: state.desa, query: $("search").value, desaName });
  const shown = matches.slice(0, LIST_LIMIT);
  $("case-list").replaceChildren(...shown.map(caseItem));
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
      v.warnings?.length ? el("span", { class: "badge", text: "Perlu dicek" }) : null),
    el("p", { class: "case-meta", text: meta.join(" · ") }),
    el("div", { class: "case-buttons" },
      el("button", { type: "button", class: "primary", "aria-label": `Buka ${v.name}`, text: "Buka", onclick: () => go(`#/warga/${record.resident_id}`) }),
      v.stage === "listed" ? null
        : el("button", { type: "button", "aria-label": `Ubah data ${v.name}`, text: "Ubah data", onclick: () => go(`#/ubah/${record.resident_id}`) })));
}

function setNotice(text) {
  $("notice").textContent = text;
}

// ---------------------------------------------------------------- sync UI
function onSyncProgress(event) {
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

async function onSyncFinished(event) {
  state.lastResult = event.detail;
  $("sync-progress").hidden = true;
  $("sync-button").disabled = false;
  await refresh();
  if (event.detail.status === "offline" && state.counts.outbox) {
    $("sync-status").textContent = `Tidak ada sinyal. ${formatNumber(state.counts.outbox)} data menunggu dan akan dikirim otomatis.`;
  }
}

async function onSignedOut() {
  await loadData();
  if ((!$("view-form").hidden || formOpen()) && !window.confirm("Sesi berakhir. Isian yang belum disimpan akan hilang. Lanjutkan?")) return;
  showLogin();
}

function onSyncButton() {
  if (!navigator.onLine) {
    $("sync-status").textContent = "Tidak ada sinyal. Data tetap di HP; sinkronkan saat ada sinyal.";
  }
  sync.flush("manual");
}

// ---------------------------------------------------------------- form
function fillSelect(select, table) {
  select.append(...Object.entries(table).map(([code, label]) => el("option", { value: code, text: label })));
}

function formControl(field) {
  return $(`f-${field}`);
}

function clearFormMessages() {
  for (const f of FORM_FIELDS) {
    $(`m-${f}`).textContent = "";
    formControl(f).removeAttribute("aria-invalid");
  }
  $("w-nik").replaceChildren();
  $("w-kk_number").replaceChildren();
  $("form-message").textContent = "";
  $("form-server-errors").hidden = true;
  $("form-server-errors").replaceChildren();
}

function openForm({ mode, values = {}, residentId = null, record = null, rid = null, serverError = null }) {
  state.form = { mode, residentId, record, rid };
  const form = $("resident-form");
  form.reset();
  clearFormMessages();
  const desa = formControl("desa_code");
  desa.replaceChildren(el("option", { value: "", text: "Pilih desa…" }), ...assignedDesa().map((d) => el("option", { value: d.code, text: d.name })));
  if (assignedDesa().length === 1 && mode === "new") desa.value = assignedDesa()[0].code;
  const editing = mode === "edit";
  $("form-title").textContent = rid ? "Perbaiki data yang ditolak" : editing ? "Ubah data warga" : "Daftarkan warga baru";
  $("save-button").textContent = editing ? "Simpan perubahan" : "Simpan";
  $("form-identity-note").hidden = !editing;
  for (const f of FORM_FIELDS) {
    const control = formControl(f);
    control.disabled = editing && !FREE_FIELDS.includes(f);
    const value = values[f];
    if (value != null) {
      if (f === "desa_code" && ![...desa.options].some((o) => o.value === value)) {
        desa.append(el("option", { value, text: desaName(value) }));
      }
      control.value = value;
    }
  }
  if (serverError) showServerError(serverError);
  formControl("birth_date").max = todayIso();
  runLiveChecks();
  showView("view-form");
  (editing ? formControl("phone") : formControl(desa.value ? "name" : "desa_code")).focus();
}

function showServerError(rejected) {
  const box = $("form-server-errors");
  box.replaceChildren(el("p", { text: `Ditolak server: ${rejected.message}` }));
  for (const [field, msg] of Object.entries(serverFieldMessages(rejected.fields))) {
    if (FIELD_LABELS[field] && $(`m-${field}`)) {
      $(`m-${field}`).textContent = msg;
      formControl(field).setAttribute("aria-invalid", "true");
    } else {
      box.append(el("p", { text: msg }));
    }
  }
  box.hidden = false;
}

async function openEdit(residentId) {
  const record = await db.getResident(residentId);
  if (!record) return go("#/");
  openForm({ mode: "edit", values: record.view, residentId, record });
}

/** A "Belum Ditemukan" resident found in the field: the registration form, prefilled, same id. */
async function openListed(residentId) {
  const record = await db.getResident(residentId);
  if (!record) return go("#/");
  const values = Object.fromEntries(Object.entries(record.view).filter(([k, v]) => FORM_FIELDS.includes(k) && v != null));
  openForm({ mode: "new", values, residentId });
}

async function openFixForm(rid) {
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

function formValues() {
  return Object.fromEntries(FORM_FIELDS.map((f) => [f, formControl(f).value]));
}

function runLiveChecks() {
  if (state.form?.mode === "edit") {
    $("age-note").textContent = "";
    return;
  }
  const v = formValues();
  const opts = { kecamatanCode: kecamatanCode() };
  const nik = checkNik(v.nik.trim() || null, { sex: v.sex || null, birthDate: v.birth_date || null, ...opts });
  const kk = checkKk(v.kk_number.trim() || null, opts);
  showChecks("nik", nik);
  showChecks("kk_number", kk);
  $("age-note").textContent = eligibilityNote(ageInYears(v.birth_date), v.marital_status);
}

function showChecks(field, { errors, warnings }) {
  const msg = (c) => messageFor(c, { kecamatanCode: kecamatanCode() });
  $(`m-${field}`).textContent = errors.map(msg).join(" ");
  if (errors.length) formControl(field).setAttribute("aria-invalid", "true");
  else formControl(field).removeAttribute("aria-invalid");
  $(`w-${field}`).replaceChildren(...warnings.map((c) => el("li", { text: msg(c) })));
}

function showFieldErrors(errors) {
  for (const f of FORM_FIELDS) {
    $(`m-${f}`).textContent = errors[f] || "";
    if (errors[f]) formControl(f).setAttribute("aria-invalid", "true");
    else formControl(f).removeAttribute("aria-invalid");
  }
  const first = FORM_FIELDS.find((f) => errors[f]);
  if (first) {
    $("form-message").textContent = "Periksa isian yang ditandai merah.";
    formControl(first).focus();
  }
}

async function onSave(event) {
  event.preventDefault();
  const form = state.form;
  if (!form) return;
  const values = formValues();
  let name;
  let args;
  if (form.mode === "new") {
    const built = buildRegistration(values, {
      residentId: form.residentId || newUuid(),
      kecamatanCode: kecamatanCode(),
      desaCodes: form.rid ? [] : assignedDesa().map((d) => d.code),
    });
    showFieldErrors(built.errors);
    if (Object.keys(built.errors).length) return;
    form.residentId = built.args.resident_id; // a second tap re-uses the same id
    name = "register_resident";
    args = built.args;
  } else {
    const built = buildUpdate(values, form.record.view);
    showFieldErrors(built.errors);
    if (Object.keys(built.errors).length) return;
    if (!Object.keys(built.fields).length) {
      $("form-message").textContent = "Tidak ada perubahan untuk disimpan.";
      return;
    }
    name = "update_resident";
    args = { resident_id: form.residentId, base_version: baseVersionOf(form.record), fields: built.fields };
  }
  const button = $("save-button");
  button.disabled = true;
  try {
    const at = isoWithOffset(new Date());
    if (form.rid) await db.resendRejected(form.rid, name, args, at);
    else await db.saveMutation(name, args, at);
  } catch (err) {
    $("form-message").textContent = `Gagal menyimpan di HP: ${err?.message || err}. Data belum tersimpan.`;
    return;
  } finally {
    button.disabled = false;
  }
  // Only now, after the transaction committed, does the officer read "Tersimpan".
  const who = name === "register_resident" ? args.name : form.record.view.name;
  state.form = null;
  await loadData();
  setNotice(`Tersimpan di HP: ${who}.`);
  go("#/");
  if (navigator.onLine) sync.flush("saved");
  checkStorage();
}

function onCancel() {
  state.form = null;
  go(window.location.hash.startsWith("#/perbaiki/") ? "#/perbaikan" : "#/");
}

// ---------------------------------------------------------------- perlu perbaikan
function showFix() {
  showView("view-fix");
  renderFix();
}

function renderFix() {
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

// ---------------------------------------------------------------- download, storage, network
async function downloadUnsent() {
  const data = await db.exportUnsent();
  if (!data.outbox.length && !data.perlu_perbaikan.length) {
    setNotice("Tidak ada data yang belum terkirim.");
    return;
  }
  const payload = { exported_at: isoWithOffset(new Date()), app_version: `${APP_VERSION}+${state.version}`, ...data };
  const blob = new Blob([JSON.stringify(payload, null, 1)], { type: "application/json" });
  const stamp = isoWithOffset(new Date()).slice(0, 16).replace(/[-:]/g, "").replace("T", "-");
  const a = el("a", { href: URL.createObjectURL(blob), download: `cah-belum-terkirim-${stamp}.json` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

async function requestPersistence() {
  try {
    if (!navigator.storage?.persist) return;
    state.storage.persisted = (await navigator.storage.persisted()) || (await navigator.storage.persist());
  } catch { /* not offered by this browser */ }
  renderAppStatus();
}

async function checkStorage() {
  try {
    if (!navigator.storage?.estimate) return;
    const { usage = 0, quota = 0 } = await navigator.storage.estimate();
    state.storage.free = quota - usage;
    state.storage.lowSpace = quota > 0 && (quota - usage < LOW_SPACE_BYTES || usage / quota > 0.9);
    if (state.storage.persisted === null && navigator.storage.persisted) state.storage.persisted = await navigator.storage.persisted();
  } catch { /* estimates are best effort */ }
  renderWarnings();
  renderAppStatus();
}

function renderAppStatus() {
  const parts = [state.offlineReady ? "Siap dipakai tanpa sinyal" : "Menyiapkan mode tanpa sinyal…"];
  if (state.storage.persisted === true) parts.push("penyimpanan permanen aktif");
  if (state.storage.persisted === false) parts.push("penyimpanan permanen belum diizinkan browser");
  parts.push(`versi ${APP_VERSION}${state.version ? `+${state.version.slice(0, 8)}` : ""}`);
  $("app-status").textContent = parts.join(" · ");
}

function renderNet() {
  const online = navigator.onLine;
  const net = $("net-status");
  net.textContent = online ? "Ada sinyal" : "Tanpa sinyal";
  net.classList.toggle("offline", !online);
}

// ---------------------------------------------------------------- updates
function onUpdateWaiting(worker) {
  state.waitingWorker = worker;
  $("update-banner").hidden = false;
}

async function applyUpdate() {
  if (!state.waitingWorker || !state.updater) return;
  if ((!$("view-form").hidden || formOpen()) && !window.confirm("Isian yang belum disimpan akan hilang saat aplikasi diperbarui. Lanjutkan?")) return;
  if (sync.running) {
    $("sync-status").textContent = "Pembaruan menunggu sinkronisasi selesai…";
    $("update-button").disabled = true;
  }
  await sync.pause(); // never swap the app in the middle of a sync
  state.updater.apply(state.waitingWorker);
}

// ---------------------------------------------------------------- start
async function init() {
  fillSelect(formControl("sex"), SEX_LABELS);
  fillSelect(formControl("marital_status"), MARITAL_STATUS_LABELS);
  fillSelect(formControl("vulnerable_category"), VULNERABLE_CATEGORY_LABELS);
  fillSelect(formControl("disability"), DISABILITY_LABELS);
  $("login-form").addEventListener("submit", onLogin);
  $("foreign-download").addEventListener("click", downloadUnsent);
  $("foreign-clear").addEventListener("click", onForeignClear);
  $("resident-form").addEventListener("submit", onSave);
  $("resident-form").addEventListener("input", runLiveChecks);
  $("resident-form").addEventListener("change", runLiveChecks);
  $("cancel-button").addEventListener("click", onCancel);
  $("new-button").addEventListener("click", () => { setNotice(""); go("#/daftar"); });
  $("fix-button").addEventListener("click", () => go("#/perbaikan"));
  $("fix-back-button").addEventListener("click", () => go("#/"));
  $("sync-button").addEventListener("click", onSyncButton);
  $("download-button").addEventListener("click", downloadUnsent);
  $("logout-button").addEventListener("click", onLogout);
  $("update-button").addEventListener("click", applyUpdate);
  $("search").addEventListener("input", renderHome);
  $("desa-filter").addEventListener("change", () => { state.desa = $("desa-filter").value; renderHome(); });
  $("pickup-many-button").addEventListener("click", () => go("#/jemput"));
  $("handover-many-button").addEventListener("click", () => go("#/serahkan-berkas"));
  setupCaseViews({
    state, db, sync, el, go, showView, setNotice, loadData, desaName, newUuid, isoWithOffset, sortRecords,
  });
  window.addEventListener("hashchange", route);
  window.addEventListener("online", () => { renderNet(); state.updater?.check(); });
  window.addEventListener("offline", renderNet);
  sync.addEventListener("progress", onSyncProgress);
  sync.addEventListener("changed", refresh);
  sync.addEventListener("finished", onSyncFinished);
  sync.addEventListener("signed-out", onSignedOut);
  renderNet();

  try {
    await loadData();
  } catch (err) {
    $("loading").textContent = `Penyimpanan HP tidak bisa dibuka: ${err?.message || err}`;
    return;
  }
  await route();
  renderAppStatus();
  if (state.session?.token) {
    sync.start();
    requestPersistence();
  }
  checkStorage();
  state.version = await shellVersion().catch(() => "");
  sync.appVersion = `${APP_VERSION}+${state.version.slice(0, 12)}`;
  try {
    state.updater = await setupServiceWorker({
      onReady: async () => {
        state.offlineReady = true;
        state.version = await shellVersion().catch(() => state.version);
        sync.appVersion = `${APP_VERSION}+${state.version.slice(0, 12)}`;
        document.documentElement.dataset.offlineReady = "true";
        renderAppStatus();
      },
      onUpdateWaiting,
    });
  } catch (err) {
    console.warn("service worker not registered", err);
  }
}

init();
