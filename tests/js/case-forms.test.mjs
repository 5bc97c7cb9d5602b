import { test } from "node:test";
import assert from "node:assert/strict";
import {
  buildCancelPickup, buildCollection, buildDelivery, buildHandover, buildPickup, buildRecording, buildReject, buildVerify,
  gpsFromPosition, localDateTime, toLocalInput,
} from "../../pwa/js/case-forms.js";

const RID = "00000000-0000-4000-8000-000000000001";
const SHA = "a".repeat(64);
const NOW = new Date(2026, 10, 28, 10, 0, 0); // device clock, 28/11/2026 10.00

test("datetime-local values become ISO 8601 with the device offset; future and garbage refused", () => {
  const errors = {};
  const iso = localDateTime("2026-11-28T09:15", errors, "t", NOW);
  assert.match(iso, /^2026-11-28T09:15:00[+-]\d{2}:\d{2}$/);
  assert.deepEqual(errors, {});
  const e2 = {};
  assert.equal(localDateTime("2026-11-28T12:00", e2, "t", NOW), null);
  assert.equal(e2.t, "Waktu tidak boleh di masa depan.");
  const e3 = {};
  localDateTime("", e3, "t", NOW);
  assert.equal(e3.t, "Wajib diisi.");
  const e4 = {};
  localDateTime("2026-02-30T10:00", e4, "t", NOW);
  assert.equal(e4.t, "Waktu tidak valid.");
  assert.equal(toLocalInput(NOW), "2026-11-28T10:00");
});

test("verify: the KK copy must be seen or photographed; one eligibility check must hold", () => {
  const ok = buildVerify({ kk_copy_seen: true, age_eligible: true, notes: "  ok " }, { residentId: RID });
  assert.deepEqual(ok.errors, {});
  assert.deepEqual(ok.args, { resident_id: RID, checks: { kk_copy_seen: true, age_eligible: true, marital_eligible: false }, kk_photo: null, notes: "ok" });
  assert.deepEqual(buildVerify({ kk_photo: SHA, marital_eligible: true }, { residentId: RID }).errors, {}, "a photo is evidence too");
  const none = buildVerify({ age_eligible: true }, { residentId: RID });
  assert.match(none.errors.kk_copy_seen, /Fotokopi KK/);
  const ineligible = buildVerify({ kk_copy_seen: true }, { residentId: RID });
  assert.match(ineligible.errors.age_eligible, /Belum memenuhi syarat/);
});

test("reject: reason required; text required for other", () => {
  assert.equal(buildReject({}, { residentId: RID }).errors.reason, "Silakan pilih.");
  assert.deepEqual(buildReject({ reason: "deceased" }, { residentId: RID }).args, { resident_id: RID, reason: "deceased", reason_text: null });
  assert.equal(buildReject({ reason: "other" }, { residentId: RID }).errors.reason_text, "Wajib diisi.");
  assert.equal(buildReject({ reason: "bogus" }, { residentId: RID }).errors.reason, "Pilihan tidak valid.");
});

test("pick-up: one to fifty residents, time, point and vehicle", () => {
  const ok = buildPickup({ resident_ids: [RID, RID], picked_up_at: "2026-11-28T08:00", pickup_point: "Balai desa", vehicle: "Mobil dinas" },
    { pickupId: "p1", now: NOW });
  assert.deepEqual(ok.errors, {});
  assert.deepEqual(ok.args.resident_ids, [RID]);
  assert.equal(ok.args.pickup_id, "p1");
  const bad = buildPickup({ resident_ids: [] }, { pickupId: "p1", now: NOW });
  assert.deepEqual(Object.keys(bad.errors).sort(), ["picked_up_at", "pickup_point", "resident_ids", "vehicle"]);
  const many = Array.from({ length: 51 }, (_, i) => String(i));
  assert.match(buildPickup({ resident_ids: many }, { pickupId: "p", now: NOW }).errors.resident_ids, /50/);
});

test("cancel pick-up and recording done or failed", () => {
  assert.equal(buildCancelPickup({}, { residentId: RID }).errors.reason, "Wajib diisi.");
  const done = buildRecording({ outcome: "done", recorded_at: "2026-11-28T09:00" }, { residentId: RID, now: NOW });
  assert.equal(done.name, "record_done");
  assert.deepEqual(done.errors, {});
  const failed = buildRecording({ outcome: "failed", reason: "other", reason_text: "Listrik padam" }, { residentId: RID, now: NOW });
  assert.equal(failed.name, "record_failed");
  assert.deepEqual(failed.args, { resident_id: RID, reason: "other", reason_text: "Listrik padam" });
  assert.equal(buildRecording({ outcome: "failed" }, { residentId: RID }).errors.reason, "Silakan pilih.");
  assert.equal(buildRecording({}, { residentId: RID, now: NOW }).errors.outcome, "Silakan pilih.");
});

test("handover batch and collection", () => {
  const h = buildHandover({ resident_ids: [RID], number: "BA-01", handed_at: "2026-11-28T09:00" }, { batchId: "b1", now: NOW });
  assert.deepEqual(h.errors, {});
  assert.deepEqual(h.args, { batch_id: "b1", number: "BA-01", handed_at: h.args.handed_at, resident_ids: [RID], notes: null });
  assert.ok(buildHandover({}, { batchId: "b1", now: NOW }).errors.number);
  const c = buildCollection({ collected_at: "2026-11-28T09:30", items: [
    { resident_id: "r1", outcome: "collected" },
    { resident_id: "r2", outcome: "not_printed", reason: "blanko_habis" },
    { resident_id: "r3", outcome: "" },
    { resident_id: "r4", outcome: "not_printed" }] }, { batchId: "b1", now: NOW });
  assert.equal(c.args.items.length, 3, "untouched rows are not sent");
  assert.deepEqual(c.args.items[0], { resident_id: "r1", outcome: "collected", reason: null, reason_text: null });
  assert.ok(c.errors["item-r4"]);
  assert.ok(buildCollection({ items: [] }, { batchId: "b", now: NOW }).errors.items);
});

test("delivery: owner or proxy (name + relation), signature required", () => {
  const sig = { data: "AcACoAEBARQU", sha256: SHA };
  const owner = buildDelivery({ recipient: "owner", delivered_at: "2026-11-28T09:45", signature: sig, proxy_name: "ignored" },
    { residentId: RID, deliveryId: "d1", now: NOW });
  assert.deepEqual(owner.errors, {});
  assert.equal(owner.args.proxy_name, null);
  assert.deepEqual(owner.args.signature, sig);
  const proxy = buildDelivery({ recipient: "proxy", delivered_at: "2026-11-28T09:45", signature: sig }, { residentId: RID, deliveryId: "d1", now: NOW });
  assert.deepEqual(Object.keys(proxy.errors).sort(), ["proxy_name", "proxy_relation"]);
  const unsigned = buildDelivery({ recipient: "owner", delivered_at: "2026-11-28T09:45", signature_problem: "Tanda tangan masih kosong." },
    { residentId: RID, deliveryId: "d1", now: NOW });
  assert.equal(unsigned.errors.signature, "Tanda tangan masih kosong.");
});

test("GPS is rounded; a missing position is null", () => {
  assert.deepEqual(gpsFromPosition({ coords: { latitude: -2.5123456789, longitude: 115.4000001, accuracy: 12.6 } }),
    { lat: -2.512346, lon: 115.4, accuracy_m: 13 });
  assert.equal(gpsFromPosition(null), null);
});
