"""Step times on the office pages (issue #11 §3): steps out of order are listed, not hidden;
a phone with a dead clock does not make a new case look stuck; the batch form refuses an hour
later today instead of turning it into "now"."""
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from cah_testkit import registration
from office_kit import A, Phone, count, create_batch_form, make_batch, tables
from server.extensions import db
from server.operations import Operation, OperationDesa
from server.timings import CORRECTED, DEVICE, SERVER, trusted_time
from sync.models import Batch, Resident, ResidentEvent

DEAD_CLOCK = "1980-01-01T08:01:00+08:00"  # a phone whose battery died: its clock restarted


def make_operation(app, name="Aksi Jam"):
    with app.app_context():
        today = date.today()
        op = Operation(kecamatan_code="631104", name=name, active=True,
                       start_date=today - timedelta(days=30), end_date=today + timedelta(days=30),
                       step_minutes={"6": 60})
        op.desa = [OperationDesa(desa_code=A, target=5)]
        db.session.add(op)
        db.session.commit()
        return op.id


def test_a_case_registered_from_a_dead_clock_a_minute_ago_is_not_stuck(client, auth, device, app):
    """The 17.129-days example: a 1980 phone clock, the case registered a minute ago."""
    op_id = make_operation(app)
    phone = device.login()
    reg = registration(1, name="Warga Jam Mati", desa=A)
    reg["at"] = DEAD_CLOCK
    res = device.sync(phone, [reg], sent_at="1980-01-01T08:02:00+08:00")
    assert res.status_code == 200 and res.get_json()["results"][0]["status"] == "applied"
    assert res.get_json()["clock_skew_flagged"] is True
    auth.login()
    html = client.get(f"/dashboard?operation={op_id}&stuck_days=7").get_data(as_text=True)
    stuck = tables(html).tables["stuck"][1:]
    assert stuck == [["Tidak ada kasus yang macet."]], stuck
    assert "Waktu server dipakai: jam HP salah." in html  # the page says so


def test_a_dead_clock_case_that_is_stuck_shows_the_server_time(app, client, auth, device):
    """Received 10 days ago from a 1980 clock: stuck 10 days (server time), and it says so."""
    op_id = make_operation(app)
    phone = device.login()
    reg = registration(1, name="Warga Lama", desa=A)
    reg["at"] = DEAD_CLOCK
    device.sync(phone, [reg], sent_at="1980-01-01T08:02:00+08:00")
    ten_days_ago = datetime.now(timezone.utc) - timedelta(days=10)
    with app.app_context():  # as if that sync had happened 10 days ago
        db.session.execute(update(Resident).values(created_at=ten_days_ago))
        db.session.execute(update(ResidentEvent).values(server_at=ten_days_ago))
        db.session.commit()
    auth.login()
    html = client.get(f"/dashboard?operation={op_id}&stuck_days=7").get_data(as_text=True)
    [row] = tables(html).tables["stuck"][1:]
    assert row[0] == "Warga Lama" and row[-1] == "10"
    assert "waktu server dipakai: jam HP salah" in row[3]


@pytest.mark.parametrize("device_at, skew, flagged, expected", [
    # a sound phone, 2 hours offline: its own time
    ("2026-12-01T08:00:00Z", 5, False, ("2026-12-01T08:00:00Z", DEVICE)),
    # a clock 2 hours behind, flagged: corrected by the recorded skew
    ("2026-12-01T08:00:00Z", -7200, True, ("2026-12-01T10:00:00Z", CORRECTED)),
    # a dead clock (1980) whose skew is not known: the server's receipt
    ("1980-01-01T00:00:00Z", None, False, ("2026-12-01T10:00:00Z", SERVER)),
    # a time after the receipt (a clock ahead): the server's receipt
    ("2026-12-02T10:00:00Z", None, False, ("2026-12-01T10:00:00Z", SERVER)),
    # flagged now, but this time was sound when sent (the clock died later): kept
    ("2026-12-01T09:00:00Z", -1451606400, True, ("2026-12-01T09:00:00Z", DEVICE)),
])
def test_trusted_time(device_at, skew, flagged, expected):
    received = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
    at, source = trusted_time(datetime.fromisoformat(device_at), received, skew, flagged)
    assert (at.isoformat().replace("+00:00", "Z"), source) == expected


def test_a_delivery_before_the_collection_is_listed_in_the_report_and_on_the_case(
        client, auth, device, app):
    op_id = make_operation(app, "Aksi Urutan")
    phone = Phone(device)
    rid, other = phone.recorded(2, names=["Ani Urutan", "Budi Urut"])
    auth.login("operator")
    batch_id = make_batch(client, [rid, other], day="29/11/2026", hour="09:30")
    res = client.post(f"/batches/{batch_id}", data={
        "day": "03/12/2026", "hour": "11:00", f"outcome-{rid}": "collected",
        f"outcome-{other}": "collected"})
    assert res.status_code == 302
    phone.deliver(rid, at="2026-12-03T10:00:00+08:00")   # before the collection: flagged
    phone.deliver(other, at="2026-12-03T11:45:00+08:00")  # in order: 45 minutes
    auth.logout()
    auth.login()
    html = client.get(f"/reports/{op_id}").get_data(as_text=True)
    assert "1 langkah dengan urutan waktu tidak wajar — tidak dihitung dalam median" in html
    listing = html[html.index('id="sop-out-of-order"'):]
    assert "Ani Urutan</a>: langkah 6, 03/12/2026 10.00 WITA" in listing
    assert "Budi Urut" not in listing[:listing.index("</ul>")]
    sop = {row[0]: row for row in tables(html).tables["report-sop"][1:]}
    assert sop["6"][3] == "45 menit" and sop["6"][4].endswith("(1/1)")
    dashboard = client.get(f"/dashboard?operation={op_id}").get_data(as_text=True)
    assert "1 langkah dengan urutan waktu tidak wajar" in dashboard
    page = client.get(f"/residents/{rid}").get_data(as_text=True)
    assert "Urutan waktu tidak wajar" in page
    assert "03/12/2026 10.00 WITA lebih awal dari “KTP diambil” (03/12/2026 11.00 WITA)" in page
    assert "Urutan waktu tidak wajar" not in client.get(f"/residents/{other}").get_data(as_text=True)


def test_the_office_refuses_a_collection_before_the_handover(client, auth, device, app):
    rid = Phone(device).recorded(1)[0]
    auth.login("operator")
    batch_id = make_batch(client, [rid], day="29/11/2026", hour="09:30")
    res = client.post(f"/batches/{batch_id}", data={
        "day": "29/11/2026", "hour": "09:00", f"outcome-{rid}": "collected"})
    assert res.status_code == 400
    assert ("Waktu pengambilan (29/11/2026 09.00 WITA) lebih awal dari serah terima berkas ini "
            "(29/11/2026 09.30 WITA)") in res.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Resident, rid).stage == "sent_to_registry"


def test_the_batch_form_refuses_an_hour_later_today(client, auth, device, app, monkeypatch):
    rids = Phone(device).recorded(1)
    monkeypatch.setattr("server.web.batches.utcnow",
                        lambda: datetime(2026, 11, 28, 2, 0, tzinfo=timezone.utc))  # 10.00 WITA
    auth.login("operator")
    res = client.post("/batches", data=create_batch_form(rids, day="28/11/2026", hour="15:00"))
    assert res.status_code == 400
    assert "Jam 15.00 WITA belum lewat (sekarang pukul 10.00 WITA)" in res.get_data(as_text=True)
    assert count(app, Batch) == 0  # not silently turned into "now"
    batch_id = make_batch(client, rids, day="28/11/2026", hour="09:45")
    with app.app_context():
        handed = db.session.get(Batch, batch_id).handed_at
        assert handed.replace(tzinfo=None) == datetime(2026, 11, 28, 1, 45)


def test_the_sop_report_uses_the_server_time_for_a_dead_clock(client, auth, device, app):
    """Registered from a 1980 clock, verified minutes later by a sound clock: step 2 counts
    minutes (the server's receipt of the registration), not 46 years, and the report says so."""
    op_id = make_operation(app, "Aksi Laporan Jam")
    phone = device.login()
    reg = registration(1, name="Warga Jam Mati", desa=A)
    reg["at"] = DEAD_CLOCK
    device.sync(phone, [reg], sent_at="1980-01-01T08:02:00+08:00")
    now = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(minutes=2)
    verify = {"id": 2, "name": "verify_resident", "at": now.isoformat().replace("+00:00", "Z"),
              "args": {"resident_id": reg["args"]["resident_id"],
                       "checks": {"kk_copy_seen": True, "age_eligible": True,
                                  "marital_eligible": True}, "kk_photo": None, "notes": None}}
    res = device.sync(phone, [verify], sent_at=now.isoformat())
    assert res.get_json()["results"][0]["status"] == "applied"
    auth.login()
    html = client.get(f"/reports/{op_id}").get_data(as_text=True)
    assert 'id="clock-note"' in html and "Waktu server dipakai: jam HP salah." in html
    sop = {row[0]: row for row in tables(html).tables["report-sop"][1:]}
    assert sop["2"][3] in ("1 menit", "2 menit"), sop["2"]
