"""The registrations of one sync request read the cases they may meet once (issue #12:
sync/registration_prefetch.py), and still see what the request itself changes."""
from sqlalchemy import event, select

from sync.models import Conflict, Resident

FIELDS = dict(nik=None, name="Salasiah Noor", birth_date="1990-05-17")


def selects_on_residents(session):
    """A list that collects the SELECTs reading the residents table, from now on."""
    seen = []

    def count(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "residents" in statement:
            seen.append(statement)

    event.listen(session.get_bind(), "before_cursor_execute", count)
    return seen


def duplicate_pairs(session):
    return {(c.resident_id, c.other_resident_id)
            for c in session.scalars(select(Conflict).where(Conflict.kind == "possible_duplicate"))}


def test_one_read_serves_every_registration_of_a_request(session, kit):
    client = kit.client()
    kit.register(client, nik="6311041203999999")  # an earlier case, same NIK as one below
    mutations = [kit.mutation(client, "register_resident", kit.register_args())
                 for _ in range(20)]
    same_nik = kit.register_args(nik="6311041203999999", name="Nama Lain")
    mutations.append(kit.mutation(client, "register_resident", same_nik))
    seen = selects_on_residents(session)
    response = kit.sync(client, mutations, page_size=1)
    assert {r["status"] for r in response["results"]} == {"applied"}
    # one look-up read for 21 registrations (one each before), plus the pull's own reads
    lookups = [s for s in seen if "change_seq >" not in s]
    assert len(lookups) == 1, lookups
    [(case, other)] = duplicate_pairs(session)
    assert case == same_nik["resident_id"]


def test_registrations_see_what_the_same_request_wrote(session, kit):
    client = kit.client()
    first = kit.register_args(**FIELDS)
    twin = kit.register_args(**FIELDS)  # same name, birth date and desa, no NIK
    renamed = kit.register_args(nik=None, name="Budi Santoso", birth_date="1990-05-17")
    later = kit.register_args(nik=None, name="Salasiah Rahman", birth_date="1990-05-17")
    mutations = [kit.mutation(client, "register_resident", first),
                 kit.mutation(client, "register_resident", twin),
                 kit.mutation(client, "register_resident", renamed),
                 # an edit in the middle: the next registration must see the new name
                 kit.mutation(client, "correct_identity", {
                     "resident_id": renamed["resident_id"], "base_version": 1,
                     "fields": {"name": "Salasiah Rahman"}}),
                 kit.mutation(client, "register_resident", later),
                 # the same registration again in the request: nothing new
                 kit.mutation(client, "register_resident", dict(first))]
    response = kit.sync(client, mutations)
    assert [r["status"] for r in response["results"]] == ["applied"] * 6, response["results"]
    assert duplicate_pairs(session) == {(twin["resident_id"], first["resident_id"]),
                                        (later["resident_id"], renamed["resident_id"])}
    assert len(session.scalars(select(Resident.resident_id)).all()) == 4


def test_a_rejected_registration_leaves_nothing_behind_for_the_next(session, kit):
    client = kit.client()
    bad = kit.register_args(**FIELDS, desa_code="6311042099")  # not the officer's desa
    good = kit.register_args(**FIELDS)
    response = kit.sync(client, [kit.mutation(client, "register_resident", bad),
                                 kit.mutation(client, "register_resident", good)])
    assert [r["status"] for r in response["results"]] == ["rejected", "applied"]
    assert duplicate_pairs(session) == set()
