import { test } from "node:test";
import assert from "node:assert/strict";
import {
  buildCancelPickup, buildCollection, buildDelivery, buildHandover, buildPickup, buildRecording, buildReject, buildVerify,
  gpsFromPosition, localDateTime,
} from "../../pwa/js/case-forms.js";

const RID = "00000000-0000-4000-8000-000000000001";
const SHA = "a".repeat(64);
const NOW = new Date("2026-11-28T10:00:00+08:00"); // 28/11/2026 10.00 WITA
const at = (date, time) => ({ date, time });

test("step times typed as hh/bb/tttt and 24-hour jj:mm are WITA, ISO 8601 +08:00 on the wire; future and garbage refused", () => {
  const errors = {};
  assert.equal(localDateTime(at("28/11/2026", "09:15"), errors, "t", NOW), "2026-11-28T09:15:00+08:00");
  assert.deepEqual(errors, {});
  assert.equal(localDateTime(at("28112026", "0915"), {}, "t", NOW), "2026-11-28T09:15:00+08:00");
  const e2 = {};
  assert.equal(localDateTime(at("28/11/2026", "12:00"), e2, "t", NOW), null);
  assert.equal(e2.t, "Waktu tidak boleh di masa depan.");
  const e3 = {};
  localDateTime(at("", ""), e3, "t", NOW);
  assert.equal(e3.t, "Wajib diisi.");
  const e4 = {};
  localDateTime(at("30/02/2026", "10:00"), e4, "t", NOW);
  assert.match(e4.t, /30 Februari 2026 tidak ada/);
  const e5 = {};
  localDateTime(at("28/11/2026", "24:00"), e5, "t", NOW);
  assert.match(e5.t, /^Jam tidak valid/);
  const e6 = {};
  localDateTime(at("01/01/2019", "10:00"), e6, "t", NOW);
  assert.equal(e6.t, "Waktu tidak masuk akal.");
});

test("a 3-digit year never reaches the wire (it once became '205-06-12T10:00:00+08:00')", () => {
  const errors = {};
  assert.equal(localDateTime(at("12/06/0205", "10:00"), errors, "t", NOW), null);
  assert.match(errors.t, /^Tahun 0205 tidak masuk akal/);
  const built = buildRecording({ outcome: "done", recorded_at: at("12/06/0205", "10:00") }, { residentId: RID, now: NOW });
  assert.equal(built.args.recorded_at, null);
  assert.ok(built.errors.recorded_at);
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
  const ok = buildPickup({ resident_ids: [RID, RID], picked_up_at: at("28/11/2026", "08:00"), pickup_point: "Balai desa", vehicle: "Mobil dinas" },
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
  const done = buildRecording({ outcome: "done", recorded_at: at("28/11/2026", "09:00") }, { residentId: RID, now: NOW });
  assert.equal(done.name, "record_done");
  assert.deepEqual(done.errors, {});
  const failed = buildRecording({ outcome: "failed", reason: "other", reason_text: "Listrik padam" }, { residentId: RID, now: NOW });
  assert.equal(failed.name, "record_failed");
  assert.deepEqual(failed.args, { resident_id: RID, reason: "other", reason_text: "Listrik padam" });
  assert.equal(buildRecording({ outcome: "failed" }, { residentId: RID }).errors.reason, "Silakan pilih.");
  assert.equal(buildRecording({}, { residentId: RID, now: NOW }).errors.outcome, "Silakan pilih.");
});

test("handover batch and collection", () => {
  const h = buildHandover({ resident_ids: [RID], number: "BA-01", handed_at: at("28/11/2026", "09:00") }, { batchId: "b1", now: NOW });
  assert.deepEqual(h.errors, {});
  assert.deepEqual(h.args, { batch_id: "b1", number: "BA-01", handed_at: h.args.handed_at, resident_ids: [RID], notes: null });
  assert.ok(buildHandover({}, { batchId: "b1", now: NOW }).errors.number);
  const c = buildCollection({ collected_at: at("28/11/2026", "09:30"), items: [
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
  const owner = buildDelivery({ recipient: "owner", delivered_at: at("28/11/2026", "09:45"), signature: sig, proxy_name: "ignored" },
    { residentId: RID, deliveryId: "d1", now: NOW });
  assert.deepEqual(owner.errors, {});
  assert.equal(owner.args.proxy_name, null);
  assert.deepEqual(owner.args.signature, sig);
  const proxy = buildDelivery({ recipient: "proxy", delivered_at: at("28/11/2026", "09:45"), signature: sig }, { residentId: RID, deliveryId: "d1", now: NOW });
  assert.deepEqual(Object.keys(proxy.errors).sort(), ["proxy_name", "proxy_relation"]);
  const unsigned = buildDelivery({ recipient: "owner", delivered_at: at("28/11/2026", "09:45"), signature_problem: "Tanda tangan masih kosong." },
    { residentId: RID, deliveryId: "d1", now: NOW });
  assert.equal(unsigned.errors.signature, "Tanda tangan masih kosong.");
});

test("GPS is rounded; a missing position is null", () => {
  assert.deepEqual(gpsFromPosition({ coords: { latitude: -2.5123456789, longitude: 115.4000001, accuracy: 12.6 } }),
    { lat: -2.512346, lon: 115.4, accuracy_m: 13 });
  assert.equal(gpsFromPosition(null), null);
});
