"""Tenant isolation (issue #8 §1): nothing of kecamatan A is read, written, linked or merged by
an actor of kecamatan B — for every mutation kind of the registry and every office function.

Kecamatan A is Batumandi (631104), B is Juai (631101). A holds residents at every stage, a
batch, a listed case and a conflict; each case lets B aim one mutation (or office function)
at them and then checks that A's rows, events, batches and conflicts are exactly as before,
that no conflict joins the two kecamatan, and that B's pull holds nothing of A.
"""
import importlib
import inspect
import json
import pkgutil
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

import pytest
from sqlalchemy import select

import sync
import sync.office
from sync.context import SyncActor
from sync.models import Batch, BatchItem, Conflict, Resident, ResidentEvent
from sync.mutations import MUTATORS
from sync.office import (
    ImportRejected,
    OfficeActor,
    OfficeError,
    create_batch,
    import_listed_residents,
    record_collection,
    reopen_case,
    resolve_conflict,
)
from sync.office_identity import correct_identity_office
from sync.office_recording import record_at_office
from sync.registry import RegistryActor, confirm_receipt, mark_cards, registry_batch
from sync_kit import DESA_A, KECAMATAN, NOW, collection_args, pipeline_args, uid

JUAI = "631101"
DESA_JUAI = "6311012001"
ACTOR_A = SyncActor(user_id=7, username="petugas", role="petugas", kecamatan_code=KECAMATAN,
                    desa_codes=frozenset({DESA_A}))
ACTOR_B = SyncActor(user_id=20, username="petugas_juai", role="petugas", kecamatan_code=JUAI,
                    desa_codes=frozenset({DESA_JUAI}))
CAMAT_A = OfficeActor(user_id=3, role="camat", kecamatan_code=KECAMATAN)
CAMAT_B = OfficeActor(user_id=21, role="camat", kecamatan_code=JUAI)
# Disdukcapil of Hulu Sungai Utara: Balangan's batches (A's included) do not exist for them.
REGISTRY_OTHER = RegistryActor(user_id=22, kabupaten_code="6308")
A_STAGES = ("found", "verified", "picked_up", "recorded", "sent_to_registry", "card_collected",
            "delivered")


@dataclass
class World:
    """A's residents by stage (plus rejected, listed, duplicate pair), A's batch, B's own cases."""

    a: dict[str, str]
    a_batch: str
    a_conflict: int
    b: dict[str, str]
    client_a: Any
    client_b: Any
    session: Any
    kit: Any

    def nik(self, key):
        """The NIK of one of A's residents."""
        return self.session.get(Resident, self.a[key]).nik

    def new_b_registration(self, **overrides):
        """Fresh register_resident args of a Juai resident."""
        return self.kit.register_args(**b_registration("Warga Juai Baru", **overrides))


@pytest.fixture
def world(session, kit):
    client_a = kit.client(user_id=7)
    a = {}
    for stage in A_STAGES:
        a[stage] = kit.found(client_a, actor=ACTOR_A, name=f"Warga Batumandi {stage}")
    for stage in A_STAGES[1:]:
        kit.advance(client_a, a[stage], stage, actor=ACTOR_A)
    a["rejected"] = kit.found(client_a, actor=ACTOR_A, name="Warga Batumandi Ditolak")
    kit.run(client_a, "reject_resident", pipeline_args("reject_resident", a["rejected"]),
            actor=ACTOR_A)
    nik = session.get(Resident, a["found"]).nik
    a["duplicate"] = kit.found(client_a, actor=ACTOR_A, name="Warga Batumandi Ganda", nik=nik)
    [a["listed"]] = import_listed_residents(session, CAMAT_A, operation_id=1, now=NOW, rows=[
        {"desa_code": DESA_A, "name": "Warga Batumandi Daftar", "nik": "6311041505990007"}])
    session.commit()
    a_batch = session.get(Resident, a["sent_to_registry"]).batch_id
    a_conflict = session.scalars(select(Conflict.id)).one()

    client_b = kit.client(user_id=20)
    b = {stage: kit.found(client_b, actor=ACTOR_B, **b_registration(f"Warga Juai {stage}"))
         for stage in ("found", "verified", "recorded", "picked_up")}
    for stage in ("verified", "recorded", "picked_up"):
        kit.advance(client_b, b[stage], stage, actor=ACTOR_B)
    return World(a, a_batch, a_conflict, b, client_a, client_b, session, kit)


def b_registration(name, **overrides):
    """Overrides of SyncKit.register_args for a Juai resident (no NIK unless given)."""
    return {"desa_code": DESA_JUAI, "name": name, "nik": None, "kk_number": "6311010101200001",
            **overrides}


# ---------------------------------------------------------------- what "untouched" means
def kecamatan_of(session, resident_id):
    return session.get(Resident, resident_id).desa_code[:6] if resident_id else None


def snapshot(session, kecamatan):
    """Everything of one kecamatan that a write of any kind would change."""
    session.expire_all()
    residents = {r.resident_id: (r.version, r.change_seq, r.stage, r.merged_into, r.batch_id,
                                 r.warnings, r.updated_at)
                 for r in session.scalars(select(Resident)) if r.desa_code[:6] == kecamatan}
    events = sorted((e.id, e.resident_id, e.kind) for e in session.scalars(
        select(ResidentEvent).where(ResidentEvent.resident_id.in_(residents))))
    batches = {(b.batch_id, b.collected_at) for b in session.scalars(
        select(Batch).where(Batch.kecamatan_code == kecamatan))}
    items = {(i.batch_id, i.resident_id, i.outcome) for i in session.scalars(select(BatchItem))
             if i.resident_id in residents or any(i.batch_id == b for b, _ in batches)}
    conflicts = {(c.id, c.status, c.kind, c.resident_id, c.other_resident_id, c.kecamatan_code)
                 for c in session.scalars(select(Conflict))
                 if c.kecamatan_code == kecamatan or c.resident_id in residents
                 or c.other_resident_id in residents}
    return residents, events, batches, items, conflicts


def assert_no_crossing(session, kit, world):
    """No conflict joins two kecamatan, and B's full pull holds nothing of A."""
    for conflict in session.scalars(select(Conflict)):
        kecamatans = {conflict.kecamatan_code, kecamatan_of(session, conflict.resident_id)}
        if conflict.other_resident_id:
            kecamatans.add(kecamatan_of(session, conflict.other_resident_id))
        assert len(kecamatans) == 1, (conflict.kind, kecamatans)
    pulled = kit.sync(world.client_b, actor=ACTOR_B)["changes"]
    seen = {r["resident_id"] for r in pulled["residents"]} | set(pulled["removed"])
    assert not seen & set(world.a.values())
    assert {r["desa_code"] for r in pulled["residents"]} <= {DESA_JUAI}


def as_if_absent(result, unknown_result, swapped):
    """The answer about A's ids is word for word the answer about ids that do not exist."""
    text = json.dumps(result, sort_keys=True)
    for a_id, unknown in swapped.items():
        text = text.replace(a_id, unknown)
    assert json.loads(text) == unknown_result


# ---------------------------------------------------------------- the mutation matrix
@dataclass
class Case:
    """B's mutation aimed at A: args built from the world, and what B must be answered.

    `absent` lists the world keys (A's ids) whose answer must equal an unknown id's; without
    it, `check(result, world, session)` says what is right.
    """

    label: str
    build: Callable[[World], dict]
    absent: tuple[str, ...] = ()
    check: Callable | None = None


def _registered_elsewhere(result, world, session):
    assert result["status"] == "applied", result
    mine = session.scalars(select(Resident).where(Resident.desa_code == DESA_JUAI,
                                                  Resident.nik.is_not(None))).one()
    # A notice that names nobody: the code only, nothing of the other record.
    assert "nik_registered_elsewhere" in mine.warnings


def _id_taken(result, world, session):
    assert (result["status"], result["code"]) == ("rejected", "resident_exists"), result
    assert "Batumandi" not in json.dumps(result)


def _batch_id_taken(result, world, session):
    assert (result["status"], result["code"]) == ("rejected", "validation_error"), result
    assert set(result["fields"]) == {"batch_id"}
    assert session.get(Resident, world.b["recorded"]).stage == "recorded"


def _stays_in_juai(result, world, session, key):
    assert result["status"] == "rejected", result
    assert session.get(Resident, world.b[key]).desa_code == DESA_JUAI
    assert "Batumandi" not in json.dumps(result)


def _a(key):
    return lambda w: w.a[key]


CASES = {
    "register_resident": [
        Case("same NIK as an A resident",
             lambda w: w.new_b_registration(nik=w.nik("found")), check=_registered_elsewhere),
        Case("resident_id of A's listed case",
             lambda w: {**w.new_b_registration(), "resident_id": w.a["listed"]}, check=_id_taken),
    ],
    "update_resident": [
        Case("A's resident", lambda w: {"resident_id": w.a["found"], "base_version": 1,
                                        "fields": {"phone": "081100000009"}}, ("found",)),
    ],
    "verify_resident": [
        Case("A's found resident", lambda w: pipeline_args("verify_resident", w.a["found"]),
             ("found",)),
        Case("A's rejected resident (would open a conflict)",
             lambda w: pipeline_args("verify_resident", w.a["rejected"]), ("rejected",)),
    ],
    "reject_resident": [
        Case("A's verified resident (would open a conflict)",
             lambda w: pipeline_args("reject_resident", w.a["verified"]), ("verified",)),
        Case("A's listed case", lambda w: pipeline_args("reject_resident", w.a["listed"]),
             ("listed",)),
    ],
    "pick_up": [
        Case("A's verified resident", lambda w: pipeline_args("pick_up", w.a["verified"]),
             ("verified",)),
        Case("B's own and A's verified resident together", lambda w: pipeline_args(
            "pick_up", w.b["verified"], resident_ids=[w.b["verified"], w.a["verified"]]),
             ("verified",)),
    ],
    "cancel_pickup": [
        Case("A's picked-up resident", lambda w: pipeline_args("cancel_pickup", w.a["picked_up"]),
             ("picked_up",)),
    ],
    "record_done": [
        Case("A's picked-up resident", lambda w: pipeline_args("record_done", w.a["picked_up"]),
             ("picked_up",)),
    ],
    "record_failed": [
        Case("A's picked-up resident",
             lambda w: pipeline_args("record_failed", w.a["picked_up"]), ("picked_up",)),
    ],
    "handover_batch": [
        Case("A's recorded resident", lambda w: pipeline_args("handover_batch", w.a["recorded"]),
             ("recorded",)),
        Case("B's own and A's recorded resident together", lambda w: pipeline_args(
            "handover_batch", w.b["recorded"], resident_ids=[w.b["recorded"], w.a["recorded"]]),
             ("recorded",)),
        Case("A's batch id for B's own resident", lambda w: pipeline_args(
            "handover_batch", w.b["recorded"], batch_id=w.a_batch), check=_batch_id_taken),
    ],
    "record_collection": [
        Case("A's batch and resident", lambda w: collection_args(w.a_batch, w.a["sent_to_registry"]),
             ("sent_to_registry",)),
        Case("A's resident in a made-up batch", lambda w: collection_args(
            uid(), w.a["sent_to_registry"]), ("sent_to_registry",)),
    ],
    "correct_identity": [
        Case("A's found resident", lambda w: {"resident_id": w.a["found"], "base_version": 1,
                                              "fields": {"name": "Nama Diambil"}}, ("found",)),
        Case("B's own resident moved into A's desa", lambda w: {
            "resident_id": w.b["found"], "base_version": 1, "fields": {"desa_code": DESA_A}},
             check=lambda result, w, s: _stays_in_juai(result, w, s, "found")),
    ],
    "deliver_card": [
        Case("A's card-collected resident",
             lambda w: pipeline_args("deliver_card", w.a["card_collected"]), ("card_collected",)),
        Case("A's delivered resident (would open a conflict)",
             lambda w: pipeline_args("deliver_card", w.a["delivered"]), ("delivered",)),
    ],
}

MATRIX = [pytest.param(name, case, id=f"{name}: {case.label}" if case else name)
          for name in sorted(MUTATORS) for case in CASES.get(name, [None])]


@pytest.mark.parametrize("name, case", MATRIX)
def test_b_can_neither_read_write_link_nor_merge_a(session, kit, world, name, case):
    assert case is not None, f"no isolation case for the mutation kind {name!r}: add one"
    args = case.build(world)
    before = snapshot(session, KECAMATAN)
    result = kit.run(world.client_b, name, args, actor=ACTOR_B)
    if case.absent:
        swapped = {world.a[key]: str(uuid.uuid4()) for key in case.absent}
        text = json.dumps(args)
        for a_id, unknown in swapped.items():
            text = text.replace(a_id, unknown)
        unknown_result = kit.run(world.client_b, name, json.loads(text), actor=ACTOR_B)
        assert result["status"] == "rejected", result
        unknown_result["id"] = result["id"]
        as_if_absent(result, unknown_result, swapped)
    else:
        case.check(result, world, session)
    assert snapshot(session, KECAMATAN) == before
    assert_no_crossing(session, kit, world)


def test_b_own_cases_are_not_moved_by_a_refused_mixed_mutation(session, kit, world):
    before = snapshot(session, JUAI)
    kit.run(world.client_b, "pick_up", pipeline_args(
        "pick_up", world.b["verified"], resident_ids=[world.b["verified"], world.a["verified"]]),
        actor=ACTOR_B)
    assert snapshot(session, JUAI)[0] == before[0]


# ---------------------------------------------------------------- duplicates, both orders
def test_same_nik_in_b_first_then_a_links_nothing(session, kit):
    """The issue's other order: B registers a NIK first, A's real resident comes later."""
    client_b, client_a = kit.client(user_id=20), kit.client(user_id=7)
    nik = "6311041203990042"
    planted = kit.found(client_b, actor=ACTOR_B, **b_registration("Warga Juai", nik=nik))
    real = kit.found(client_a, actor=ACTOR_A, name="Warga Batumandi", nik=nik)
    assert session.scalars(select(Conflict)).all() == []
    assert "nik_registered_elsewhere" in session.get(Resident, real).warnings
    assert "nik_registered_elsewhere" not in session.get(Resident, planted).warnings
    # a second case of the same NIK inside A is still a possible duplicate of A's own
    again = kit.found(client_a, actor=ACTOR_A, name="Warga Batumandi Lagi", nik=nik)
    [conflict] = session.scalars(select(Conflict)).all()
    assert (conflict.resident_id, conflict.other_resident_id, conflict.kecamatan_code) == (
        again, real, KECAMATAN)


def test_same_name_and_birth_date_never_crosses(session, kit):
    client_b, client_a = kit.client(user_id=20), kit.client(user_id=7)
    kit.found(client_a, actor=ACTOR_A, name="Siti Sama", nik=None, birth_date="2001-02-03")
    kit.found(client_b, actor=ACTOR_B, **b_registration("SITI  sama", birth_date="2001-02-03"))
    assert session.scalars(select(Conflict)).all() == []


def test_a_nik_elsewhere_answer_names_nobody_in_an_import(session, kit, world):
    nik = session.get(Resident, world.a["found"]).nik
    before = snapshot(session, KECAMATAN)
    with pytest.raises(ImportRejected) as info:
        import_listed_residents(session, CAMAT_B, operation_id=9, now=NOW, rows=[
            {"desa_code": DESA_JUAI, "name": "Warga Juai Daftar", "nik": nik}])
    session.rollback()
    text = json.dumps([info.value.to_dict(), info.value.errors])
    assert "Batumandi" not in text and world.a["found"] not in text
    assert [field for _, field, _ in info.value.errors] == ["nik"]
    assert snapshot(session, KECAMATAN) == before


def test_an_import_links_same_name_rows_only_inside_its_kecamatan(session, kit, world):
    kit.found(world.client_b, actor=ACTOR_B, **b_registration("Udin Daftar", nik=None,
                                                               birth_date="2010-01-01"))
    before = snapshot(session, KECAMATAN)
    ids = import_listed_residents(session, CAMAT_B, operation_id=9, now=NOW, rows=[
        {"desa_code": DESA_JUAI, "name": "Udin Daftar", "birth_date": "2010-01-01"}])
    session.commit()
    [conflict] = session.scalars(select(Conflict).where(Conflict.resident_id == ids[0])).all()
    assert conflict.kecamatan_code == JUAI
    assert snapshot(session, KECAMATAN) == before
    assert_no_crossing(session, kit, world)


# ---------------------------------------------------------------- office functions
def _office_cases(world):
    a = world.a
    return {
        "create_batch": lambda s: create_batch(
            s, CAMAT_B, batch_id=uid(), number="BA/9/2026", handed_at=datetime(2026, 12, 1, 9),
            resident_ids=[a["recorded"]], notes=None, now=NOW),
        "record_collection": lambda s: record_collection(
            s, CAMAT_B, batch_id=world.a_batch, collected_at=NOW, now=NOW, items=[
                {"resident_id": a["sent_to_registry"], "outcome": "collected"}]),
        "resolve_conflict": lambda s: resolve_conflict(
            s, CAMAT_B, conflict_id=world.a_conflict, decision="merge", note=None, now=NOW),
        "reopen_case": lambda s: reopen_case(s, CAMAT_B, resident_id=a["rejected"], note=None,
                                             now=NOW),
        "correct_identity_office": lambda s: correct_identity_office(
            s, CAMAT_B, resident_id=a["verified"], fields={"name": "Nama Diambil"},
            reason="uji", now=NOW),
        "record_at_office": lambda s: record_at_office(
            s, CAMAT_B, entries=[{"resident_id": a["picked_up"], "outcome": "done"}],
            recorded_at=NOW, now=NOW),
        "import_listed_residents": lambda s: import_listed_residents(
            s, CAMAT_B, operation_id=9, now=NOW, rows=[
                {"desa_code": DESA_A, "name": "Warga Masuk Batumandi"}]),
        "registry_batch": lambda s: registry_batch(s, REGISTRY_OTHER, world.a_batch),
        "confirm_receipt": lambda s: confirm_receipt(
            s, REGISTRY_OTHER, world.a_batch, received_at=datetime(2026, 12, 1, 9),
            missing=[], now=datetime(2026, 12, 2, 9)),
        "mark_cards": lambda s: mark_cards(
            s, REGISTRY_OTHER, world.a_batch, now=datetime(2026, 12, 2, 9),
            marks=[{"resident_id": a["sent_to_registry"], "status": "ready"}]),
    }


def _office_functions():
    """Every public function of sync/ that acts for the office (takes an OfficeActor, or a
    RegistryActor: Disdukcapil's, of a kabupaten)."""
    found = {}
    for info in pkgutil.iter_modules(sync.__path__):
        module = importlib.import_module(f"sync.{info.name}")
        for name, fn in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(fn) or fn.__module__ != module.__name__:
                continue
            actor = inspect.signature(fn).parameters.get("actor")
            if actor is not None and any(kind in str(actor.annotation)
                                         for kind in ("OfficeActor", "RegistryActor")):
                found[name] = fn
    return found


# Building blocks the office actions above use, each with the reason it needs no case.
NOT_OFFICE_ACTIONS = {
    "kecamatan_scope": "the scope every action applies: tested through them",
    "in_kabupaten": "a SQL condition for Disdukcapil's lists: tested in tests/server",
    "office_author": "the event author of an action: touches no resident",
    "office_resident": "the scoped case lookup every action uses: tested through them",
    "require_role": "the role check of every action: tested through them",
}
OFFICE_FUNCTIONS = sorted(set(_office_functions()) - set(NOT_OFFICE_ACTIONS))


@pytest.mark.parametrize("name", OFFICE_FUNCTIONS)
def test_office_of_b_cannot_touch_a(session, kit, world, name):
    cases = _office_cases(world)
    assert name in cases, f"no isolation case for the office function {name!r}: add one"
    before = snapshot(session, KECAMATAN)
    with pytest.raises(OfficeError) as info:
        cases[name](session)
    session.rollback()
    expected = "import_rejected" if name == "import_listed_residents" else "not_found"
    assert info.value.code == expected
    assert "Batumandi" not in json.dumps([info.value.to_dict(), getattr(info.value, "errors", 0)])
    assert snapshot(session, KECAMATAN) == before
    assert_no_crossing(session, kit, world)


# ---------------------------------------------------------------- conflicts already crossing
def _plant(session, kecamatan, resident_id, other_id=None, kind="possible_duplicate"):
    """A conflict row as the old code could leave it: filed in one kecamatan, pointing across."""
    conflict = Conflict(kind=kind, resident_id=resident_id, other_resident_id=other_id,
                        details={"reason": "same_nik"}, status="open", created_at=NOW,
                        kecamatan_code=kecamatan)
    session.add(conflict)
    session.commit()
    return conflict.id


@pytest.mark.parametrize("decision", ["merge", "not_duplicate"])
@pytest.mark.parametrize("direction", ["other_is_a", "resident_is_a"])
def test_a_conflict_pointing_across_is_refused(session, kit, world, decision, direction):
    own, theirs = world.b["found"], world.a["found"]
    pair = (own, theirs) if direction == "other_is_a" else (theirs, own)
    conflict_id = _plant(session, JUAI, *pair)
    before_a, before_b = snapshot(session, KECAMATAN)[:2], snapshot(session, JUAI)[:2]
    with pytest.raises(OfficeError) as info:
        resolve_conflict(session, CAMAT_B, conflict_id=conflict_id, decision=decision, note=None,
                         now=NOW)
    session.rollback()
    assert info.value.code == "not_found"
    assert snapshot(session, KECAMATAN)[:2] == before_a
    assert snapshot(session, JUAI)[:2] == before_b
    assert session.get(Conflict, conflict_id).status == "open"


def test_the_camat_of_a_cannot_resolve_it_either(session, kit, world):
    conflict_id = _plant(session, KECAMATAN, world.a["found"], world.b["found"])
    with pytest.raises(OfficeError) as info:
        resolve_conflict(session, CAMAT_A, conflict_id=conflict_id, decision="merge", note=None,
                         now=NOW)
    session.rollback()
    assert info.value.code == "not_found"
    assert session.get(Resident, world.b["found"]).merged_into is None
    assert session.get(Resident, world.a["found"]).merged_into is None
