"""Perekaman di kantor (issue #11 §6): the office marks a day's picked-up residents recorded or
failed (with a reason) in one form; the phones pull it; a resubmission applies once; a
phone's concurrent record meets the usual rules."""
import re

import pytest
from sqlalchemy import func, select

from cah_testkit import forge_office_session
from office_kit import Phone, tables
from server.extensions import db
from server.models import AuditEntry, User
from sync.models import Resident, ResidentEvent

DAY = "28/11/2026"  # office_kit's pick-up day (WITA)


def picked_up(device, count=3):
    phone = Phone(device)
    rids = []
    for i in range(count):
        rid = phone.register(name=f"Warga Jemput {i + 1}", nik=None)
        phone.verify(rid)
        rids.append(rid)
    phone.pick_up(*rids)
    return phone, rids


def stage(app, rid):
    with app.app_context():
        return db.session.get(Resident, rid).stage


def events(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ResidentEvent))


def form(page):
    token = re.search(r'name="submission_id" value="([^"]+)"', page).group(1)
    return {"submission_id": token, "day": DAY, "desa": ""}


def test_done_and_failed_reach_the_phones(app, client, auth, device):
    phone, (a, b, c) = picked_up(device)
    cursor = device.sync(phone.session).get_json()["cursor"]
    auth.login("operator")
    page = client.get(f"/perekaman?day={DAY}").get_data(as_text=True)
    rows = tables(page).tables["perekaman"][1:]
    assert sorted(r[0] for r in rows) == ["Warga Jemput 1", "Warga Jemput 2", "Warga Jemput 3"]
    data = {**form(page), f"outcome-{a}": "done", f"outcome-{b}": "failed",
            f"reason-{b}": "device_down", f"outcome-{c}": ""}
    res = client.post("/perekaman", data=data)
    assert res.status_code == 303
    assert "1 berhasil, 1 gagal" in client.get(res.location).get_data(as_text=True)
    assert (stage(app, a), stage(app, b), stage(app, c)) == ("recorded", "verified", "picked_up")
    with app.app_context():
        operator = db.session.scalar(select(User.id).where(User.username == "operator"))
        rb = db.session.get(Resident, b)
        assert rb.recording["failed"] == "device_down" and rb.pickup is None
        assert rb.recording["client_id"] == "office" and rb.recording["by"] == operator
        kinds = {(e.resident_id, e.kind, e.client_id) for e in db.session.scalars(
            select(ResidentEvent).where(ResidentEvent.user_id == operator))}
        assert kinds == {(a, "recorded", "office"), (b, "recording_failed", "office")}
        assert db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "record_at_office")).one().details["count"] == 2
    # The officer's phone receives both at its next sync.
    pulled = {r["resident_id"]: r for r in
              device.sync(phone.session, cursor=cursor).get_json()["changes"]["residents"]}
    assert pulled[a]["stage"] == "recorded" and pulled[b]["stage"] == "verified"
    assert c not in pulled
    # Only c still waits.
    rows = tables(client.get(f"/perekaman?day={DAY}").get_data(as_text=True)).tables["perekaman"]
    assert [r[0] for r in rows[1:]] == ["Warga Jemput 3"]


@pytest.mark.parametrize("extra, message", [
    ({"reason": ""}, "Pilih alasan perekaman gagal untuk Warga Jemput 1"),
    ({"reason": "other", "text": ""}, "Jelaskan alasan"),
    ({"reason": "bukan_alasan"}, "Pilihan alasan tidak valid"),
])
def test_failed_needs_a_reason(app, client, auth, device, extra, message):
    _phone, (a, b, _c) = picked_up(device)
    auth.login()
    page = client.get(f"/perekaman?day={DAY}").get_data(as_text=True)
    before = events(app)
    data = {**form(page), f"outcome-{b}": "done", f"outcome-{a}": "failed",
            f"reason-{a}": extra["reason"], f"text-{a}": extra.get("text", "")}
    res = client.post("/perekaman", data=data)
    assert res.status_code == 400
    assert message in res.get_data(as_text=True)
    assert events(app) == before and stage(app, b) == "picked_up"  # all or nothing
    # "other" with its explanation is accepted
    res = client.post("/perekaman", data={**data, f"reason-{a}": "other",
                                          f"text-{a}": "Listrik padam di kantor"})
    assert res.status_code == 303 and stage(app, a) == "verified"


def test_double_submit_applies_once(app, client, auth, device):
    _phone, (a, b, _c) = picked_up(device)
    auth.login()
    page = client.get(f"/perekaman?day={DAY}").get_data(as_text=True)
    data = {**form(page), f"outcome-{a}": "done", f"outcome-{b}": "failed",
            f"reason-{b}": "resident_absent"}
    assert client.post("/perekaman", data=data).status_code == 303
    after = events(app)
    replay = client.post("/perekaman", data=data)
    assert replay.status_code == 303
    assert "tidak disimpan dua kali" in client.get(replay.location).get_data(as_text=True)
    # A fresh token with the same choices (a reloaded old page) writes nothing either.
    assert client.post("/perekaman", data={**data, "submission_id": "x" * 24}).status_code == 303
    assert events(app) == after


def test_phone_recorded_meanwhile(app, client, auth, device):
    phone, (a, b, _c) = picked_up(device)
    auth.login()
    page = client.get(f"/perekaman?day={DAY}").get_data(as_text=True)
    phone.record(a)  # the officer's phone records a while the form is open
    before = events(app)
    res = client.post("/perekaman", data={**form(page), f"outcome-{a}": "failed",
                                          f"reason-{a}": "device_down", f"outcome-{b}": "done"})
    assert res.status_code == 409
    assert "sudah tercatat berhasil" in res.get_data(as_text=True)
    assert events(app) == before and stage(app, b) == "picked_up"
    # "done" for it is no conflict: it stays recorded once.
    res = client.post("/perekaman", data={**form(page), f"outcome-{a}": "done",
                                          f"outcome-{b}": "done"})
    assert res.status_code == 303
    assert (stage(app, a), stage(app, b)) == ("recorded", "recorded")
    assert events(app) == before + 1


@pytest.mark.parametrize("who, get_status, post_status", [
    ("anonim", 302, 302), ("petugas", 403, 403), ("operator", 200, 303), ("camat", 200, 303),
    ("camat_juai", 200, 404)])
def test_permissions(app, client, auth, device, who, get_status, post_status):
    _phone, (a, _b, _c) = picked_up(device)
    if who == "petugas":
        forge_office_session(app, client, "petugas")
    elif who != "anonim":
        auth.login(who)
    res = client.get(f"/perekaman?day={DAY}")
    assert res.status_code == get_status
    if who == "camat_juai":
        assert "Warga Jemput" not in res.get_data(as_text=True)
    res = client.post("/perekaman", data={"day": DAY, f"outcome-{a}": "done"})
    assert res.status_code == post_status
    assert stage(app, a) == ("recorded" if post_status == 303 else "picked_up")


def afternoon_pickup(device):
    """One resident picked up at 14.30 WITA on DAY (after the 12.00 an office default had)."""
    phone = Phone(device)
    rid = phone.register(name="Warga Sore", nik=None)
    phone.verify(rid)
    phone.ok("pick_up", {"pickup_id": "5f0c7a52-8d43-4c1e-9a8e-0b7d3c2a1f01",
                         "resident_ids": [rid], "picked_up_at": "2026-11-28T14:30:00+08:00",
                         "pickup_point": "Balai Desa", "vehicle": "Ambulans desa"})
    return rid


def recorded_event(app, rid):
    with app.app_context():
        return db.session.scalars(select(ResidentEvent.payload).where(
            ResidentEvent.resident_id == rid, ResidentEvent.kind == "recorded")).one()


def test_an_afternoon_pickup_recorded_from_the_office_is_in_order(app, client, auth, device):
    rid = afternoon_pickup(device)
    auth.login()
    page = client.get(f"/perekaman?day={DAY}").get_data(as_text=True)
    assert "Jam perekaman (WITA, 24 jam)" in page
    res = client.post("/perekaman", data={**form(page), f"outcome-{rid}": "done", "hour": ""})
    assert res.status_code == 303
    payload = recorded_event(app, rid)
    assert "time_order" not in payload  # not 12.00, before the pick-up
    assert payload["recording"]["at"] == "2026-11-28T06:30:00Z"  # the pick-up's 14.30 WITA


def test_the_operator_types_the_hour(app, client, auth, device):
    rid = afternoon_pickup(device)
    auth.login()
    page = client.get(f"/perekaman?day={DAY}").get_data(as_text=True)
    before = events(app)
    # Before the pick-up: refused for that resident, nothing written.
    res = client.post("/perekaman", data={**form(page), f"outcome-{rid}": "done", "hour": "11:00"})
    assert res.status_code == 400
    assert "Jam perekaman 11.00 lebih awal dari penjemputan Warga Sore (14.30 WITA)" in \
        res.get_data(as_text=True)
    assert events(app) == before and stage(app, rid) == "picked_up"
    res = client.post("/perekaman", data={**form(page), f"outcome-{rid}": "done", "hour": "25:00"})
    assert res.status_code == 400 and "Jam tidak valid" in res.get_data(as_text=True)
    res = client.post("/perekaman", data={**form(page), f"outcome-{rid}": "done", "hour": "16.05"})
    assert res.status_code == 303
    payload = recorded_event(app, rid)
    assert payload["recording"]["at"] == "2026-11-28T08:05:00Z" and "time_order" not in payload


@pytest.mark.parametrize("day", ["31/12/9999", "01/01/0001", "1899-12-31"])
def test_a_day_out_of_range_is_refused(app, client, auth, device, day):
    _phone, (a, _b, _c) = picked_up(device)
    auth.login()
    res = client.get(f"/perekaman?day={day}")
    assert res.status_code == 400
    assert "Tanggal harus antara tahun 1900 dan 2099" in res.get_data(as_text=True)
    res = client.post("/perekaman", data={"day": day, f"outcome-{a}": "done"})
    assert res.status_code == 400
    assert stage(app, a) == "picked_up"
