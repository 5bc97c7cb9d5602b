"""100 signed deliveries by the real phone app (issue 3's deliver_card); a smoke run: a few.

The cases are brought to `card_collected` on the server first, by another device of the same
officer (register, verify, record, hand over in one batch, collect); the phone then pulls them,
and the officer's deliveries are saved offline through the app's own code: the pad's thinning
and simplification (signature-pad.js), the format-1 codec (signature-codec.js) and db.js.
"""
from __future__ import annotations

import time
import uuid

from sync.mutations import MUTATORS

from . import data, harness, phone
from .sizes import FULL

N = FULL.link_records
AT = "2026-11-28T08:00:00+08:00"


def why_pending() -> str | None:
    """None when the server and the phone app both know deliver_card; else why not."""
    if "deliver_card" not in MUTATORS:
        return "the sync engine has no deliver_card handler yet"
    js = harness.REPO / "pwa" / "js"
    for name in ("signature-codec.js", "signature-pad.js"):
        if not (js / name).is_file():
            return f"pwa/js/{name} is missing"
    if "deliver_card" not in "".join(p.read_text() for p in js.glob("*.js")):
        return "the phone app does not send deliver_card yet"
    return None


def available() -> bool:
    return why_pending() is None


def prepare(server: harness.ServerProcess, rep: int, n: int = N) -> dict:
    """n cases at card_collected for "petugas"; returns the setup for link_runs."""
    office = phone.RawPhone.login(server.port, "petugas", label="HP kantor")
    regs = data.registrations(n, seed=700 + rep)
    ids = [a["resident_id"] for a in regs]
    for args in regs:
        office.queue("register_resident", args)
    for rid in ids:
        office.queue("verify_resident", {
            "resident_id": rid, "checks": {"kk_copy_seen": True, "age_eligible": True,
                                           "marital_eligible": True},
            "kk_photo": None, "notes": None})
    for rid in ids:
        office.queue("record_done", {"resident_id": rid, "recorded_at": AT})
    batch = str(uuid.uuid4())
    office.queue("handover_batch", {"batch_id": batch, "number": f"BA/{rep + 1}/2026",
                                    "handed_at": AT, "resident_ids": ids, "notes": None})
    office.queue("record_collection", {"batch_id": batch, "collected_at": AT, "items": [
        {"resident_id": rid, "outcome": "collected", "reason": None, "reason_text": None}
        for rid in ids]})
    office.sync_until_empty(deadline=time.monotonic() + 60)
    bad = {i: r for i, r in office.results.items() if r["status"] != "applied"}
    assert not bad, list(bad.values())[:3]
    stages = server.sql("select stage, count(*) from residents group by stage")
    assert stages == [("card_collected", n)], stages
    return {"resident_ids": ids, "page": lambda page: _wait_for_cases(page, n)}


def _wait_for_cases(page, n: int) -> None:
    """The phone's first sync after login brought the n cases."""
    for _ in range(300):
        count = page.evaluate("""async () => {
          const db = await import('/app/js/db.js');
          return (await db.listResidents()).length;
        }""")
        if count >= n:
            return
        page.wait_for_timeout(100)
    raise TimeoutError(f"the phone holds {count} of {n} cases")


_QUEUE_DELIVERIES_JS = """async ([plan, pad]) => {
  const db = await import('/app/js/db.js');
  const fmt = await import('/app/js/format.js');
  const codec = await import('/app/js/signature-codec.js');
  const sp = await import('/app/js/signature-pad.js');
  for (const item of plan) {
    // as the pad does: drop moves closer than MIN_STEP, keep the last point, simplify
    const strokes = item.strokes.map((raw) => {
      const kept = [];
      for (const p of raw) {
        const last = kept[kept.length - 1];
        if (!last || Math.hypot(p[0] - last[0], p[1] - last[1]) >= sp.MIN_STEP) kept.push(p);
      }
      const tail = raw[raw.length - 1];
      const last = kept[kept.length - 1];
      if (tail[0] !== last[0] || tail[1] !== last[1]) kept.push(tail);
      return sp.simplifyStroke(kept);
    });
    const sig = await codec.encodeSignature({width: pad[0], height: pad[1], strokes});
    const at = fmt.isoWithOffset(new Date());
    const minute = new Date();
    minute.setSeconds(0, 0);  // the form's datetime-local input has minutes only
    const args = {resident_id: item.resident_id, delivery_id: item.delivery_id,
                  delivered_at: fmt.isoWithOffset(minute), recipient: item.recipient,
                  proxy_name: item.proxy_name, proxy_relation: item.proxy_relation,
                  signature: {data: sig.data, sha256: sig.sha256}, photo: null, gps: item.gps};
    await db.saveMutation('deliver_card', args, at, []);
  }
  return (await db.getOutbox()).length;
}"""


def queue(page, plan) -> int:
    """Save the deliveries through the app's code; returns the outbox size."""
    return page.evaluate(_QUEUE_DELIVERIES_JS, [plan, list(data.PAD)])


def items_for(rep: int, setup: dict):
    """A queue function for link_sync: the officer's deliveries, one per prepared case."""
    plan = data.delivery_plan(setup["resident_ids"], seed=900 + rep)
    return lambda page: queue(page, plan), len(plan)
