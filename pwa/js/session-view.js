/**
 * Login, logout and the end of a session: the login screen (with the guard against wiping
 * another officer's unsent data), signing in at /api/auth/device, logging out, and what the page
 * does when the server ends the session.
 */
import * as db from "./db.js";
import { holdsForeignWork } from "./sync-merge.js";
import { formatNumber } from "./format.js";
import { resumeHash } from "./drafts.js";
import { $, go, loadData, showView, state, suspendDraft, sync } from "./app-shell.js";
import { requestPersistence } from "./app-status.js";

/** The login screen, with why the session ended when it was not a logout. */
export function showLogin() {
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

/** Submit of the login form: sign in online, start the session and the sync. */
export async function onLogin(event) {
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
    // Back to a form the server's sign-out interrupted: it offers what was typed.
    go(resumeHash(await db.listDrafts(), state.session?.user?.username));
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

/** Wipe the previous officer's data from the phone (after a confirm). */
export async function onForeignClear() {
  if (!window.confirm("Hapus semua data petugas sebelumnya dari HP ini? Data yang belum terkirim akan hilang.")) return;
  await db.clearAll();
  await loadData();
  $("foreign-work").hidden = true;
  $("login-message").textContent = "Data petugas sebelumnya sudah dihapus. Silakan masuk.";
}

/** Log out: revoke the token on the server; unsent data is kept on the phone. */
export async function onLogout() {
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

/** The sync client lost the session (401/403): back to the login screen; an open form's input
 * stays as a draft of this officer and is offered again after the next login. */
export async function onSignedOut() {
  await loadData();
  const kept = await suspendDraft();
  showLogin();
  if (kept) $("login-message").textContent += " Isian yang belum disimpan tetap ada di HP dan dibuka lagi setelah Anda masuk.";
}
