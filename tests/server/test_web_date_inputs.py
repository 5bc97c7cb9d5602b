"""Office dates and times typed day first (dd/mm/yyyy) and in 24 hours WITA, whatever the
browser's language: text inputs, not the browser's date/time controls (mm/dd/yyyy and AM/PM on
an English Chrome); the date echoed in words beside the field (issue #11 §3)."""
import re
from datetime import date, datetime, time, timezone

import pytest
from sqlalchemy import select

from office_kit import Phone, count, create, create_batch_form, operation_form
from server.extensions import db
from server.operations import Operation
from server.web.common import parse_clock, parse_day
from sync.models import WITA, Batch, as_utc


def _input(html, name):
    return re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)


@pytest.mark.parametrize("text, expected", [
    ("20/11/2026", date(2026, 11, 20)), ("20112026", date(2026, 11, 20)),
    ("2-11-2026", date(2026, 11, 2)), ("02.11.2026", date(2026, 11, 2)),
    ("2026-11-20", date(2026, 11, 20)),  # ISO (links, bookmarks) is unambiguous
    ("11/20/2026", None), ("31/02/2026", None), ("29/02/2026", None), ("2011202", None),
    ("20 Nov 2026", None), ("", None)])
def test_parse_day_reads_day_first(text, expected):
    assert parse_day(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("14:30", time(14, 30)), ("14.30", time(14, 30)), ("0915", time(9, 15)),
    ("9:05", time(9, 5)), ("23:59", time(23, 59)),
    ("24:00", None), ("12:60", None), ("2:30 PM", None), ("930", None)])
def test_parse_clock_reads_24_hours(text, expected):
    assert parse_clock(text) == expected


def test_batch_form_is_text_dd_mm_yyyy_and_24_hour(client, auth):
    auth.login("operator")
    html = client.get("/batches").get_data(as_text=True)
    day, hour = _input(html, "day"), _input(html, "hour")
    assert 'type="text"' in day and 'placeholder="hh/bb/tttt"' in day and "data-date" in day
    assert re.search(r'value="\d\d/\d\d/\d{4}"', day)  # today in WITA, day first
    assert 'type="text"' in hour and 'placeholder="jj:mm"' in hour
    assert 'type="date"' not in html and 'type="time"' not in html
    assert 'id="day-words"' in html and '<script type="module" src="/static/date-words.js">' in html


@pytest.mark.parametrize("day, hour", [("20/11/2026", "14:30"), ("20112026", "1430")])
def test_batch_handed_at_is_the_typed_wita_moment(client, auth, app, device, day, hour):
    rids = Phone(device).recorded(1)
    auth.login("operator")
    res = client.post("/batches", data=create_batch_form(rids, day=day, hour=hour))
    assert res.status_code == 302, res.get_data(as_text=True)
    with app.app_context():
        batch = db.session.execute(select(Batch)).scalar_one()
        assert as_utc(batch.handed_at) == datetime(2026, 11, 20, 6, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize("day, hour, message", [
    ("11/20/2026", "09:30", "Tanggal tidak sah. Tulis hari/bulan/tahun"),  # month first
    ("31/02/2026", "09:30", "Tanggal tidak sah. Tulis hari/bulan/tahun"),
    ("20/11/2026", "24:00", "Jam tidak valid: tulis jam:menit dalam 24 jam (WITA)"),
    ("20/11/2026", "2:30 PM", "Jam tidak valid: tulis jam:menit dalam 24 jam (WITA)")])
def test_batch_form_refuses_month_first_and_12_hour(client, auth, app, device, day, hour,
                                                    message):
    rids = Phone(device).recorded(1)
    auth.login("operator")
    res = client.post("/batches", data=create_batch_form(rids, day=day, hour=hour))
    assert res.status_code == 400
    html = res.get_data(as_text=True)
    assert message in html
    assert f'value="{day}"' in _input(html, "day")  # what was typed stays, to be corrected
    assert count(app, Batch) == 0


def test_a_failed_submit_echoes_the_date_in_words(client, auth, device):
    rids = Phone(device).recorded(1)
    auth.login("operator")
    res = client.post("/batches", data=create_batch_form(rids, number="", day="02112026"))
    assert res.status_code == 400
    html = res.get_data(as_text=True)
    # 02/11 is 2 November (Monday), never 11 February
    assert re.search(r'id="day-words"[^>]*>Senin, 2 November 2026<', html)


def test_operation_form_reads_day_first(client, auth, app):
    auth.login()
    html = client.get("/operations/new").get_data(as_text=True)
    start = _input(html, "start_date")
    assert 'type="text"' in start and 'placeholder="hh/bb/tttt"' in start
    assert 'type="date"' not in html
    op_id = create(client, app, start="06/12/2026", end="31122026")
    with app.app_context():
        op = db.session.get(Operation, op_id)
        assert (op.start_date, op.end_date) == (date(2026, 12, 6), date(2026, 12, 31))
    edit = client.get(f"/operations/{op_id}/edit").get_data(as_text=True)
    assert 'value="06/12/2026"' in _input(edit, "start_date")
    assert re.search(r'id="start_date-words"[^>]*>Minggu, 6 Desember 2026<', edit)


def test_operation_form_refuses_month_first(client, auth, app):
    auth.login()
    data = operation_form(app, start="12/01/2026", end="12/31/2026")
    res = client.post("/operations/new", data=data)
    assert res.status_code == 400
    html = res.get_data(as_text=True)
    assert "Tanggal tidak sah. Tulis hari/bulan/tahun, seperti 28/11/2026." in html
    # the start is read day first (12 January), the end cannot be read
    assert re.search(r'id="start_date-words"[^>]*>Senin, 12 Januari 2026<', html)
    assert count(app, Operation) == 0


def test_audit_filters_read_day_first_and_echo_words(client, auth):
    auth.login()
    html = client.get("/audit?from=01122026&to=31/12/2026").get_data(as_text=True)
    assert 'value="01/12/2026"' in _input(html, "from")
    assert re.search(r'id="a-from-words"[^>]*>Selasa, 1 Desember 2026<', html)
    assert re.search(r'id="a-to-words"[^>]*>Kamis, 31 Desember 2026<', html)
    today = datetime.now(WITA).strftime("%d%m%Y")
    listed = client.get(f"/audit?from={today}&to={today}").get_data(as_text=True)
    assert "<td>Masuk</td>" in listed  # today's login is inside the period
    bad = client.get("/audit?from=12/31/2026").get_data(as_text=True)
    assert re.search(r'id="a-from-words"[^>]*>Tanggal tidak sah', bad)
    assert "<td>Masuk</td>" in bad  # an unreadable date filters nothing
