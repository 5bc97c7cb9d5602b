/**
 * The phone app's entry: the hash router and the start (wiring every screen, loading the data,
 * the service worker). The screens are in their own modules: app-shell.js (shared state and
 * helpers), session-view.js (login/logout), home-view.js (work lists, sync status),
 * resident-form-view.js (registration and edit), fix-view.js ("Perlu perbaikan"), app-status.js
 * (storage, network, the service worker and updates), case-screen.js (a case) and case-views.js
 * (the SOP step forms). Data lives in db.js; sync (and photo uploads) run in sync-client.js;
 * every rule that can be tested without a browser lives in a pure module (the steps: pipeline.js).
 */
import { DISABILITY_LABELS, MARITAL_STATUS_LABELS, SEX_LABELS, VULNERABLE_CATEGORY_LABELS } from "./labels.js";
import { STEPS, hashOf } from "./pipeline.js";
import { openFix, openStep, setupCaseViews } from "./case-views.js";
import { showCase } from "./case-screen.js";
import {
  $, APP_VERSION, fillOptions, go, loadData, navigate, onChanged, refresh, setNotice, setRouter, state, sync,
} from "./app-shell.js";
import { onForeignClear, onLogin, onLogout, onSignedOut, showLogin } from "./session-view.js";
import { onSyncButton, onSyncFinished, onSyncProgress, redrawHome, renderHome, showHome } from "./home-view.js";
import { formControl, onCancel, onSave, openForm, runLiveChecks } from "./resident-form-view.js";
import { redrawFix, showFix } from "./fix-view.js";
import { wireDates } from "./date-input.js";
import {
  applyUpdate, checkStorage, downloadUnsent, onUpdateWaiting, renderAppStatus, renderNet, requestPersistence,
  setupServiceWorker, shellVersion,
} from "./app-status.js";

// ---------------------------------------------------------------- router
async function route() {
  if (!state.session?.token) return showLogin();
  const hash = window.location.hash || "#/";
  let m;
  if (hash === "#/daftar") return openForm({ mode: "new" });
  if ((m = /^#\/warga\/([0-9a-f-]{36})$/.exec(hash))) return showCase(m[1]);
  if (hash === "#/perbaikan") return showFix();
  if ((m = /^#\/perbaiki\/(\d+)$/.exec(hash))) return openFix(Number(m[1]));
  for (const [name, pattern] of STEP_ROUTES) if ((m = pattern.exec(hash))) return openStep(name, m[1] || null);
  return showHome();
}

// Each step's route (pipeline.js) as a pattern: the first step of a shared route opens its
// form; a group form also opens without a resident.
const STEP_ROUTES = Object.entries(STEPS).map(([name, { route, group }]) => {
  const id = "/([0-9a-f-]{36})";
  return [name, new RegExp(`^${route.replace("/{id}", group ? `(?:${id})?` : id)}$`)];
});

// ---------------------------------------------------------------- start
async function init() {
  setRouter(route);
  wireDates();
  fillOptions(formControl("sex"), SEX_LABELS);
  fillOptions(formControl("marital_status"), MARITAL_STATUS_LABELS);
  fillOptions(formControl("vulnerable_category"), VULNERABLE_CATEGORY_LABELS);
  fillOptions(formControl("disability"), DISABILITY_LABELS);
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
  $("pickup-many-button").addEventListener("click", () => go(hashOf("pick_up")));
  $("handover-many-button").addEventListener("click", () => go(hashOf("handover_batch")));
  setupCaseViews();
  onChanged(redrawHome);
  onChanged(redrawFix);
  window.addEventListener("hashchange", navigate);
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
