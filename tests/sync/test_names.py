"""Names as people write them (issue #11 §4), on SQLite and PostgreSQL: text is stored in NFC
without invisible format characters, possible duplicates are found on the folded name, and a
NIK or KK typed with the card's spaces and dots is read as its 16 digits."""
import unicodedata

import pytest
from sqlalchemy import select

from sync.handlers_registration import name_key
from sync.models import Conflict, Resident, ResidentEvent
from sync.schemas import RegisterResidentArgsSchema
from sync.wirefields import clean_text, fold

NFD = unicodedata.normalize("NFD", "Nur \u00c5ini")
# (as usually typed, as it also arrives: decomposed, with a zero-width space, a soft hyphen)
SPELLINGS = [("Nur \u00c5ini", NFD), ("Siti Aminah", "Siti Ami\u200bnah"),
             ("Rina Wati", "Ri\u00adna Wati")]


@pytest.mark.parametrize("plain, variant", SPELLINGS, ids=["NFD", "zero-width space", "soft hyphen"])
def test_a_name_written_differently_is_the_same_person(session, kit, plain, variant):
    client = kit.client()
    first, _ = kit.register(client, nik=None, name=plain)
    second, response = kit.register(client, nik=None, name=variant)
    assert response["results"][0]["status"] == "applied"
    [conflict] = session.scalars(select(Conflict).where(Conflict.kind == "possible_duplicate"))
    assert (conflict.resident_id, conflict.other_resident_id) == (
        second["resident_id"], first["resident_id"])
    assert conflict.details["reason"] == "same_name_birth_date_desa"
    # What is stored is the name as it looks: NFC, nothing invisible.
    stored = session.get(Resident, second["resident_id"])
    assert stored.name == plain
    assert stored.name_key == session.get(Resident, first["resident_id"]).name_key


def test_case_accents_and_apostrophes_are_folded_too(session, kit):
    client = kit.client()
    first, _ = kit.register(client, nik=None, name="Ma'ruf \u00c9lok")
    kit.register(client, nik=None, name="MA\u2019RUF ELOK")
    kit.register(client, nik=None, name="maruf  elok")
    kit.register(client, nik=None, name="Marufa Elok")  # another name
    conflicts = session.scalars(select(Conflict)).all()
    assert len(conflicts) == 3  # the 2nd links the 1st, the 3rd links both
    assert {c.other_resident_id for c in conflicts} >= {first["resident_id"]}


@pytest.mark.parametrize("typed, key", [
    ("Nur \u00c5ini", "nur aini"), (NFD, "nur aini"), ("Siti Ami\u200bnah", "siti aminah"),
    ("Ri\u00adna Wati", "rina wati"), ("\u00c9lok \u00d1urjanah", "elok nurjanah"),
    ("MA\u2019RUF", "maruf"), ("Ma`ruf", "maruf"), ("Ma\u00b4ruf", "maruf"), ("Ma\u02bcruf", "maruf"),
    ("\u202bSiti\u202c  \u2066Aminah\u2069", "siti aminah"), ("Stra\u00dfe", "strasse"),
])
def test_name_key_folds(typed, key):
    assert name_key(typed) == fold(typed) == key


def test_name_key_fits_its_column():
    assert len(name_key("\u00df" * 100)) == 100  # casefold "ß" → "ss" doubles the length


def test_clean_text_keeps_lines_and_visible_text():
    assert clean_text("Jl. Pasar\u200b Lama\nRT 1") == "Jl. Pasar Lama\nRT 1"
    assert clean_text("A\u200b\u030a") == "\u00c5"  # the mark composes once the space is gone
    assert clean_text("Ma\u2019ruf") == "Ma\u2019ruf"  # apostrophes are text, only folded


def test_registration_text_is_stored_clean(session, kit):
    client = kit.client()
    args, response = kit.register(client, address="Jl.\u200b Uji\u00ad No. 1",
                                  birth_place="Pa\u200dringin", notes="catatan\u202e\nbaris dua")
    assert response["results"][0]["status"] == "applied"
    resident = session.get(Resident, args["resident_id"])
    assert (resident.address, resident.birth_place, resident.notes) == (
        "Jl. Uji No. 1", "Paringin", "catatan\nbaris dua")
    # An edit too.
    result = kit.run(client, "update_resident", {"resident_id": args["resident_id"],
                                                 "base_version": 1,
                                                 "fields": {"address": "Jl. Ba\u200bru"}})
    assert result["status"] == "applied"
    session.expire_all()
    assert session.get(Resident, args["resident_id"]).address == "Jl. Baru"


def test_a_name_of_invisible_characters_only_is_empty(kit):
    errors = RegisterResidentArgsSchema().validate(kit.register_args(name="\u200b\u00ad \u2066"))
    assert errors == {"name": ["Wajib diisi."]}


def test_nik_and_kk_typed_in_groups_are_read_as_digits(session, kit):
    client = kit.client()
    args, response = kit.register(client, nik="6311 0412.0399 0002",
                                  kk_number=" 6311.0401.0120.0001 ")
    assert response["results"][0]["status"] == "applied"
    resident = session.get(Resident, args["resident_id"])
    assert (resident.nik, resident.kk_number) == ("6311041203990002", "6311040101200001")


@pytest.mark.parametrize("typed, loaded", [
    ("6311 0452.0605 0003", "6311045206050003"), ("6311045206050003", "6311045206050003"),
    (" . ", None), ("6311\u00a00452\u200b0605 0003", "6311045206050003"),
])
def test_identity_numbers_drop_spaces_and_dots(kit, typed, loaded):
    data = RegisterResidentArgsSchema().load(
        kit.register_args(nik=typed, sex="female", birth_date="2005-06-12"))
    assert data["nik"] == loaded


def test_other_separators_are_still_a_format_error(session, kit):
    client = kit.client()
    _, response = kit.register(client, nik="6311-0412-0399-0002")
    [result] = response["results"]
    assert result["status"] == "rejected"
    assert result["fields"] == {"nik": "NIK harus 16 digit angka."}


def test_a_registration_stored_before_cleaning_still_matches_its_resend(session, kit):
    """A registration stored before text was cleaned (its event keeps the raw name) and re-sent
    as it was, e.g. from a reinstalled app, is the same registration, not resident_exists."""
    raw = "Siti Ami\u200bnah"
    args, _ = kit.register(kit.client(), nik=None, name=raw)
    event = session.scalars(select(ResidentEvent).where(
        ResidentEvent.resident_id == args["resident_id"],
        ResidentEvent.kind == "registered")).one()
    event.payload = {**event.payload, "args": {**event.payload["args"], "name": raw}}
    session.commit()
    reinstalled = kit.client()
    response = kit.sync(reinstalled, [kit.mutation(reinstalled, "register_resident", args)])
    assert response["results"][0]["status"] != "rejected", response["results"][0]
