"""Shared helpers of the office-view tests (tests/server/test_web_*.py and others).

`Phone` drives the real sync engine through POST /api/sync with a logged-in device, mutation by
mutation, so that the office pages have cases in every stage; the rest fills in and posts the
office forms (batches, operations, imports) and reads the pages' tables back.
"""
import base64
import csv
import hashlib
import io
import re
import uuid
from html.parser import HTMLParser

from sqlalchemy import func, select

from cah_testkit import registration
from server.extensions import db
from server.models import AuditEntry
from server.wilayah import desa_of
from sync.models import Resident
from sync.signature import encode_signature

A, B, C = "6311042005", "6311042001", "6311042002"  # three desa of Batumandi

AT = "2026-11-28T09:15:03+08:00"


class Phone:
    """One petugas phone: numbers its mutations and sends them one sync at a time."""

    def __init__(self, device, username="petugas", label="HP uji"):
        self.device = device
        self.session = device.login(username, label=label)
        self.next_id = 0

    def send(self, name, args, at=AT):
        self.next_id += 1
        res = self.device.sync(self.session, [{"id": self.next_id, "name": name, "at": at,
                                               "args": args}])
        assert res.status_code == 200, res.get_json()
        return res.get_json()["results"][0]

    def ok(self, name, args, at=AT):
        result = self.send(name, args, at)
        assert result["status"] == "applied", result
        return result

    def register(self, **overrides):
        mutation = registration(0, **overrides)
        self.ok("register_resident", mutation["args"])
        return mutation["args"]["resident_id"]

    def verify(self, rid, kk_photo=None, notes="KK asli dilihat"):
        return self.ok("verify_resident", {
            "resident_id": rid, "checks": {"kk_copy_seen": True, "age_eligible": True,
                                           "marital_eligible": True},
            "kk_photo": kk_photo, "notes": notes})

    def reject(self, rid, reason="has_ktp_el", reason_text=None):
        return self.ok("reject_resident", {"resident_id": rid, "reason": reason,
                                           "reason_text": reason_text})

    def pick_up(self, *rids):
        return self.ok("pick_up", {"pickup_id": str(uuid.uuid4()), "resident_ids": list(rids),
                                   "picked_up_at": "2026-11-28T10:00:00+08:00",
                                   "pickup_point": "Balai Desa", "vehicle": "Ambulans desa"})

    def record(self, rid):
        return self.ok("record_done", {"resident_id": rid,
                                       "recorded_at": "2026-11-28T11:00:00+08:00"})

    def deliver(self, rid, *, recipient="owner", proxy_name=None, proxy_relation=None,
                photo=None, gps=None, at="2026-11-28T13:30:00+08:00"):
        raw = encode_signature(320, 160, [[(10, 80), (40, 60), (80, 100), (120, 70)],
                                          [(150, 40), (150, 120)]])
        return self.ok("deliver_card", {
            "delivery_id": str(uuid.uuid4()), "resident_id": rid, "delivered_at": at,
            "recipient": recipient, "proxy_name": proxy_name, "proxy_relation": proxy_relation,
            "signature": {"data": base64.b64encode(raw).decode(),
                          "sha256": hashlib.sha256(raw).hexdigest()},
            "photo": photo, "gps": gps})

    def recorded(self, count=1, desa="6311042005", names=None):
        """Register, verify, pick up and record residents; returns their ids."""
        rids = []
        for i in range(count):
            name = names[i] if names else f"Warga Rekam {desa[-2:]}-{i + 1}"
            rid = self.register(name=name, desa=desa, nik=None)
            self.verify(rid)
            rids.append(rid)
        self.pick_up(*rids)
        for rid in rids:
            self.record(rid)
        return rids


def csrf_token(page):
    """The CSRF token of the first form on a page (for the CSRF-enabled app)."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page)
    return match.group(1) if match else ""


def count(app, model, *where):
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model).where(*where)
                                  ).scalar_one()


def audits(app, action):
    return count(app, AuditEntry, AuditEntry.action == action)


def create_batch_form(rids, number="BA/631104/2026/001", day="2026-11-20", hour="09:30",
                      notes="Dikirim dengan mobil kecamatan"):
    return {"number": number, "day": day, "hour": hour, "notes": notes, "resident_ids": rids}


def make_batch(client, rids, **kw):
    res = client.post("/batches", data=create_batch_form(rids, **kw))
    assert res.status_code == 302, res.get_data(as_text=True)
    return res.headers["Location"].rsplit("/", 1)[1]


# ---------------------------------------------------------------- operations and imports

def desa_codes(app):
    with app.app_context():
        return [d.code for d in desa_of(db.session, "631104")]


def operation_form(app, name="Aksi Desember", targets=None, start="2026-12-01", end="2026-12-31",
                   active=True, steps=None):
    """The POST body of the operation form: every desa row, the chosen ones ticked."""
    targets = {A: "12", C: "1.250"} if targets is None else targets
    data = {"name": name, "start_date": start, "end_date": end}
    if active:
        data["active"] = "y"
    for n, value in (steps or {"1": "180", "2": "60", "3": "180", "7": "60"}).items():
        data[f"step_{n}"] = value
    for i, code in enumerate(desa_codes(app)):
        data[f"desa-{i}-code"] = code
        if code in targets:
            data[f"desa-{i}-include"] = "y"
            data[f"desa-{i}-target"] = targets[code]
    return data


def create(client, app, **kwargs):
    res = client.post("/operations/new", data=operation_form(app, **kwargs))
    assert res.status_code == 302, res.get_data(as_text=True)
    return int(res.headers["Location"].rsplit("/", 1)[1])


def csv_file(rows, delimiter=","):
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return io.BytesIO(out.getvalue().encode("utf-8-sig"))


def import_file(client, op_id, data, filename):
    return client.post(f"/operations/{op_id}/import", data={"file": (data, filename)},
                       content_type="multipart/form-data")


def resident_rows(app):
    with app.app_context():
        return db.session.execute(select(Resident.name, Resident.stage, Resident.operation_id,
                                         Resident.desa_code, Resident.sex, Resident.birth_date)
                                  .order_by(Resident.name)).all()


# ---------------------------------------------------------------- reading pages

class _Tables(HTMLParser):
    """Rows of the tables in a page: {table id: [[cell text, …], …]} and data-* row keys."""

    def __init__(self):
        super().__init__()
        self.tables, self.keys = {}, {}
        self._table = None
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = attrs.get("id") or f"table{len(self.tables)}"
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
            key = next((v for k, v in attrs.items() if k.startswith("data-")), None)
            self._key = key
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._table].append(self._row)
            if self._key:
                self.keys.setdefault(self._table, {})[self._key] = self._row
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tables(html):
    """Parse a page's tables."""
    parser = _Tables()
    parser.feed(html)
    return parser


def num(n):
    """1234 → '1.234' (independent of server/formatting.py)."""
    return f"{n:,}".replace(",", ".")


# ---------------------------------------------------------------- conflicts, via two phones

def verify_vs_reject(device):
    a = Phone(device, "petugas", label="HP Samsung A")
    b = Phone(device, "petugas2", label="HP Oppo B")
    rid = a.register(name="Rina Konflik")
    a.verify(rid, notes="KK asli dilihat di rumah")
    b.reject(rid, reason="has_ktp_el", reason_text="Sudah punya KTP-el lama")
    return rid


def double_delivery(device, client, auth):
    a = Phone(device, "petugas", label="HP Samsung A")
    b = Phone(device, "petugas2", label="HP Oppo B")
    rid = a.recorded(1, names=["Dodi Dobel"])[0]
    auth.login("operator")
    batch_id = make_batch(client, [rid])
    assert client.post(f"/batches/{batch_id}", data={
        "day": "2026-11-27", f"outcome-{rid}": "collected"}).status_code == 302
    auth.logout()
    a.deliver(rid, gps={"lat": -2.34567, "lon": 115.43219, "accuracy_m": 12})
    b.deliver(rid, recipient="proxy", proxy_name="Ibu Dodi", proxy_relation="Ibu kandung",
              at="2026-11-28T15:00:00+08:00")
    return rid


def concurrent_edit(device):
    a = Phone(device, "petugas", label="HP Samsung A")
    b = Phone(device, "petugas2", label="HP Oppo B")
    rid = a.register(name="Edi Edit", phone="081100000001")
    a.ok("update_resident", {"resident_id": rid, "base_version": 1,
                             "fields": {"phone": "081100000002"}})
    b.ok("update_resident", {"resident_id": rid, "base_version": 1,
                             "fields": {"phone": "081100000003"}})
    return rid
