/**
 * The card delivery form: owner or proxy, the signature pad, a photo and GPS.
 */
import { buildDelivery, gpsFromPosition } from "./case-forms.js";
import { setStepTime, stepTimeValue } from "./date-input.js";
import { SignaturePad, signatureProblem } from "./signature-pad.js";
import { checkStepOrder } from "./step-order.js";
import { decodeSignature, encodeSignature } from "./signature-codec.js";
import { clearErrors, current, defineForm, nameOf, openForm, photoField, save, showErrors, whoLine } from "./case-form-kit.js";
import { $, draftChanged, go, newUuid, record } from "./app-shell.js";

let pad = null;
let photo = null; // the photo field of the delivery

function signatureStatus() {
  const n = pad.points;
  $("signature-status").textContent = n
    ? `Tanda tangan: ${pad.strokes.length} goresan, ${n} titik.`
    : "Belum ada tanda tangan.";
  if (n) $("m-d-signature").textContent = "";
  draftChanged();
}

function syncProxyFields() {
  $("d-proxy-fields").hidden = !$("d-proxy").checked;
}

function askGps() {
  if (!navigator.geolocation) {
    $("d-gps-status").textContent = "HP ini tidak bisa memberi lokasi. Penyerahan tetap bisa disimpan.";
    return;
  }
  const open = current;
  $("d-gps-status").textContent = "Mengambil lokasi…";
  navigator.geolocation.getCurrentPosition((position) => {
    if (current !== open) return;
    open.gps = gpsFromPosition(position);
    $("d-gps-status").textContent = open.gps
      ? `Lokasi: ${open.gps.lat}, ${open.gps.lon}${open.gps.accuracy_m != null ? ` (±${open.gps.accuracy_m} m)` : ""}.`
      : "Lokasi tidak terbaca.";
  }, (err) => {
    if (current !== open) return;
    const why = err?.code === 1 ? "izin lokasi ditolak" : err?.code === 3 ? "waktu habis" : "lokasi tidak tersedia";
    $("d-gps-status").textContent = `Lokasi tidak diambil (${why}). Penyerahan tetap bisa disimpan tanpa GPS.`;
  }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
}

/** The delivery form (asks for GPS at once only when location was allowed before). */
async function openDeliver(residentId, rejected = null) {
  if (!record(residentId)) return go("#/");
  const a = rejected?.args || {};
  openForm("deliver", { residentId, rid: rejected?.rid ?? null, rejected, deliveryId: a.delivery_id || newUuid(), gps: a.gps || null });
  $("deliver-who").textContent = whoLine(residentId);
  $(a.recipient === "proxy" ? "d-proxy" : "d-owner").checked = true;
  $("d-proxy_name").value = a.proxy_name || "";
  $("d-proxy_relation").value = a.proxy_relation || "";
  setStepTime("d-delivered_at", a.delivered_at);
  syncProxyFields();
  photo.reset(a.photo || null);
  pad.reset(); // measured now that the view is visible
  if (a.signature?.data) {
    try { pad.load(decodeSignature(a.signature.data)); } catch { /* draw again */ }
  }
  $("d-gps-status").textContent = current.gps
    ? `Lokasi: ${current.gps.lat}, ${current.gps.lon}.`
    : "Lokasi belum diambil (boleh dilewati).";
  // Ask at once only when the officer allowed location before; otherwise the button asks.
  try {
    const perm = await navigator.permissions?.query({ name: "geolocation" });
    if (perm?.state === "granted" && !current?.gps && current?.kind === "deliver") askGps();
  } catch { /* the Permissions API is optional */ }
}

/** Save a delivery with its signature, photo and GPS. */
async function submitDeliver(event) {
  event.preventDefault();
  if (current?.kind !== "deliver") return;
  clearErrors("deliver");
  const open = current;
  const problem = signatureProblem(pad.strokes);
  let signature = null;
  if (!problem) {
    try {
      signature = await encodeSignature(pad.toSignature());
    } catch (err) {
      $("m-d-signature").textContent = err.message;
      return;
    }
  }
  const taken = await photo.value();
  const built = buildDelivery({
    recipient: $("d-proxy").checked ? "proxy" : $("d-owner").checked ? "owner" : "",
    proxy_name: $("d-proxy_name").value, proxy_relation: $("d-proxy_relation").value,
    delivered_at: stepTimeValue("d-delivered_at"), signature, signature_problem: problem,
    photo: taken.sha, gps: open.gps,
  }, { residentId: open.residentId, deliveryId: open.deliveryId });
  checkStepOrder("deliver_card", [record(open.residentId)?.view], built, "delivered_at");
  if (!showErrors("deliver", built.errors)) return;
  await save("deliver", "deliver_card", built.args, taken.attachments, nameOf(open.residentId));
}

/** Wire the signature pad, photo, GPS and recipient controls once. */
export function setupDelivery() {
  pad = new SignaturePad($("signature-pad"), { onChange: signatureStatus });
  photo = photoField("d", "delivery_photo");
  $("signature-undo").addEventListener("click", () => pad.undo());
  $("signature-clear").addEventListener("click", () => pad.clear());
  $("d-gps-button").addEventListener("click", askGps);
  $("d-owner").addEventListener("change", syncProxyFields);
  $("d-proxy").addEventListener("change", syncProxyFields);
}

// The draft keeps the signature's strokes (drawn again at the pad's size when restored).
defineForm("deliver", "d", openDeliver, submitDeliver, {
  marks: () => ({ signature: pad.points }),
  extra: () => ({ signature: pad.toSignature() }),
  restore: (d) => d.signature?.strokes.length && pad.load(d.signature),
});
