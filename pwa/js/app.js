/**
 * The phone app's entry: the hash router and the start (wiring every screen, loading the data,
 * the service worker). The screens are in their own modules: app-shell.js (shared state and
 * helpers), session-view.js (login/logout), home-view.js (work lists, sync status),
 * resident-form-view.js (registration and edit), fix-view.js ("Perlu perbaikan"), app-status.js
 * (storage, network, updates) and case-views.js (the case screen and the SOP step forms). Data
 * lives in db.js; sync (and photo uploads) run in sync-client.js; every rule that can be tested
 * without a browser lives in a pure module.
 */
import * as db from "./db.js";
import { DISABILITY_LABELS, MARITAL_STATUS_LABELS, SEX_LABELS, VULNERABLE_CATEGORY_LABELS } from "./labels.js";
import { isoWithOffset } from "./format.js";
import { setupServiceWorker, shellVersion } from "./sw-update.js";
import { openAction, setupCaseViews, showCase } from "./case-views.js";
import { sortRecords } from "./work-lists.js";
import {
  $, APP_VERSION, desaName, el, go, loadData, newUuid, setNotice, setRouter, showView, state, sync,
} from "./app-shell.js";
import { onForeignClear, onLogin, onLogout, onSignedOut, showLogin } from "./session-view.js";
import { onSyncButton, onSyncFinished, onSyncProgress, refresh, renderHome, showHome } from "./home-view.js";
import { fillSelect, formControl, onCancel, onSave, openEdit, openForm, openListed, runLiveChecks } from "./resident-form-view.js";
import { openFixForm, showFix } from "./fix-view.js";
import {
  applyUpdate, checkStorage, downloadUnsent, onUpdateWaiting, renderAppStatus, renderNet, requestPersistence,
} from "./app-status.js";

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

// ---------------------------------------------------------------- start
async function init() {
  setRouter(route);
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
