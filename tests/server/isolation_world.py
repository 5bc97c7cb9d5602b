"""The two-kecamatan world of the office isolation matrix (test_isolation_office.py).

Batumandi (631104) and Juai (631101) each get, through the real /api/sync and office forms: an
operation with an imported list, residents at every stage, a batch with a collected card and a
delivery, two photos, a possible-duplicate conflict, and a resident that shares a NIK with the
other kecamatan (issue #8's example). Also: `snapshot` (every row of one kecamatan, to prove it
unchanged) and `body_text` (what a user can read in an answer, XLSX unpacked).
"""
import copy
import csv
import io
import zipfile
import zlib
from dataclasses import dataclass, field

import pytest
from sqlalchemy import Integer, or_, select, text
from sqlalchemy.engine import make_url

from attachment_kit import (
    APP0,
    DHT_AC,
    DHT_DC,
    ENTROPY,
    EOI,
    IEND,
    IHDR,
    PNG_SIG,
    SOF0,
    SOI,
    SOS,
    _chunk,
    _segment,
    sha,
)
from cah_testkit import PASSWORDS
from office_kit import Phone as PipelinePhone, make_batch
from server.attachments import Attachment, AttachmentUpload
from server.cli import create_user
from server.extensions import db
from server.models import Assignment, AuditEntry, User
from server.operations import Operation, OperationDesa
from server.wilayah import desa_of
from sync.models import Batch, BatchItem, Client, Conflict, Resident, ResidentEvent

EXTRA_PASSWORDS = {"operator_juai": "isolasi-operator-juai-2026",
                   "petugas2_juai": "isolasi-petugas2-juai-2026"}
KECAMATAN = {
    "batumandi": {"code": "631104", "name": "Batumandi", "desa": "6311042005",
                  "camat": "camat", "operator": "operator", "petugas": "petugas",
                  "petugas2": "petugas2"},
    "juai": {"code": "631101", "name": "Juai", "desa": "6311012001",
             "camat": "camat_juai", "operator": "operator_juai", "petugas": "petugas_juai",
             "petugas2": "petugas2_juai"},
}
# (victim, actor's kecamatan): both directions, since the worlds are not symmetric.
DIRECTIONS = (("batumandi", "juai"), ("juai", "batumandi"))


# ---------------------------------------------------------------- the two kecamatans

@dataclass
class World:
    """What one kecamatan holds, as ids for the URLs and as text that must not leak."""

    key: str
    code: str
    desa: str
    users: dict = field(default_factory=dict)  # role key → user id
    residents: dict = field(default_factory=dict)  # label → resident id
    op: int = 0
    assignment: int = 0
    client: str = ""
    batch: str = ""
    conflicts: list = field(default_factory=list)
    photos: list = field(default_factory=list)
    secrets: set = field(default_factory=set)


class Phone(PipelinePhone):
    """The pipeline phone of office_kit, for the extra users of this fixture too."""

    def __init__(self, device, username, label):
        self.device = device
        self.session = device.login(
            username, EXTRA_PASSWORDS.get(username) or PASSWORDS[username], label=label)
        self.next_id = 0


def _jpeg(seed):
    """A small valid JPEG, different per seed (its quantisation table)."""
    return SOI + APP0 + _segment(0xDB, b"\x00" + bytes([seed]) * 64) + SOF0 + DHT_DC + DHT_AC \
        + SOS + ENTROPY + EOI


def _png(seed):
    return PNG_SIG + IHDR + _chunk(b"IDAT", zlib.compress(bytes([0, seed, 0x5d, 0x3b]))) + IEND


def _upload(client, phone, data, mime):
    res = client.put(f"/api/attachments/{sha(data)}", data=data, headers={
        "Authorization": f"Bearer {phone.session['token']}", "Content-Type": mime})
    assert res.status_code == 201, res.get_json()
    return sha(data)


def login(client, username):
    res = client.post("/login", data={
        "username": username, "password": EXTRA_PASSWORDS.get(username) or PASSWORDS[username]})
    assert res.status_code == 302, (username, res.status_code)


def logout(client):
    client.post("/logout")


def _desa_rows(kecamatan_code, targets):
    """The rows of the operation form for every desa of a kecamatan."""
    data = {}
    for i, desa in enumerate(desa_of(db.session, kecamatan_code)):
        data[f"desa-{i}-code"] = desa.code
        if desa.code in targets:
            data[f"desa-{i}-include"] = "y"
            data[f"desa-{i}-target"] = str(targets[desa.code])
    return data


def operation_form(app, kecamatan_code, name, targets):
    with app.app_context():
        rows = _desa_rows(kecamatan_code, targets)
    return {"name": name, "start_date": "2026-11-01", "end_date": "2026-12-31", "active": "y",
            "step_1": "180", **rows}


def csv_upload(rows):
    out = io.StringIO()
    csv.writer(out).writerows([["kode_desa", "nama", "nik", "no_kk", "jenis_kelamin",
                                "tempat_lahir", "tanggal_lahir", "alamat", "rt", "rw",
                                "no_hp"]] + rows)
    return {"file": (io.BytesIO(out.getvalue().encode("utf-8-sig")), "daftar.csv")}


def nik(world_code, serial):
    return f"{world_code}570508{serial:04d}"  # female, born 17/05/2008 (the factory default)


def build(app, client, device, key, seed):
    """Fill one kecamatan through the real API and office forms; returns its World."""
    k = KECAMATAN[key]
    w = World(key=key, code=k["code"], desa=k["desa"])
    name = k["name"]

    login(client, k["camat"])
    op_name = f"Aksi Rahasia {name}"
    res = client.post("/operations/new", data=operation_form(app, w.code, op_name,
                                                             {w.desa: 20}))
    assert res.status_code == 302, res.get_data(as_text=True)
    w.op = int(res.headers["Location"].rsplit("/", 1)[1])
    listed = f"Daftar Rahasia {name}"
    res = client.post(f"/operations/{w.op}/import", content_type="multipart/form-data",
                      data=csv_upload([[w.desa, listed, nik(w.code, 90), f"{w.code}0000000090",
                                        "P", "Paringin", "17/05/2008", f"Jalan Daftar {name} 9",
                                        "1", "2", f"08129{seed}000090"]]))
    assert res.status_code == 303, res.get_data(as_text=True)
    logout(client)

    a = Phone(device, k["petugas"], label=f"HP Rahasia {name}")
    b = Phone(device, k["petugas2"], label=f"HP Kedua {name}")

    def register(phone, label, serial, **extra):
        rid = phone.register(name=f"{label} Rahasia {name}", desa=w.desa,
                             nik=nik(w.code, serial), kk_number=f"{w.code}00000000{serial:02d}",
                             phone=f"08129{seed}0000{serial:02d}",
                             address=f"Jalan {label} Rahasia {name} {serial}", **extra)
        w.residents[label] = rid
        return rid

    register(a, "Temu", 1)
    verified = register(a, "Verif", 2)
    kk_photo = _upload(client, a, _jpeg(seed), "image/jpeg")
    a.verify(verified, kk_photo=kk_photo)
    a.reject(register(a, "Tolak", 3))
    recorded = [register(a, "Rekam", 4), register(a, "Serah", 5)]
    for rid in recorded:
        a.verify(rid)
    a.pick_up(*recorded)
    for rid in recorded:
        a.record(rid)
    waiting = register(a, "Jemput", 6)  # picked up, awaiting perekaman (the office form's list)
    a.verify(waiting)
    a.pick_up(waiting)
    register(b, "Ganda", 1)  # same NIK as "Temu": a possible duplicate inside the kecamatan

    login(client, k["operator"])
    batch_number = f"BA/RAHASIA/{w.code}/1"
    w.batch = make_batch(client, recorded, number=batch_number)
    res = client.post(f"/batches/{w.batch}", data={"day": "2026-11-27",
                                                   f"outcome-{recorded[1]}": "collected"})
    assert res.status_code == 302, res.get_data(as_text=True)
    logout(client)
    delivery_photo = _upload(client, a, _png(seed), "image/png")
    a.deliver(recorded[1], photo=delivery_photo)
    w.photos = [kk_photo, delivery_photo]

    with app.app_context():
        w.residents["Daftar"] = db.session.execute(select(Resident.resident_id).where(
            Resident.name == listed)).scalar_one()
        users = db.session.execute(select(User).where(User.kecamatan_code == w.code)
                                   ).scalars().all()
        for user in users:
            user.full_name = f"{user.role.title()} {user.username.title()} Rahasia {name}"
        db.session.commit()
        w.users = {role: next(u.id for u in users if u.username == k[role])
                   for role in ("camat", "operator", "petugas", "petugas2")}
        petugas = db.session.get(User, w.users["petugas"])
        w.assignment = petugas.assignments[0].id
        w.client = db.session.execute(select(Client.client_id).where(
            Client.user_id == w.users["petugas"])).scalars().first()
        rows = db.session.execute(select(Resident).where(
            Resident.resident_id.in_(list(w.residents.values())))).scalars().all()
        for r in rows:
            w.secrets |= {r.resident_id, r.name, r.nik, r.kk_number, r.phone, r.address}
        w.secrets |= {op_name, batch_number, f"HP Rahasia {name}", f"HP Kedua {name}"}
        w.secrets |= {u.full_name for u in users}
        w.secrets.discard(None)
        w.conflicts = list(db.session.execute(select(Conflict.id).where(
            Conflict.kecamatan_code == w.code)).scalars())
    return w


def cross(app, device, worlds):
    """The issue's example in both directions: a petugas registers, in their own desa, a NIK
    that belongs to a resident of the other kecamatan; and refers to the other kecamatan's
    photo hash for a KK copy they never uploaded."""
    for victim, actor in DIRECTIONS:
        v, w = worlds[victim], worlds[actor]
        phone = Phone(device, KECAMATAN[actor]["petugas"], label="HP Silang")
        with app.app_context():
            shared = db.session.get(Resident, v.residents["Temu"]).nik
        rid = phone.register(name=f"Silang {KECAMATAN[actor]['name']}", desa=w.desa, nik=shared)
        w.residents["Silang"] = rid
        photo = phone.register(name=f"Foto Silang {KECAMATAN[actor]['name']}", desa=w.desa)
        phone.verify(photo, kk_photo=v.photos[0])
        w.residents["Foto Silang"] = photo
    with app.app_context():
        for w in worlds.values():
            w.conflicts = list(db.session.execute(select(Conflict.id).where(
                Conflict.kecamatan_code == w.code).order_by(Conflict.id)).scalars())


# Building both kecamatans through the API takes seconds; it is done once per backend and the
# resulting rows are copied into each test's fresh database (the conftest `app`).
_BUILT = {}  # backend name → ({table: [row, …]}, worlds)
STATIC_TABLES = {"wilayah"}  # loaded by init_database, never written by the office


def _dump(app):
    with app.app_context():
        return {table.name: [dict(row) for row in db.session.execute(select(table)).mappings()]
                for table in db.metadata.sorted_tables if table.name not in STATIC_TABLES}


def _restore(app, dump):
    with app.app_context():
        tables = [t for t in db.metadata.sorted_tables if t.name not in STATIC_TABLES]
        for table in reversed(tables):
            db.session.execute(table.delete())
        for table in tables:
            if dump.get(table.name):
                db.session.execute(table.insert(), dump[table.name])
        if db.engine.dialect.name == "postgresql":
            for table in tables:  # rows came with their ids: move the sequences past them
                keys = list(table.primary_key.columns)
                if len(keys) == 1 and isinstance(keys[0].type, Integer):
                    # NULL (no-op) for a key without a sequence: setval is strict
                    db.session.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{keys[0].name}'),"
                        f" COALESCE((SELECT MAX({keys[0].name}) FROM {table.name}), 0) + 1,"
                        " false)"))
        db.session.commit()


# Imported by test modules under its function name: a test's `worlds` argument would otherwise
# shadow the imported fixture function.
@pytest.fixture(name="worlds")
def worlds_fixture(app, client, device):
    backend = db_backend(app)
    if backend in _BUILT:
        dump, built = _BUILT[backend]
        _restore(app, dump)
        return copy.deepcopy(built)
    with app.app_context():
        create_user("operator_juai", EXTRA_PASSWORDS["operator_juai"], "operator", "631101")
        create_user("petugas2_juai", EXTRA_PASSWORDS["petugas2_juai"], "petugas", "631101",
                    ["6311012001"])
        db.session.commit()
    out = {"batumandi": build(app, client, device, "batumandi", 11),
           "juai": build(app, client, device, "juai", 22)}
    cross(app, device, out)
    _BUILT[backend] = (_dump(app), copy.deepcopy(out))
    return out


def db_backend(app):
    return make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()


# ---------------------------------------------------------------- what "unchanged" means

def snapshot(app, code):
    """Every row that belongs to (or points into) one kecamatan, as comparable tuples."""
    def rows(model, *where):
        table = model.__table__
        result = db.session.execute(select(table).where(*where)).all()
        return sorted((tuple(map(repr, row)) for row in result))

    prefix = code + "%"
    with app.app_context():
        resident_ids = select(Resident.resident_id).where(Resident.desa_code.like(prefix))
        user_ids = select(User.id).where(User.kecamatan_code == code)
        batch_ids = select(Batch.batch_id).where(Batch.kecamatan_code == code)
        op_ids = select(Operation.id).where(Operation.kecamatan_code == code)
        return {
            "residents": rows(Resident, Resident.desa_code.like(prefix)),
            "events": rows(ResidentEvent, ResidentEvent.resident_id.in_(resident_ids)),
            "conflicts": rows(Conflict, or_(Conflict.kecamatan_code == code,
                                            Conflict.resident_id.in_(resident_ids),
                                            Conflict.other_resident_id.in_(resident_ids))),
            "batches": rows(Batch, Batch.kecamatan_code == code),
            "batch_items": rows(BatchItem, or_(BatchItem.batch_id.in_(batch_ids),
                                               BatchItem.resident_id.in_(resident_ids))),
            "operations": rows(Operation, Operation.kecamatan_code == code),
            "operation_desa": rows(OperationDesa, or_(OperationDesa.operation_id.in_(op_ids),
                                                      OperationDesa.desa_code.like(prefix))),
            "users": rows(User, User.kecamatan_code == code),
            "assignments": rows(Assignment, or_(Assignment.user_id.in_(user_ids),
                                                Assignment.desa_code.like(prefix))),
            "clients": rows(Client, Client.user_id.in_(user_ids)),
            "attachments": rows(Attachment, Attachment.kecamatan_code == code),
            "uploads": rows(AttachmentUpload, AttachmentUpload.kecamatan_code == code),
            "audit": rows(AuditEntry, AuditEntry.kecamatan_code == code),
        }


def body_text(res):
    """The text a user could read in an answer, XLSX files unpacked."""
    data = res.get_data()
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            return "\n".join(book.read(n).decode("utf-8", "replace") for n in book.namelist())
    return data.decode("utf-8", "replace")
