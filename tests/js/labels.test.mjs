// The phone's label table must equal the server's (sync/stages.py): one table, two languages.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as labels from "../../pwa/js/labels.js";

const stagesPy = readFileSync(new URL("../../sync/stages.py", import.meta.url), "utf8");
const html = readFileSync(new URL("../../pwa/index.html", import.meta.url), "utf8");

function pythonDict(name) {
  const m = new RegExp(`^${name}[^=]*=\\s*\\{([^}]*)\\}`, "m").exec(stagesPy);
  assert.ok(m, `${name} not found in sync/stages.py`);
  return Object.fromEntries([...m[1].matchAll(/"([^"]+)":\s*"([^"]+)"/g)].map((x) => [x[1], x[2]]));
}

for (const [py, js] of [
  ["STAGE_LABELS", "STAGE_LABELS"],
  ["SEX_LABELS", "SEX_LABELS"],
  ["MARITAL_STATUS_LABELS", "MARITAL_STATUS_LABELS"],
  ["VULNERABLE_CATEGORY_LABELS", "VULNERABLE_CATEGORY_LABELS"],
  ["DISABILITY_LABELS", "DISABILITY_LABELS"],
  ["REJECTION_REASON_LABELS", "REJECTION_REASON_LABELS"],
  ["RECORD_FAILED_REASON_LABELS", "RECORD_FAILED_REASON_LABELS"],
  ["NOT_PRINTED_REASON_LABELS", "NOT_PRINTED_REASON_LABELS"],
  ["RECIPIENT_LABELS", "RECIPIENT_LABELS"],
  ["VERIFICATION_CHECK_LABELS", "VERIFICATION_CHECK_LABELS"],
  ["COLLECTION_OUTCOME_LABELS", "COLLECTION_OUTCOME_LABELS"],
]) {
  test(`${js} equals sync/stages.py ${py}`, () => {
    assert.deepEqual({ ...labels[js] }, pythonDict(py));
  });
}

test("stageLabel and labelOf", () => {
  assert.equal(labels.stageLabel("recorded"), "Sudah Rekam");
  assert.equal(labels.stageLabel("future_stage"), "future_stage");
  assert.equal(labels.stageLabel(null), "");
  assert.equal(labels.labelOf(labels.SEX_LABELS, "female"), "Perempuan");
  assert.equal(labels.labelOf(labels.SEX_LABELS, null), "");
});

test("every registration field has a visible <label> with exactly the text of FIELD_LABELS", () => {
  for (const [field, text] of Object.entries(labels.FIELD_LABELS)) {
    const m = new RegExp(`<label for="f-${field}">([^<]*)</label>`).exec(html);
    assert.ok(m, `no <label for="f-${field}">`);
    assert.equal(m[1], text, field);
    assert.match(html, new RegExp(`id="f-${field}"`), `control f-${field} exists`);
  }
});

test("every input, select and textarea in index.html has a <label for>", () => {
  const ids = [...html.matchAll(/<(?:input|select|textarea)[^>]*\sid="([^"]+)"/g)].map((m) => m[1]);
  assert.ok(ids.length >= 19);
  for (const id of ids) assert.match(html, new RegExp(`<label for="${id}">[^<]+</label>`), id);
});

test("index.html works under the strict CSP: no inline script, style or handlers", () => {
  assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/);
  assert.doesNotMatch(html, /<style/);
  assert.doesNotMatch(html, /\sstyle="/);
  assert.doesNotMatch(html, /\son[a-z]+="/);
});

test("no other visible label contains a registration label (Playwright's getByLabel matches substrings)", () => {
  const all = [...html.matchAll(/<label for="([^"]+)">([^<]+)<\/label>/g)].map((m) => [m[1], m[2].toLowerCase()]);
  // Short labels (Desa, NIK, RT, RW) are always used with exact: true; the others must be unique.
  const long = Object.entries(labels.FIELD_LABELS).filter(([, t]) => t.length > 4);
  for (const [field, text] of long) {
    const clash = all.filter(([id, t]) => id !== `f-${field}` && t.includes(text.toLowerCase()));
    assert.deepEqual(clash, [], `"${text}" is contained in other labels`);
  }
});
