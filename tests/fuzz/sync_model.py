"""A reference model of the sync engine's rules (docs/sync-protocol.md,
docs/interfaces-pipeline.md) for the property tests, and the registry of mutation kinds.

A mutation kind knows how to draw its args (valid and invalid variants) from the model, and
how to predict the server's answer, applying the expected effect to the model. To fuzz a new
mutation, write a Kind and add it to KINDS; the state machine and its invariants need no
change.
"""
from __future__ import annotations

import base64
import hashlib
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

from hypothesis import strategies as st

from sync.handlers_registration import MAX_DUPLICATE_LINKS
from sync.signature import encode_signature

KECAMATAN = "631104"
D1, D2, D3 = "6311042005", "6311042001", "6311042003"  # D3: nobody's desa
FREE_FIELDS = ("phone", "address", "rt", "rw", "notes", "vulnerable_category", "disability")

# Small pools, so that duplicates, same NIKs and concurrent edits happen often.
NAMES = ("Siti Aminah", "Ahmad Yani", "Nor Hasanah")
NIKS = (None, "6311045203010001", "6311041212990002")  # valid; may warn, never reject
BIRTH_DATES = ("2001-03-12", "1999-12-12")
PHONES = (None, "081234567890", "+6281211112222")
ADDRESSES = (None, "Jl. Pramuka No. 1", "Dusun Hulu")
NOTES = (None, "catatan satu", "catatan dua")
RTS = (None, "001", "012")
VULNERABLE = (None, "remote_community", "natural_disaster")
DISABILITY = (None, "physical")
FREE_VALUES = {"phone": PHONES, "address": ADDRESSES, "rt": RTS, "rw": RTS, "notes": NOTES,
               "vulnerable_category": VULNERABLE, "disability": DISABILITY}
STAGE_RANK = {s: i for i, s in enumerate(("listed", "found", "verified", "picked_up", "recorded",
                                          "sent_to_registry", "card_collected", "delivered"))}


def name_key(name: str) -> str:
    return " ".join(name.casefold().split())


@dataclass
class ClientInfo:
    """One device of one officer."""

    client_id: str
    user_id: int
    desa: frozenset[str]


@dataclass
class ResidentModel:
    rid: str
    desa: str
    name: str
    nik: str | None
    birth_date: str
    args: dict                      # the registration as first stored
    fields: dict[str, Any]          # free fields
    stamps: dict[str, tuple[int, str]]  # field → (version, client_id) of the last change
    version: int = 1
    stage: str = "found"


@dataclass
class Expect:
    """A predicted answer: status and rejection code (None when applied)."""

    status: str
    code: str | None = None


@dataclass
class Model:
    clients: dict[str, ClientInfo]
    residents: dict[str, ResidentModel] = field(default_factory=dict)
    # (client_id, mutation_id, resident_id, kind) of every event an accepted mutation wrote
    events: Counter = field(default_factory=Counter)
    conflicts: Counter = field(default_factory=Counter)  # (kind, resident_id)
    rejected: Counter = field(default_factory=Counter)   # client_id → stored rejections
    last: dict[str, int] = field(default_factory=dict)   # client_id → last_mutation_id
    sent: dict[str, dict[int, tuple[dict, Expect]]] = field(default_factory=dict)
    batches: dict[str, dict[str, str | None]] = field(default_factory=dict)  # id → {rid: outcome}
    deliveries: set = field(default_factory=set)  # (resident_id, delivery_id) accepted
    # client_id → {resident_id: version} as of that client's last sync (its server copy)
    seen: dict[str, dict[str, int]] = field(default_factory=dict)
    serial: int = 0
    focus: str | None = None  # a case the next draw should act on (see NEXT_STEP)

    def synced(self, client: ClientInfo) -> None:
        """The client's answer carried every case of its desa: its copies are current."""
        self.seen[client.client_id] = {rid: r.version for rid, r in self.residents.items()
                                       if r.desa in client.desa}

    def new_uuid(self) -> str:
        self.serial += 1
        return str(uuid.UUID(int=self.serial, version=4))

    def event(self, client: ClientInfo, mid: int, rid: str, kind: str) -> None:
        """An accepted event; a pipeline event also gives the case a new version."""
        self.events[(client.client_id, mid, rid, kind)] += 1
        if kind not in ("registered", "updated"):
            self.residents[rid].version += 1


# ---------------------------------------------------------------- kinds
@dataclass
class Kind:
    """A mutation name with how to draw its args and predict its outcome."""

    name: str
    # draw(data, model, client) → (args, predict), predict(model, client, mid) → Expect
    draw: Callable[[Any, Model, ClientInfo], tuple[dict, Callable[[Model, ClientInfo, int], Expect]]]
    weight: int = 1


def _pick(data, values):
    return data.draw(st.sampled_from(values))


def _free_fields(data) -> dict:
    return {f: _pick(data, FREE_VALUES[f]) for f in FREE_FIELDS}


# -------- register_resident
def _registration(model: Model, data, desa: str) -> dict:
    args = {
        "resident_id": model.new_uuid(), "desa_code": desa, "name": _pick(data, NAMES),
        "nik": _pick(data, NIKS), "kk_number": _pick(data, (None, "6311040101200001")),
        "sex": _pick(data, ("male", "female")), "birth_place": _pick(data, (None, "Paringin")),
        "birth_date": _pick(data, BIRTH_DATES),
        "marital_status": _pick(data, ("single", "married")),
    }
    args.update(_free_fields(data))
    return args


def draw_register(data, model: Model, client: ClientInfo):
    variant = data.draw(st.sampled_from(
        ("new", "new", "new", "new", "bad_nik", "future_birth", "other_desa", "resend_same",
         "reuse_id")), label="register variant")
    existing = sorted(model.residents)
    if variant in ("resend_same", "reuse_id") and not existing:
        variant = "new"
    if variant == "resend_same":
        args = dict(model.residents[_pick(data, existing)].args)
    elif variant == "reuse_id":
        args = _registration(model, data, _pick(data, sorted(client.desa)))
        args["resident_id"] = _pick(data, existing)
    elif variant == "other_desa":
        args = _registration(model, data, _pick(data, sorted({D1, D2, D3} - client.desa)))
    else:
        args = _registration(model, data, _pick(data, sorted(client.desa)))
        if variant == "bad_nik":
            args["nik"] = _pick(data, ("12345", "6311041299990000", "63110412999900a1"))
        elif variant == "future_birth":
            args["birth_date"] = "2999-01-01"

    def predict(model: Model, client: ClientInfo, mid: int) -> Expect:
        if variant in ("bad_nik", "future_birth"):
            return Expect("rejected", "validation_error")
        if args["desa_code"] not in client.desa:
            return Expect("rejected", "desa_not_assigned")
        rid = args["resident_id"]
        if rid in model.residents:
            if model.residents[rid].args == args:
                return Expect("applied")  # the same registration re-sent: nothing new
            return Expect("rejected", "resident_exists")
        _apply_registration(model, client, mid, args)
        return Expect("applied")

    return args, predict


def _apply_registration(model: Model, client: ClientInfo, mid: int, args: dict) -> None:
    rid = args["resident_id"]
    key = name_key(args["name"])
    # Possible duplicates, found before the insert: at most MAX_DUPLICATE_LINKS per rule, the
    # oldest first (every case here has the same created_at, so the lowest ids).
    same_nik = sorted(other.rid for other in model.residents.values()
                      if args["nik"] is not None and other.nik == args["nik"])
    same_person = sorted(other.rid for other in model.residents.values()
                         if other.desa == args["desa_code"]
                         and other.birth_date == args["birth_date"]
                         and name_key(other.name) == key
                         and (args["nik"] is None or other.nik is None))
    linked = set(same_nik[:MAX_DUPLICATE_LINKS]) | set(same_person[:MAX_DUPLICATE_LINKS])
    if linked:
        model.conflicts[("possible_duplicate", rid)] += len(linked)
    model.residents[rid] = ResidentModel(
        rid=rid, desa=args["desa_code"], name=args["name"], nik=args["nik"],
        birth_date=args["birth_date"], args=dict(args),
        fields={f: args[f] for f in FREE_FIELDS},
        stamps={f: (1, client.client_id) for f in FREE_FIELDS})
    model.event(client, mid, rid, "registered")


# -------- update_resident
def draw_update(data, model: Model, client: ClientInfo):
    variant = data.draw(st.sampled_from(
        ("valid", "valid", "valid", "fresh", "stale", "not_free", "unknown", "empty",
         "bad_phone")), label="update variant")
    mine = sorted(r for r, m in model.residents.items() if m.desa in client.desa)
    others = sorted(r for r, m in model.residents.items() if m.desa not in client.desa)
    if variant in ("valid", "fresh", "stale", "not_free", "empty", "bad_phone") and not mine:
        variant = "unknown"
    if variant == "unknown" and others and data.draw(st.booleans()):
        variant = "other_desa"
    if variant == "unknown":
        rid = model.new_uuid()
    elif variant != "other_desa" and model.focus in mine:
        rid = model.focus
    else:  # mostly the latest cases, so that edits pile up on the same ones
        pool = others if variant == "other_desa" else mine
        rid = _pick(data, pool[-2:] if data.draw(st.integers(0, 3)) else pool)
    resident = model.residents.get(rid)
    version = resident.version if resident else 1
    if variant == "fresh":
        base = version
    elif variant == "stale":
        base = data.draw(st.integers(1, max(1, version - 1)))
    else:  # as the phone does: the version of its server copy (1 before its first sync)
        base = model.seen.get(client.client_id, {}).get(rid, 1)
    # mostly two fields, so that edits of one field by several phones meet
    names = data.draw(st.lists(st.sampled_from(("phone", "notes") if data.draw(st.integers(0, 3))
                                               else FREE_FIELDS),
                               min_size=1, max_size=2, unique=True))
    fields = {f: _pick(data, FREE_VALUES[f]) for f in names}
    if variant == "not_free":
        fields["name"] = "Nama Lain"
    elif variant == "empty":
        fields = {}
    elif variant == "bad_phone":
        fields["phone"] = "08-abc"
    args = {"resident_id": rid, "base_version": base, "fields": fields}

    def predict(model: Model, client: ClientInfo, mid: int) -> Expect:
        if variant in ("not_free", "empty", "bad_phone"):
            return Expect("rejected", "validation_error")
        resident = model.residents.get(rid)
        if resident is None:
            return Expect("rejected", "resident_not_found")
        if resident.desa not in client.desa:
            return Expect("rejected", "desa_not_assigned")
        changes = {f: v for f, v in fields.items() if resident.fields[f] != v}
        if not changes:
            return Expect("applied")  # nothing to change: no event, no version
        resident.version += 1
        for f, value in sorted(changes.items()):
            last_version, last_client = resident.stamps[f]
            if base < last_version and last_client != client.client_id:
                model.conflicts[("concurrent_edit", rid)] += 1
            resident.stamps[f] = (resident.version, client.client_id)
            resident.fields[f] = value
        model.event(client, mid, rid, "updated")
        return Expect("applied")

    return args, predict


# ---------------------------------------------------------------- pipeline (issue 3)
AT_TIME = "2026-11-28T09:12:00+08:00"
PHOTO = "ab" * 32  # a sha256 hex: verify_resident only stores the reference


def at_least(stage: str, needed: str) -> bool:
    return stage != "rejected" and STAGE_RANK[stage] >= STAGE_RANK[needed]


def _target(data, model: Model, client: ClientInfo, fits=lambda r: True) -> tuple[str, str]:
    """(variant, resident_id): mostly one of the client's cases that fits the move, sometimes
    any of its cases, an unknown id or another officer's case."""
    mine = [r for r, m in sorted(model.residents.items()) if m.desa in client.desa]
    if model.focus in mine and fits(model.residents[model.focus]):
        return "mine", model.focus
    fitting = [r for r in mine if fits(model.residents[r])]
    others = [r for r, m in sorted(model.residents.items()) if m.desa not in client.desa]
    roll = data.draw(st.integers(0, 9), label="target")
    if fitting and roll < 6:
        return "mine", _pick(data, fitting)
    if mine and roll < 8:
        return "mine", _pick(data, mine)
    if others and roll == 8:
        return "other_desa", _pick(data, others)
    return "unknown", model.new_uuid()


def _lookup(model: Model, client: ClientInfo, rids) -> Expect | None:
    """The common refusals of get_resident(s): unknown first, then out of scope."""
    if any(r not in model.residents for r in rids):
        return Expect("rejected", "resident_not_found")
    if any(model.residents[r].desa not in client.desa for r in rids):
        return Expect("rejected", "desa_not_assigned")
    return None


def draw_verify(data, model: Model, client: ClientInfo):
    _, rid = _target(data, model, client, lambda r: r.stage in ("found", "rejected"))
    evidence = data.draw(st.sampled_from(("seen", "seen", "photo", "none")), label="evidence")
    args = {"resident_id": rid,
            "checks": {"kk_copy_seen": evidence == "seen", "age_eligible": True,
                       "marital_eligible": data.draw(st.booleans())},
            "kk_photo": PHOTO if evidence == "photo" else None, "notes": None}

    def predict(model, client, mid):
        if evidence == "none":
            return Expect("rejected", "missing_kk_evidence")
        refused = _lookup(model, client, [rid])
        if refused:
            return refused
        r = model.residents[rid]
        if r.stage == "rejected":
            model.conflicts[("verify_vs_reject", rid)] += 1
        elif r.stage == "found":
            r.stage = "verified"
        model.event(client, mid, rid, "verified")
        return Expect("applied")

    return args, predict


def draw_reject(data, model: Model, client: ClientInfo):
    _, rid = _target(data, model, client, lambda r: r.stage == "found")
    reason = data.draw(st.sampled_from(("has_ktp_el", "moved_away", "other", "other_no_text")))
    args = {"resident_id": rid, "reason": reason.removesuffix("_no_text"),
            "reason_text": "Sudah meninggal dunia" if reason == "other" else None}

    def predict(model, client, mid):
        if reason == "other_no_text":
            return Expect("rejected", "validation_error")
        refused = _lookup(model, client, [rid])
        if refused:
            return refused
        r = model.residents[rid]
        if r.stage in ("listed", "found"):
            r.stage = "rejected"
        elif r.stage != "rejected":
            model.conflicts[("verify_vs_reject", rid)] += 1
        model.event(client, mid, rid, "rejected")
        return Expect("applied")

    return args, predict


def draw_pick_up(data, model: Model, client: ClientInfo):
    _, first = _target(data, model, client, lambda r: r.stage == "verified")
    rids = [first]
    if data.draw(st.booleans(), label="two residents"):
        _, second = _target(data, model, client, lambda r: r.stage == "verified")
        if second != first:
            rids.append(second)
    args = {"pickup_id": model.new_uuid(), "resident_ids": rids, "picked_up_at": AT_TIME,
            "pickup_point": "Balai Desa", "vehicle": "Ambulans desa"}

    def predict(model, client, mid):
        refused = _lookup(model, client, rids)
        if refused:
            return refused
        if any(not at_least(model.residents[r].stage, "verified") for r in rids):
            return Expect("rejected", "invalid_transition")
        for r in rids:
            if model.residents[r].stage == "verified":
                model.residents[r].stage = "picked_up"
            model.event(client, mid, r, "picked_up")
        return Expect("applied")

    return args, predict


def draw_cancel_pickup(data, model: Model, client: ClientInfo):
    _, rid = _target(data, model, client, lambda r: r.stage == "picked_up")
    args = {"resident_id": rid, "reason": "Hujan deras, jalan putus"}

    def predict(model, client, mid):
        refused = _lookup(model, client, [rid])
        if refused:
            return refused
        r = model.residents[rid]
        if r.stage != "picked_up":
            return Expect("rejected", "invalid_transition")
        r.stage = "verified"
        model.event(client, mid, rid, "pickup_cancelled")
        return Expect("applied")

    return args, predict


def draw_record_done(data, model: Model, client: ClientInfo):
    _, rid = _target(data, model, client, lambda r: r.stage in ("verified", "picked_up"))
    args = {"resident_id": rid, "recorded_at": AT_TIME}

    def predict(model, client, mid):
        refused = _lookup(model, client, [rid])
        if refused:
            return refused
        r = model.residents[rid]
        if not at_least(r.stage, "verified"):
            return Expect("rejected", "invalid_transition")
        if r.stage in ("verified", "picked_up"):
            r.stage = "recorded"
        model.event(client, mid, rid, "recorded")
        return Expect("applied")

    return args, predict


def draw_record_failed(data, model: Model, client: ClientInfo):
    _, rid = _target(data, model, client, lambda r: r.stage == "picked_up")
    args = {"resident_id": rid, "reason": "resident_absent", "reason_text": None}

    def predict(model, client, mid):
        refused = _lookup(model, client, [rid])
        if refused:
            return refused
        r = model.residents[rid]
        if r.stage not in ("verified", "picked_up"):
            return Expect("rejected", "invalid_transition")
        r.stage = "verified"
        model.event(client, mid, rid, "recording_failed")
        return Expect("applied")

    return args, predict


def draw_handover(data, model: Model, client: ClientInfo):
    _, first = _target(data, model, client, lambda r: r.stage == "recorded")
    rids = [first]
    if data.draw(st.booleans(), label="two residents"):
        _, second = _target(data, model, client, lambda r: r.stage == "recorded")
        if second != first:
            rids.append(second)
    reuse = bool(model.batches) and data.draw(st.integers(0, 9)) == 0
    batch_id = _pick(data, sorted(model.batches)) if reuse else model.new_uuid()
    args = {"batch_id": batch_id, "number": f"BA/{len(model.batches) + 1}/2026",
            "handed_at": AT_TIME, "resident_ids": rids, "notes": None}

    def predict(model, client, mid):
        if batch_id in model.batches:
            return Expect("rejected", "validation_error")
        refused = _lookup(model, client, rids)
        if refused:
            return refused
        if any(model.residents[r].stage != "recorded" for r in rids):
            return Expect("rejected", "invalid_transition")
        model.batches[batch_id] = {r: None for r in rids}
        for r in rids:
            model.residents[r].stage = "sent_to_registry"
            model.event(client, mid, r, "batch_handed_over")
        return Expect("applied")

    return args, predict


def draw_collection(data, model: Model, client: ClientInfo):
    focused = [b for b, items in sorted(model.batches.items()) if model.focus in items]
    if focused:
        batch_id, rids = focused[-1], [model.focus]
    elif model.batches and data.draw(st.integers(0, 9)):
        batch_id = _pick(data, sorted(model.batches))
        members = sorted(model.batches[batch_id])
        rids = data.draw(st.lists(st.sampled_from(members), min_size=1, max_size=2, unique=True))
        if data.draw(st.integers(0, 9)) == 0:  # a resident of no batch
            _, stray = _target(data, model, client)
            if stray not in rids:
                rids.append(stray)
    else:
        batch_id = model.new_uuid()
        _, rid = _target(data, model, client)
        rids = [rid]
    outcomes = [data.draw(st.sampled_from(("collected", "collected", "not_printed")))
                for _ in rids]
    args = {"batch_id": batch_id, "collected_at": AT_TIME, "items": [
        {"resident_id": r, "outcome": o, "reason": "blanko_habis" if o == "not_printed" else None,
         "reason_text": None} for r, o in zip(rids, outcomes)]}

    def predict(model, client, mid):
        if batch_id not in model.batches:
            return Expect("rejected", "batch_not_found")
        refused = _lookup(model, client, rids)
        if refused:
            return refused
        items = model.batches[batch_id]
        if any(r not in items or not at_least(model.residents[r].stage, "sent_to_registry")
               for r in rids):
            return Expect("rejected", "invalid_transition")
        for r, outcome in zip(rids, outcomes):
            res = model.residents[r]
            if outcome == "collected":
                if STAGE_RANK[res.stage] < STAGE_RANK["card_collected"]:
                    res.stage = "card_collected"
                model.event(client, mid, r, "card_collected")
            elif STAGE_RANK[res.stage] > STAGE_RANK["sent_to_registry"]:
                continue  # collected already: the forward event wins, nothing written
            else:
                model.event(client, mid, r, "card_not_printed")
            items[r] = outcome
        return Expect("applied")

    return args, predict


def signature(points: int, width: int = 320, height: int = 160) -> dict:
    """A signature argument (format 1) with `points` points in one stroke."""
    stroke = [(10 + (i * 7) % (width - 20), 20 + (i * 13) % (height - 40)) for i in range(points)]
    raw = encode_signature(width, height, [stroke])
    return {"data": base64.b64encode(raw).decode(), "sha256": hashlib.sha256(raw).hexdigest()}


def draw_deliver(data, model: Model, client: ClientInfo):
    _, rid = _target(data, model, client,
                     lambda r: STAGE_RANK.get(r.stage, -1) >= STAGE_RANK["sent_to_registry"])
    variant = data.draw(st.sampled_from(("owner", "owner", "owner", "proxy", "proxy_unnamed",
                                         "empty", "bad_hash", "again")), label="delivery variant")
    earlier = sorted(d for r, d in model.deliveries if r == rid)
    delivery_id = _pick(data, earlier) if variant == "again" and earlier else model.new_uuid()
    sig = signature(2 if variant == "empty" else 12)
    if variant == "bad_hash":
        sig["sha256"] = "0" * 64
    args = {"delivery_id": delivery_id, "resident_id": rid, "delivered_at": AT_TIME,
            "recipient": "owner" if variant not in ("proxy", "proxy_unnamed") else "proxy",
            "proxy_name": "Ibu Salmah" if variant == "proxy" else None,
            "proxy_relation": "ibu kandung" if variant == "proxy" else None,
            "signature": sig, "photo": None,
            "gps": {"lat": -2.45, "lon": 115.5, "accuracy_m": 12.0} if variant == "owner" else None}

    def predict(model, client, mid):
        if variant == "proxy_unnamed":
            return Expect("rejected", "validation_error")
        if variant == "bad_hash":
            return Expect("rejected", "signature_invalid")
        if variant == "empty":
            return Expect("rejected", "signature_empty")
        refused = _lookup(model, client, [rid])
        if refused:
            return refused
        r = model.residents[rid]
        if (rid, delivery_id) in model.deliveries:
            return Expect("applied")  # the same delivery re-sent: nothing new
        if r.stage == "delivered":
            model.conflicts[("double_delivery", rid)] += 1
        elif at_least(r.stage, "sent_to_registry"):
            r.stage = "delivered"
        else:
            return Expect("rejected", "invalid_transition")
        model.deliveries.add((rid, delivery_id))
        model.event(client, mid, rid, "delivered")
        return Expect("applied")

    return args, predict


KINDS: list[Kind] = [
    Kind("register_resident", draw_register, weight=3),
    Kind("update_resident", draw_update, weight=2),
    Kind("verify_resident", draw_verify, weight=2),
    Kind("reject_resident", draw_reject),
    Kind("pick_up", draw_pick_up),
    Kind("cancel_pickup", draw_cancel_pickup),
    Kind("record_done", draw_record_done, weight=2),
    Kind("record_failed", draw_record_failed),
    Kind("handover_batch", draw_handover, weight=2),
    Kind("record_collection", draw_collection, weight=2),
    Kind("deliver_card", draw_deliver, weight=2),
]


# The move that takes a case from its stage to the next one (the "advance" rule of the state
# machine uses it to reach deep stages in few steps; the moves may still be refused).
NEXT_STEP = {
    "found": ("verify_resident", "verify_resident", "reject_resident"),
    "verified": ("pick_up", "record_done"),
    "picked_up": ("record_done", "record_done", "cancel_pickup", "record_failed"),
    "recorded": ("handover_batch",),
    "sent_to_registry": ("record_collection",),
    "card_collected": ("deliver_card",),
    "delivered": ("deliver_card", "update_resident"),
    "rejected": ("verify_resident", "update_resident"),
}
