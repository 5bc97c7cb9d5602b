// The phone's step rules (pwa/js/pipeline.js STEPS) against the server's own table of stage
// transitions, tests/vectors/stage_transitions.json (tests/sync/test_sync_pipeline.py holds the
// server to the same file): a rule changed on one side only fails here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { STAGE_ORDER, STEPS, actionsFor, applyLocal } from "../../pwa/js/pipeline.js";
import { makeEntry } from "../../pwa/js/outbox-rules.js";

const vectors = JSON.parse(readFileSync(new URL("../vectors/stage_transitions.json", import.meta.url), "utf8"));
const ID = "00000000-0000-4000-8000-000000000001";
const AT = "2026-11-28T09:00:00+08:00";

// Args every step finds its resident in: one resident_id, a list, or a collection item (the
// card collected: the outcome that moves the stage).
const ARGS = {
  resident_id: ID, resident_ids: [ID], items: [{ resident_id: ID, outcome: "collected", reason: null, reason_text: null }],
  pickup_id: "p1", batch_id: "b1", delivery_id: "d1", number: "BA-1", reason: "other", reason_text: "x", checks: {},
  picked_up_at: AT, recorded_at: AT, handed_at: AT, collected_at: AT, delivered_at: AT, recipient: "owner",
};

/** The stage the phone shows while step `name` done at `stage` is still unsent. */
const localStage = (name, stage) => applyLocal({ resident_id: ID, name: "Warga", stage }, makeEntry(1, name, ARGS, AT), ID).stage;

// Moves the server accepts that the case screen does not offer at that stage, each with why.
const NOT_OFFERED = {
  "reject_resident@listed": "a Belum Ditemukan resident is registered first on the phone (Daftarkan warga ini); "
    + "the server also takes a rejection of one never registered (moved away, deceased), which the phone does not offer",
  "deliver_card@sent_to_registry": "the phone delivers a card once its collection is recorded (KTP Diambil); the server "
    + "also takes it at sent_to_registry because that collection may still wait in another phone's outbox",
};

const moves = (name) => Object.entries(vectors.transitions[name])
  .filter(([stage, outcome]) => !/^[!~]/.test(outcome) && outcome !== stage).map(([stage]) => stage);

test("the vectors cover every stage and every pipeline step of the phone", () => {
  assert.deepEqual([...vectors.stages].sort(), [...STAGE_ORDER, "rejected"].sort());
  // Registration and edits create or change data, not a stage: the server's table has no row for them.
  const steps = Object.keys(STEPS).filter((n) => !["register_resident", "update_resident", "correct_identity"].includes(n));
  assert.deepEqual(Object.keys(vectors.transitions).sort(), steps.sort());
  for (const row of Object.values(vectors.transitions)) assert.deepEqual(Object.keys(row).sort(), [...vectors.stages].sort());
});

for (const name of Object.keys(vectors.transitions)) {
  test(`${name}: the phone offers, and shows, what the server does at every stage`, () => {
    for (const [stage, outcome] of Object.entries(vectors.transitions[name])) {
      const offered = actionsFor({ stage }).includes(name);
      const local = localStage(name, stage);
      if (outcome.startsWith("!")) {
        assert.ok(!offered, `${name} is offered at ${stage}, but the server refuses it (${outcome})`);
        assert.equal(local, stage, `${name} at ${stage}: refused by the server, so the phone must not move the case`);
      } else if (outcome.startsWith("~")) {
        assert.equal(local, stage, `${name} at ${stage}: the server keeps the stage (conflict ${outcome.slice(1)})`);
      } else {
        assert.equal(local, outcome, `${name} at ${stage}: the server moves the case to ${outcome}`);
      }
    }
    for (const stage of moves(name)) {
      assert.ok(actionsFor({ stage }).includes(name) || NOT_OFFERED[`${name}@${stage}`],
        `the server moves ${stage} on with ${name}: offer it at ${stage} or list it in NOT_OFFERED with the reason`);
    }
  });
}

test("every documented exception is still a move the server accepts and the phone does not offer", () => {
  for (const key of Object.keys(NOT_OFFERED)) {
    const [name, stage] = key.split("@");
    assert.ok(moves(name).includes(stage), `${key}: the server no longer moves the case; drop the exception`);
    assert.ok(!actionsFor({ stage }).includes(name), `${key}: the phone offers it now; drop the exception`);
  }
});
