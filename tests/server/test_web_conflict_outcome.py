"""Office view: after the camat's decision, a conflict page says what stands now (issue #11 §6:
after "Tetap ditolak" it still said the verification stands)."""
import re

import pytest
from sqlalchemy import select

from office_kit import Phone, concurrent_edit, double_delivery, verify_vs_reject
from server.extensions import db
from sync.models import Conflict, Resident

NOW = "(berlaku sekarang)"


# The shared situations of office_kit, called as every setup here is: (client, auth, device).
def _verify_vs_reject(client, auth, device):
    verify_vs_reject(device)


def _double_delivery(client, auth, device):
    double_delivery(device, client, auth)


def _concurrent_edit(client, auth, device):
    concurrent_edit(device)


def _possible_duplicate(client, auth, device):
    a, b = Phone(device, "petugas", label="HP A"), Phone(device, "petugas2", label="HP B")
    a.register(name="Siti Lama", nik="6311045403080001", birth_date="2008-03-14")
    b.register(name="Siti Baru", nik="6311045403080001", birth_date="2008-03-14")


def standing(page):
    """The titles of the sides marked as standing now."""
    return [t.strip() for t in re.findall(r"<h3>([^<]*)</h3>", page) if NOW in t]


@pytest.mark.parametrize("setup, decision, stands", [
    (_verify_vs_reject, None, "Diverifikasi"),  # the first verification stood when it arose
    (_verify_vs_reject, "keep_verified", "Diverifikasi"),
    (_verify_vs_reject, "keep_rejected", "Ditolak"),
    (_double_delivery, None, "Penyerahan pertama"),
    (_double_delivery, "keep_first", "Penyerahan pertama"),
    (_double_delivery, "keep_second", "Penyerahan kedua"),
    (_concurrent_edit, "keep_current", None),
    (_concurrent_edit, "restore_previous", "Nilai sebelumnya"),
], ids=lambda v: getattr(v, "__name__", v))
def test_the_side_that_stands_follows_the_decision(client, auth, app, device, setup, decision,
                                                     stands):
    setup(client, auth, device)
    with app.app_context():
        conflict_id = db.session.execute(select(Conflict.id)).scalar_one()
    auth.login("camat")
    if decision:
        res = client.post(f"/conflicts/{conflict_id}", data={"decision": decision})
        assert res.status_code == 302
    page = client.get(f"/conflicts/{conflict_id}").get_data(as_text=True)
    if stands is None:  # keep_current: the side that stood before still stands
        assert "Nilai yang berlaku sekarang" in page and standing(page) == []
    else:
        assert [t.split(" (")[0] for t in standing(page)] == [stands], standing(page)
    if decision == "restore_previous":
        assert "Nilai yang berlaku sekarang" not in page and "dibatalkan camat" in page


def test_the_verification_does_not_stand_after_tetap_ditolak(client, auth, app, device):
    """The reported case: verified first, so the verification stood; then "Tetap ditolak"."""
    a, b = Phone(device, "petugas", label="HP A"), Phone(device, "petugas2", label="HP B")
    rid = a.register(name="Rina Urutan")
    a.verify(rid)
    b.reject(rid)
    with app.app_context():
        conflict_id = db.session.execute(select(Conflict.id)).scalar_one()
    auth.login("camat")
    page = client.get(f"/conflicts/{conflict_id}").get_data(as_text=True)
    assert standing(page) == [f"Diverifikasi {NOW}"]
    client.post(f"/conflicts/{conflict_id}", data={"decision": "keep_rejected"})
    page = client.get(f"/conflicts/{conflict_id}").get_data(as_text=True)
    assert standing(page) == [f"Ditolak {NOW}"]
    with app.app_context():
        assert db.session.get(Resident, rid).stage == "rejected"


@pytest.mark.parametrize("decision", ["merge", "not_duplicate"])
def test_a_duplicate_page_says_what_was_decided(client, auth, app, device, decision):
    _possible_duplicate(client, auth, device)
    with app.app_context():
        conflict_id = db.session.execute(select(Conflict.id)).scalar_one()
    auth.login("camat")
    open_page = client.get(f"/conflicts/{conflict_id}").get_data(as_text=True)
    assert "“Gabungkan” menyimpan data yang lebih lama" in open_page
    assert client.post(f"/conflicts/{conflict_id}", data={"decision": decision}).status_code == 302
    page = client.get(f"/conflicts/{conflict_id}").get_data(as_text=True)
    assert "“Gabungkan” menyimpan data yang lebih lama" not in page
    if decision == "merge":
        assert "data Siti Lama dipertahankan" in page and "digabungkan ke data lain" in page
    else:
        assert "kedua data tetap" in page and "digabungkan ke data lain" not in page
