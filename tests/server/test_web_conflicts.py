"""Office view: conflicts raised by two phones, shown side by side and resolved by the camat
through the real sync engine (sync.office.resolve_conflict)."""
import pytest
from sqlalchemy import select

from office_kit import (
    Phone,
    audits,
    concurrent_edit,
    count,
    csrf_token,
    double_delivery,
    verify_vs_reject,
)
from server import create_app
from server.extensions import db
from sync.models import Conflict, Resident, ResidentEvent


def _conflict(app, kind):
    with app.app_context():
        row = db.session.execute(select(Conflict).where(Conflict.kind == kind)).scalar_one()
        db.session.expunge(row)
        return row


def _resident(app, rid):
    with app.app_context():
        row = db.session.get(Resident, rid)
        db.session.expunge(row)
        return row


# ---------------------------------------------------------------- situations, via two phones
# verify_vs_reject, double_delivery and concurrent_edit are in office_kit (shared with
# test_web_conflict_outcome.py).

def possible_duplicate(device):
    a = Phone(device, "petugas", label="HP Samsung A")
    b = Phone(device, "petugas2", label="HP Oppo B")
    first = a.register(name="Siti Ganda", nik="6311045403080001", birth_date="2008-03-14")
    second = b.register(name="SITI  GANDA", nik="6311045403080001", birth_date="2008-03-14",
                        phone="0812999")
    return first, second


# ---------------------------------------------------------------- permissions

@pytest.mark.parametrize("username, list_status, detail_status", [
    ("camat", 200, 200), ("operator", 200, 200), ("camat_juai", 200, 404),
    (None, 302, 302)])
def test_conflict_pages_permissions(client, auth, app, device, username, list_status,
                                    detail_status):
    verify_vs_reject(device)
    conflict = _conflict(app, "verify_vs_reject")
    if username:
        auth.login(username)
    res = client.get("/conflicts")
    assert res.status_code == list_status
    if username == "camat_juai":
        assert "Rina Konflik" not in res.get_data(as_text=True)
    elif username:
        assert "Rina Konflik" in res.get_data(as_text=True)
    assert client.get(f"/conflicts/{conflict.id}").status_code == detail_status


@pytest.mark.parametrize("username, status", [
    ("camat", 302), ("operator", 403), ("camat_juai", 404), (None, 302)])
def test_only_the_camat_of_the_kecamatan_decides(client, auth, app, device, username, status):
    rid = verify_vs_reject(device)
    conflict = _conflict(app, "verify_vs_reject")
    if username:
        auth.login(username)
    res = client.post(f"/conflicts/{conflict.id}", data={"decision": "keep_rejected"})
    assert res.status_code == status
    after = _conflict(app, "verify_vs_reject")
    if username == "camat":
        assert after.status == "resolved"
        assert _resident(app, rid).stage == "rejected"
    else:
        assert after.status == "open" and after.resolution is None
        assert _resident(app, rid).stage == "verified"
        if username == "operator":
            assert "Hanya camat" in res.get_data(as_text=True)
        if username is None:
            assert "/login" in res.headers["Location"]


def test_operator_sees_no_decision_buttons(client, auth, app, device):
    verify_vs_reject(device)
    conflict = _conflict(app, "verify_vs_reject")
    auth.login("operator")
    page = client.get(f"/conflicts/{conflict.id}").get_data(as_text=True)
    assert 'name="decision"' not in page and "Hanya camat" in page
    auth.logout()
    auth.login("camat")
    page = client.get(f"/conflicts/{conflict.id}").get_data(as_text=True)
    assert 'value="keep_verified"' in page and 'value="keep_rejected"' in page
    assert 'value="merge"' not in page


# ---------------------------------------------------------------- each kind, end to end

def test_verify_vs_reject_list_shows_both_sides(client, auth, app, device):
    verify_vs_reject(device)
    auth.login("camat")
    page = client.get("/conflicts").get_data(as_text=True)
    assert "Diverifikasi sekaligus ditolak" in page
    assert "Rina Konflik" in page
    assert "HP Samsung A" in page and "HP Oppo B" in page  # which phone
    assert "Petugas Uji" in page and "petugas2" in page  # who
    assert "28/11/2026 09.15 WITA" in page  # when (phone clock, WITA)
    assert "Sudah punya KTP-el" in page and "Sudah punya KTP-el lama" in page
    assert "Belum diselesaikan" in page
    assert audits(app, "view_conflict_list") == 1


@pytest.mark.parametrize("decision, stage", [("keep_verified", "verified"),
                                             ("keep_rejected", "rejected")])
def test_resolve_verify_vs_reject(client, auth, app, device, decision, stage):
    rid = verify_vs_reject(device)
    conflict = _conflict(app, "verify_vs_reject")
    auth.login("camat")
    res = client.post(f"/conflicts/{conflict.id}",
                      data={"decision": decision, "note": "Dicek ke Disdukcapil"})
    assert res.status_code == 302
    page = client.get(res.headers["Location"]).get_data(as_text=True)
    assert "Konflik diselesaikan" in page and "Dicek ke Disdukcapil" in page
    assert "Selesai" in page and "Camat Uji" in page
    after = _conflict(app, "verify_vs_reject")
    assert after.status == "resolved" and after.resolution["decision"] == decision
    assert _resident(app, rid).stage == stage
    with app.app_context():
        kinds = db.session.execute(select(ResidentEvent.kind).where(
            ResidentEvent.resident_id == rid).order_by(ResidentEvent.id)).scalars().all()
    assert kinds[-1] == "conflict_resolved"
    assert audits(app, "resolve_conflict") == 1
    # resolved conflicts move below open ones and keep their decision
    listing = client.get("/conflicts").get_data(as_text=True)
    assert "Keputusan:" in listing
    # the resident's timeline shows the decision
    detail = client.get(f"/residents/{rid}").get_data(as_text=True)
    assert "Konflik diselesaikan" in detail and "Dicek ke Disdukcapil" in detail


def test_resolve_double_delivery_keep_second(client, auth, app, device):
    rid = double_delivery(device, client, auth)
    conflict = _conflict(app, "double_delivery")
    first = _resident(app, rid).delivery
    auth.login("camat")
    page = client.get(f"/conflicts/{conflict.id}").get_data(as_text=True)
    assert "KTP tercatat diserahkan dua kali" in page
    assert "Diwakilkan kepada Ibu Dodi (Ibu kandung)" in page
    assert "-2.34567, 115.43219 (akurasi ± 12 m)" in page
    assert "HP Samsung A" in page and "HP Oppo B" in page
    res = client.post(f"/conflicts/{conflict.id}", data={"decision": "keep_second"})
    assert res.status_code == 302
    delivery = _resident(app, rid).delivery
    assert delivery["recipient"] == "proxy" and delivery["proxy_name"] == "Ibu Dodi"
    assert delivery["delivery_id"] != first["delivery_id"]


def test_resolve_concurrent_edit_restore_previous(client, auth, app, device):
    rid = concurrent_edit(device)
    conflict = _conflict(app, "concurrent_edit")
    auth.login("camat")
    page = client.get(f"/conflicts/{conflict.id}").get_data(as_text=True)
    assert "Perubahan data bersamaan" in page and "Telepon" in page
    assert "081100000002" in page and "081100000003" in page
    assert "Nilai yang tertimpa" in page and "Nilai yang berlaku sekarang" in page
    assert _resident(app, rid).phone == "081100000003"
    res = client.post(f"/conflicts/{conflict.id}", data={"decision": "restore_previous"})
    assert res.status_code == 302
    assert _resident(app, rid).phone == "081100000002"


def test_possible_duplicate_compare_and_merge(client, auth, app, device):
    first, second = possible_duplicate(device)
    conflict = _conflict(app, "possible_duplicate")
    auth.login("camat")
    page = client.get(f"/conflicts/{conflict.id}").get_data(as_text=True)
    assert "Kemungkinan data ganda" in page
    assert "Bandingkan kedua data warga" in page
    assert "Siti Ganda" in page and "SITI GANDA" in page
    assert "0812999" in page and "14/03/2008" in page
    assert 'value="merge"' in page and 'value="not_duplicate"' in page
    res = client.post(f"/conflicts/{conflict.id}", data={"decision": "merge",
                                                         "note": "Orang yang sama"})
    assert res.status_code == 302
    assert _resident(app, first).merged_into is None  # the older case is kept
    assert _resident(app, second).merged_into == first
    detail = client.get(f"/residents/{second}").get_data(as_text=True)
    assert "sudah digabung" in detail and "Siti Ganda" in detail


def test_possible_duplicate_not_duplicate(client, auth, app, device):
    first, second = possible_duplicate(device)
    conflict = _conflict(app, "possible_duplicate")
    auth.login("camat")
    res = client.post(f"/conflicts/{conflict.id}", data={"decision": "not_duplicate"})
    assert res.status_code == 302
    assert _resident(app, first).merged_into is None
    assert _resident(app, second).merged_into is None
    assert _conflict(app, "possible_duplicate").status == "resolved"


# ---------------------------------------------------------------- bad input

BAD_DECISIONS = [
    ({}, 400, "Pilih salah satu keputusan"),
    ({"decision": ""}, 400, "Pilih salah satu keputusan"),
    ({"decision": "merge"}, 400, "Pilih salah satu keputusan"),  # not for this kind
    ({"decision": "hapus_semua"}, 400, "Pilih salah satu keputusan"),
    ({"decision": "keep_verified", "note": "x" * 1001}, 400, "paling banyak 1000 karakter"),
]


@pytest.mark.parametrize("form, status, message", BAD_DECISIONS)
def test_bad_decision_is_4xx_and_changes_nothing(client, auth, app, device, form, status,
                                                 message):
    rid = verify_vs_reject(device)
    conflict = _conflict(app, "verify_vs_reject")
    events = count(app, ResidentEvent)
    auth.login("camat")
    res = client.post(f"/conflicts/{conflict.id}", data=form)
    assert res.status_code == status
    assert message in res.get_data(as_text=True)
    assert _conflict(app, "verify_vs_reject").status == "open"
    assert _resident(app, rid).stage == "verified"
    assert count(app, ResidentEvent) == events


def test_deciding_twice_is_409(client, auth, app, device):
    verify_vs_reject(device)
    conflict = _conflict(app, "verify_vs_reject")
    auth.login("camat")
    assert client.post(f"/conflicts/{conflict.id}",
                       data={"decision": "keep_verified"}).status_code == 302
    events = count(app, ResidentEvent)
    res = client.post(f"/conflicts/{conflict.id}", data={"decision": "keep_rejected"})
    assert res.status_code == 409 and "sudah diselesaikan" in res.get_data(as_text=True)
    assert _conflict(app, "verify_vs_reject").resolution["decision"] == "keep_verified"
    assert count(app, ResidentEvent) == events


def test_unknown_conflict_is_404(client, auth):
    auth.login("camat")
    assert client.get("/conflicts/999999").status_code == 404
    assert client.post("/conflicts/999999", data={"decision": "merge"}).status_code == 404
    assert client.get("/conflicts/abc").status_code == 404


def test_open_conflicts_come_first(client, auth, app, device):
    verify_vs_reject(device)
    concurrent_edit(device)
    old = _conflict(app, "verify_vs_reject")
    auth.login("camat")
    client.post(f"/conflicts/{old.id}", data={"decision": "keep_verified"})
    page = client.get("/conflicts").get_data(as_text=True)
    assert page.index("Perubahan data bersamaan") < page.index("Diverifikasi sekaligus ditolak")
    only_open = client.get("/conflicts?status=open").get_data(as_text=True)
    assert "Perubahan data bersamaan" in only_open
    assert "Diverifikasi sekaligus ditolak" not in only_open
    assert "1 konflik belum diselesaikan" in page


def test_conflict_form_needs_csrf(db_url, app, device):
    verify_vs_reject(device)
    conflict = _conflict(app, "verify_vs_reject")
    real = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": "conflicts-csrf-key-6Yh1Tb8Mr3Kq5Wz9Jx2Pn4",
                       "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    web = real.test_client()
    page = web.get("/login").get_data(as_text=True)
    web.post("/login", data={"username": "camat", "password": "rahasia-camat",
                             "csrf_token": csrf_token(page)})
    page = web.get(f"/conflicts/{conflict.id}").get_data(as_text=True)
    token = csrf_token(page)
    assert token
    res = web.post(f"/conflicts/{conflict.id}", data={"decision": "keep_rejected"})
    assert res.status_code == 400
    assert _conflict(app, "verify_vs_reject").status == "open"
    res = web.post(f"/conflicts/{conflict.id}", data={"decision": "keep_rejected",
                                                      "csrf_token": token})
    assert res.status_code == 302
    assert _conflict(app, "verify_vs_reject").status == "resolved"
    with real.app_context():
        db.engine.dispose()  # this app's own pool: unclosed connections warn (= fail)


# ---------------------------------------------------------------- tenant isolation (issue #8)

NIK_ASLI = "6311044507010003"  # synthetic, Batumandi-coded
JUAI_DESA = "6311012001"
BATUMANDI_SECRETS = ("Warga Batumandi Asli", NIK_ASLI, "6311040101010009", "Jalan Asli No. 9",
                     "081234500001")


def register_batumandi(device):
    return Phone(device, "petugas").register(
        name="Warga Batumandi Asli", nik=NIK_ASLI, kk_number="6311040101010009",
        birth_date="2001-07-05", address="Jalan Asli No. 9", phone="081234500001")


def register_juai(device, **overrides):
    args = {"desa": JUAI_DESA, "name": "Warga Juai Tiruan", "nik": NIK_ASLI,
            "birth_date": "2001-07-05", **overrides}
    return Phone(device, "petugas_juai").register(**args)


def trail(app, rid):
    """What a write to a resident would change: its row's version state and its events."""
    with app.app_context():
        row = db.session.get(Resident, rid)
        events = db.session.execute(select(ResidentEvent.id).where(
            ResidentEvent.resident_id == rid)).scalars().all()
        return row.version, row.change_seq, row.merged_into, row.stage, events


def plant_conflict(app, kecamatan, resident_id, other_id):
    """A conflict as the old code filed it: in one kecamatan, pointing at the other's case."""
    with app.app_context():
        conflict = Conflict(kind="possible_duplicate", resident_id=resident_id,
                            other_resident_id=other_id, details={"reason": "same_nik"},
                            status="open", kecamatan_code=kecamatan)
        db.session.add(conflict)
        db.session.commit()
        return conflict.id


def assert_nothing_of_batumandi(page):
    for secret in BATUMANDI_SECRETS:
        assert secret not in page, secret


def test_same_nik_in_another_kecamatan_files_no_conflict(client, auth, app, device):
    """The issue's example: Juai registers a NIK Batumandi already holds."""
    batumandi = register_batumandi(device)
    before = trail(app, batumandi)
    juai = register_juai(device)
    assert count(app, Conflict) == 0
    assert trail(app, batumandi) == before
    # the notice names nobody: Juai's case only says the NIK is known elsewhere
    assert "nik_registered_elsewhere" in _resident(app, juai).warnings
    auth.login("camat_juai")
    listing = client.get("/conflicts").get_data(as_text=True)
    assert "0 konflik belum diselesaikan" in listing
    assert_nothing_of_batumandi(listing)
    detail = client.get(f"/residents/{juai}").get_data(as_text=True)
    assert "sudah tercatat pada data warga di kecamatan lain" in detail
    assert "Warga Batumandi Asli" not in detail and batumandi not in detail


def test_same_nik_other_order_never_merges_batumandi_away(client, auth, app, device):
    """The other order: Juai first, then Batumandi's real resident; nothing links them."""
    juai = register_juai(device)
    batumandi = register_batumandi(device)
    assert count(app, Conflict) == 0
    assert "nik_registered_elsewhere" in _resident(app, batumandi).warnings
    auth.login("camat")
    assert "0 konflik belum diselesaikan" in client.get("/conflicts").get_data(as_text=True)
    assert _resident(app, batumandi).merged_into is None
    assert _resident(app, juai).merged_into is None


@pytest.mark.parametrize("decision", ["merge", "not_duplicate"])
def test_a_conflict_pointing_across_is_404_and_never_resolved(client, auth, app, device,
                                                              decision):
    """Defence in depth: conflicts filed across kecamatan by the old code stay unreachable."""
    batumandi = register_batumandi(device)
    juai = register_juai(device, nik=None)
    conflict_id = plant_conflict(app, "631101", juai, batumandi)
    before, before_juai = trail(app, batumandi), trail(app, juai)
    auth.login("camat_juai")
    res = client.get(f"/conflicts/{conflict_id}")
    assert res.status_code == 404
    assert_nothing_of_batumandi(res.get_data(as_text=True))
    listing = client.get("/conflicts").get_data(as_text=True)
    assert_nothing_of_batumandi(listing)
    assert "Warga Juai Tiruan" not in listing and "0 konflik belum diselesaikan" in listing
    res = client.post(f"/conflicts/{conflict_id}", data={"decision": decision})
    assert res.status_code == 404
    assert_nothing_of_batumandi(res.get_data(as_text=True))
    assert trail(app, batumandi) == before and trail(app, juai) == before_juai
    with app.app_context():
        assert db.session.get(Conflict, conflict_id).status == "open"


def test_the_camat_of_batumandi_cannot_merge_a_juai_case(client, auth, app, device):
    batumandi = register_batumandi(device)
    juai = register_juai(device, nik=None)
    conflict_id = plant_conflict(app, "631104", batumandi, juai)
    before = trail(app, juai)
    auth.login("camat")
    res = client.get(f"/conflicts/{conflict_id}")
    assert res.status_code == 404 and "Warga Juai Tiruan" not in res.get_data(as_text=True)
    assert client.post(f"/conflicts/{conflict_id}", data={"decision": "merge"}).status_code == 404
    assert trail(app, juai) == before
    assert _resident(app, batumandi).merged_into is None
