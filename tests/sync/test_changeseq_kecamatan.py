"""One change counter per kecamatan (issue #12, sync/changeseq.py): each kecamatan numbers
its own cases, and its first number comes after everything numbered before."""
from sync.changeseq import allocate_change_seqs, counter_value
from sync.models import Resident
from sync_kit import KECAMATAN

DESA_JUAI = "6311012001"  # Kecamatan Juai


def test_a_kecamatan_counter_starts_above_the_global_one(session, kit):
    # Numbers of the code before: the one global counter (row 1), no case holds them now.
    assert allocate_change_seqs(session, 5) == [1, 2, 3, 4, 5]
    session.commit()
    client = kit.client()
    args, _ = kit.register(client)
    # above 5: a phone whose cursor is 5 still pulls it
    assert session.get(Resident, args["resident_id"]).change_seq == 6
    assert counter_value(session, KECAMATAN) == 6 and counter_value(session) == 5
    page = kit.sync(client, cursor="5")["changes"]["residents"]
    assert [r["resident_id"] for r in page] == [args["resident_id"]]


def test_each_kecamatan_numbers_its_own_cases(session, kit):
    here, there = kit.client(user_id=7), kit.client(user_id=8)
    juai = kit.actor(8, (DESA_JUAI,))
    kit.register(here)
    kit.register(here)
    # Juai's counter is new: it starts above every case there is (2), then goes its own way
    other, _ = kit.register(there, actor=juai, desa_code=DESA_JUAI, nik=None)
    third, _ = kit.register(here)
    assert [session.get(Resident, a["resident_id"]).change_seq for a in (other, third)] == [3, 3]
    assert (counter_value(session, KECAMATAN), counter_value(session, "631101")) == (3, 3)
    assert counter_value(session) is None  # the global counter was never used
    page = kit.sync(there, actor=juai, cursor="2")["changes"]["residents"]
    assert [r["resident_id"] for r in page] == [other["resident_id"]]
