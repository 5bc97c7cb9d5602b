"""Tenant isolation of the office view (issue #8, part 1): a matrix over every office route and
export, logged in as the camat and the operator of one kecamatan, against the data of another.

Two kecamatans, Batumandi (631104) and Juai (631101), each get residents at every stage
(registered through the real /api/sync), a batch, photos, an operation with an imported list,
a possible-duplicate conflict, and a resident that shares a NIK with the other kecamatan (the
issue's example). For every (endpoint, method) of the office blueprints there is a case that
calls it with the other kecamatan's ids, and with the user's own ids where the page relates
rows; every answer must be < 500, contain no name, NIK, KK, resident id, phone, address, batch
number, operation name, device label or officer name of the other kecamatan, and the other
kecamatan's rows must be exactly as before. test_every_office_route_has_a_case makes a new
route without a case fail.
"""
import io
import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from isolation_world import (
    DIRECTIONS,
    KECAMATAN,
    body_text,
    csv_upload,
    login,
    logout,
    operation_form,
    snapshot,
    worlds_fixture,  # noqa: F401  (the `worlds` fixture)
)
from server.extensions import db
from sync.models import WITA, Conflict, Resident, utcnow
from sync.stages import CONFLICT_DECISIONS

REFUSED = {403, 404}
OWN = {200, 302, 303, 403}
FORM_REFUSED = {400, 403, 404, 409, 422}


class Probe:
    """One actor against one victim: requests, and every problem found along the way."""

    def __init__(self, app, client, victim, own, actor):
        self.app, self.client, self.a, self.b, self.actor = app, client, victim, own, actor
        self.problems = []
        # Text the actor's own kecamatan holds too (the NIK of the example) is theirs.
        with app.app_context():
            rows = db.session.execute(select(Resident.nik, Resident.kk_number).where(
                Resident.desa_code.like(own.code + "%"))).all()
        self.shared = {value for row in rows for value in row if value}

    def check(self, method, url, res, expect):
        where = f"{self.actor} {method} {url}"
        if res.status_code >= 500:
            self.problems.append(f"{where}: {res.status_code}")
            return
        if expect is not None and res.status_code not in expect:
            self.problems.append(f"{where}: {res.status_code}, expected {sorted(expect)}")
        text = body_text(res)
        leaked = sorted(s for s in self.a.secrets - self.shared if s in text)
        if leaked:
            self.problems.append(f"{where}: shows {leaked}")

    def get(self, url, expect=None):
        res = self.client.get(url)
        self.check("GET", url, res, expect)
        return res

    def post(self, url, data=None, expect=None, **kw):
        res = self.client.post(url, data=data or {}, **kw)
        self.check("POST", url, res, expect)
        return res


# ---------------------------------------------------------------- one case per route

def _list_filters(p):
    a = p.a
    return [f"?desa={a.desa}", f"?officer={a.users['petugas']}", f"?operation={a.op}",
            "?q=Rahasia", "?stage=found", "?vulnerable=any"]


def index(p):
    p.get("/", OWN)


def dashboard(p):
    p.get("/dashboard", OWN)
    p.get(f"/dashboard?operation={p.a.op}")
    p.get(f"/dashboard?operation={p.b.op}", OWN)


def residents(p):
    for query in [""] + _list_filters(p):
        p.get("/residents" + query)


def resident_detail(p):
    for rid in p.a.residents.values():
        p.get(f"/residents/{rid}", REFUSED)
    for rid in p.b.residents.values():
        p.get(f"/residents/{rid}", OWN)


def resident_reopen(p):
    for rid in p.a.residents.values():
        p.post(f"/residents/{rid}/reopen", {"note": "dibuka"}, REFUSED)


def residents_export(p):
    for fmt in ("csv", "xlsx"):
        for query in [""] + _list_filters(p):
            p.get(f"/residents/export.{fmt}{query}")


def operations(p):
    p.get("/operations", OWN)


def operation_new_get(p):
    p.get("/operations/new", OWN)


def operation_new_post(p):
    # a desa of the victim slipped into the form of a new operation
    p.post("/operations/new", operation_form(p.app, p.a.code, "Aksi Selundup", {p.a.desa: 5}),
           FORM_REFUSED)
    form = operation_form(p.app, p.b.code, "Aksi Selundup Campur", {p.b.desa: 5})
    form.update({"desa-99-code": p.a.desa, "desa-99-include": "y", "desa-99-target": "3"})
    p.post("/operations/new", form, FORM_REFUSED)


def operation_detail(p):
    p.get(f"/operations/{p.a.op}", REFUSED)
    p.get(f"/operations/{p.b.op}", OWN)


def operation_edit_get(p):
    p.get(f"/operations/{p.a.op}/edit", REFUSED)
    p.get(f"/operations/{p.b.op}/edit", OWN)


def operation_edit_post(p):
    p.post(f"/operations/{p.a.op}/edit",
           operation_form(p.app, p.a.code, "Aksi Diambil", {p.a.desa: 1}), REFUSED)
    form = operation_form(p.app, p.b.code, "Aksi Sendiri", {p.b.desa: 5})
    form.update({"desa-99-code": p.a.desa, "desa-99-include": "y", "desa-99-target": "3"})
    p.post(f"/operations/{p.b.op}/edit", form, FORM_REFUSED)


def operation_assign(p):
    a, b = p.a, p.b
    p.post(f"/operations/{a.op}/assign", {"officer": b.users["petugas"], "desa_code": b.desa},
           REFUSED)
    # The actor's own operation with a victim's officer or desa: refused with a flash message
    # and a redirect (any status below 500), and nothing of the victim changes.
    p.post(f"/operations/{b.op}/assign", {"officer": a.users["petugas"], "desa_code": b.desa})
    p.post(f"/operations/{b.op}/assign", {"officer": b.users["petugas2"], "desa_code": a.desa})


def operation_unassign(p):
    p.post(f"/operations/{p.a.op}/unassign/{p.a.assignment}", {}, REFUSED)
    p.post(f"/operations/{p.b.op}/unassign/{p.a.assignment}", {}, REFUSED)


def operation_import(p):
    a, b = p.a, p.b

    def upload(op, rows):
        return p.post(f"/operations/{op}/import", csv_upload(rows), None,
                      content_type="multipart/form-data")

    res = upload(a.op, [[b.desa, "Impor Selundup", "", "", "P", "", "17/05/2008", "", "", "",
                         ""]])
    if res.status_code not in REFUSED:
        p.problems.append(f"{p.actor} import into the victim's operation: {res.status_code}")
    res = upload(b.op, [[a.desa, "Impor Desa Lain", "", "", "P", "", "17/05/2008", "", "", "",
                         ""]])
    if res.status_code not in FORM_REFUSED:
        p.problems.append(f"{p.actor} import into the victim's desa: {res.status_code}")
    # A row of the actor's own desa that matches a victim's resident (same NIK, same name and
    # birth date): the import may go ahead, but nothing of the victim may show or change.
    with p.app.app_context():
        victim = db.session.get(Resident, a.residents["Verif"])
        row = [b.desa, victim.name, victim.nik, "", "P", "", "17/05/2008", "", "", "", ""]
    p.a.secrets.discard(victim.name)  # the actor typed it: echoing it back is no leak
    p.a.secrets.discard(victim.nik)
    res = upload(b.op, [row])
    p.a.secrets |= {victim.name, victim.nik}
    if res.status_code in (302, 303):
        p.get(res.headers["Location"], OWN)


def operation_import_template(p):
    p.get(f"/operations/{p.a.op}/import-template.csv", REFUSED)
    p.get(f"/operations/{p.b.op}/import-template.csv", OWN)


def reports(p):
    p.get("/reports", OWN)


def report(p):
    p.get(f"/reports/{p.a.op}", REFUSED)
    p.get(f"/reports/{p.b.op}", OWN)


def report_csv(p):
    for part in ("", "?part=indikator"):
        p.get(f"/reports/{p.a.op}.csv{part}", REFUSED)
        p.get(f"/reports/{p.b.op}.csv{part}", OWN)


def report_xlsx(p):
    p.get(f"/reports/{p.a.op}.xlsx", REFUSED)
    p.get(f"/reports/{p.b.op}.xlsx", OWN)


def conflicts(p):
    for query in ("", "?status=open", "?status=resolved"):
        p.get("/conflicts" + query, OWN)


def conflict_detail_get(p):
    for conflict_id in p.a.conflicts:
        p.get(f"/conflicts/{conflict_id}", REFUSED)
    for conflict_id in p.b.conflicts:
        p.get(f"/conflicts/{conflict_id}", OWN)


def _decide(order):
    def case(p):
        for conflict_id in p.a.conflicts:
            for decision in ("merge", "not_duplicate", "keep_verified", "keep_current"):
                p.post(f"/conflicts/{conflict_id}", {"decision": decision}, REFUSED)
        for conflict_id in p.b.conflicts:
            with p.app.app_context():
                kind = db.session.get(Conflict, conflict_id).kind
            for decision in sorted(CONFLICT_DECISIONS.get(kind, ()), key=order.index):
                p.post(f"/conflicts/{conflict_id}", {"decision": decision, "note": "uji"})
    return case


def batches_get(p):
    p.get("/batches", OWN)
    p.get(f"/batches?desa={p.a.desa}", OWN)


def batches_post(p):
    a, b = p.a, p.b
    for chosen in ([a.residents["Rekam"]], [a.residents["Verif"], b.residents["Verif"]]):
        p.post("/batches", {"number": "BA/SELUNDUP/1", "day": "2026-11-20", "hour": "09:30",
                            "resident_ids": chosen}, FORM_REFUSED)


def batch_detail_get(p):
    p.get(f"/batches/{p.a.batch}", REFUSED)
    p.get(f"/batches/{p.b.batch}", OWN)


def batch_detail_post(p):
    a, b = p.a, p.b
    p.post(f"/batches/{a.batch}", {"day": "2026-11-27",
                                   f"outcome-{a.residents['Rekam']}": "collected"}, REFUSED)
    p.post(f"/batches/{b.batch}", {"day": "2026-11-27",
                                   f"outcome-{a.residents['Rekam']}": "collected"}, FORM_REFUSED)


def batch_manifest(p):
    p.get(f"/batches/{p.a.batch}/manifest", REFUSED)
    p.get(f"/batches/{p.b.batch}/manifest", OWN)


def attachment(p):
    for digest in p.a.photos:
        p.get(f"/attachments/{digest}", REFUSED)
    for digest in p.b.photos:
        p.get(f"/attachments/{digest}", OWN)


def users(p):
    p.get("/users", OWN)


def user_new_get(p):
    p.get("/users/new", OWN)


def user_new_post(p):
    p.post("/users/new", {"username": "penyusup", "full_name": "Penyusup", "role": "petugas",
                          "desa": [p.a.desa], "password": "kata-sandi-penyusup-91",
                          "password2": "kata-sandi-penyusup-91"}, FORM_REFUSED)


def user_edit_get(p):
    for user_id in p.a.users.values():
        p.get(f"/users/{user_id}", REFUSED)
    for user_id in p.b.users.values():
        p.get(f"/users/{user_id}", OWN)


def user_edit_post(p):
    for user_id in p.a.users.values():
        p.post(f"/users/{user_id}", {"full_name": "Diambil", "role": "petugas"}, REFUSED)
    p.post(f"/users/{p.b.users['petugas2']}", {"full_name": "Petugas Dua", "role": "petugas",
                                               "desa": [p.a.desa]}, FORM_REFUSED)


def _user_action(action, data=None):
    def case(p):
        for user_id in p.a.users.values():
            p.post(f"/users/{user_id}/{action}", data or {}, REFUSED)
    return case


def devices(p):
    p.get("/devices", OWN)


def device_revoke_get(p):
    p.get(f"/devices/{p.a.client}/revoke", REFUSED)
    p.get(f"/devices/{p.b.client}/revoke", OWN)


def device_revoke_post(p):
    p.post(f"/devices/{p.a.client}/revoke", {}, REFUSED)


def audit_log(p):
    for query in ("", f"?user={p.a.users['petugas']}", f"?user={p.a.users['camat']}",
                  "?action=view_resident"):
        p.get("/audit" + query, OWN)


def identity_post(p):
    for rid in p.a.residents.values():
        p.post(f"/residents/{rid}/identity", {"name": "Nama Diambil", "reason": "uji"},
               REFUSED)
    # The actor's own resident moved into the victim's desa: refused, the victim unchanged.
    p.post(f"/residents/{p.b.residents['Verif']}/identity",
           {"desa_code": p.a.desa, "reason": "uji"}, FORM_REFUSED)


def _days():
    today = utcnow().astimezone(WITA).date()
    return [(today - timedelta(days=n)).strftime("%d/%m/%Y") for n in range(3)]


def perekaman_get(p):
    p.get("/perekaman", OWN)
    for day in _days():
        p.get(f"/perekaman?day={day}", OWN)
        p.get(f"/perekaman?day={day}&desa={p.a.desa}", OWN)


def perekaman_post(p):
    for rid in p.a.residents.values():
        for outcome in ("done", "failed"):
            p.post("/perekaman", {"day": _days()[0], f"outcome-{rid}": outcome,
                                  f"reason-{rid}": "other", f"text-{rid}": "uji"})


def recovery_get(p):
    p.get("/pemulihan", OWN)


def recovery_result(p):
    p.get("/pemulihan/hasil", OWN)


def recovery_post(p):
    # A file naming the victim's phone (and one naming no known phone): refused, nothing applied.
    for client_id in (p.a.client, str(uuid.uuid4())):
        body = {"format": "cah-belum-terkirim", "format_version": 2, "client_id": client_id,
                "outbox": [{"id": 1, "name": "register_resident", "args": {}}]}
        data = {"file": (io.BytesIO(json.dumps(body).encode()), "belum-terkirim.json")}
        p.post("/pemulihan", data, FORM_REFUSED | {413}, content_type="multipart/form-data")


def _registry(paths, method="GET"):
    """Disdukcapil's area (issue #13): closed to the camat and operator of every kecamatan,
    for the victim's batch and their own alike."""
    def case(p):
        for batch in (p.a.batch, p.b.batch):
            for path in paths:
                url = path.format(batch=batch)
                if method == "GET":
                    p.get(url, {403})
                else:
                    for action in ("receipt", "marks", "all_ready"):
                        p.post(url, {"action": action, "day": "21/11/2026",
                                     f"mark-{p.a.residents['Rekam']}": "ready"}, {403})
    return case


DECIDE_MERGE_FIRST = ("merge", "keep_verified", "keep_first", "restore_previous",
                      "not_duplicate", "keep_rejected", "keep_second", "keep_current")
DECIDE_KEEP_FIRST = tuple(reversed(DECIDE_MERGE_FIRST))

# (endpoint, method, variant) → case. Every (endpoint, method) of the office must be here.
CASES = {
    ("web.index", "GET", ""): index,
    ("web.dashboard", "GET", ""): dashboard,
    ("web.residents", "GET", ""): residents,
    ("web.resident_detail", "GET", ""): resident_detail,
    ("web.resident_reopen", "POST", ""): resident_reopen,
    ("web.residents_export", "GET", ""): residents_export,
    ("web.operations", "GET", ""): operations,
    ("web.operation_new", "GET", ""): operation_new_get,
    ("web.operation_new", "POST", ""): operation_new_post,
    ("web.operation_detail", "GET", ""): operation_detail,
    ("web.operation_edit", "GET", ""): operation_edit_get,
    ("web.operation_edit", "POST", ""): operation_edit_post,
    ("web.operation_assign", "POST", ""): operation_assign,
    ("web.operation_unassign", "POST", ""): operation_unassign,
    ("web.operation_import", "POST", ""): operation_import,
    ("web.operation_import_template", "GET", ""): operation_import_template,
    ("web.reports", "GET", ""): reports,
    ("web.report", "GET", ""): report,
    ("web.report_csv", "GET", ""): report_csv,
    ("web.report_xlsx", "GET", ""): report_xlsx,
    ("web.conflicts", "GET", ""): conflicts,
    ("web.conflict_detail", "GET", ""): conflict_detail_get,
    ("web.conflict_detail", "POST", "merge-first"): _decide(DECIDE_MERGE_FIRST),
    ("web.conflict_detail", "POST", "keep-first"): _decide(DECIDE_KEEP_FIRST),
    ("web.batches", "GET", ""): batches_get,
    ("web.batches", "POST", ""): batches_post,
    ("web.batch_detail", "GET", ""): batch_detail_get,
    ("web.batch_detail", "POST", ""): batch_detail_post,
    ("web.batch_manifest", "GET", ""): batch_manifest,
    ("web.attachment", "GET", ""): attachment,
    ("web.users", "GET", ""): users,
    ("web.user_new", "GET", ""): user_new_get,
    ("web.user_new", "POST", ""): user_new_post,
    ("web.user_edit", "GET", ""): user_edit_get,
    ("web.user_edit", "POST", ""): user_edit_post,
    ("web.user_password", "POST", ""): _user_action("password", {
        "password": "sandi-baru-yang-panjang-77", "password2": "sandi-baru-yang-panjang-77"}),
    ("web.user_activate", "POST", ""): _user_action("activate"),
    ("web.user_deactivate", "POST", ""): _user_action("deactivate"),
    ("web.devices", "GET", ""): devices,
    ("web.device_revoke", "GET", ""): device_revoke_get,
    ("web.device_revoke", "POST", ""): device_revoke_post,
    ("web.audit_log", "GET", ""): audit_log,
    ("web.resident_correct_identity", "POST", ""): identity_post,
    ("web.perekaman", "GET", ""): perekaman_get,
    ("web.perekaman_save", "POST", ""): perekaman_post,
    ("web.recovery", "GET", ""): recovery_get,
    ("web.recovery", "POST", ""): recovery_post,
    ("web.recovery_result", "GET", ""): recovery_result,
    ("registry.dashboard", "GET", ""): _registry(["/disdukcapil/"]),
    ("registry.recap_xlsx", "GET", ""): _registry(["/disdukcapil/rekap.xlsx"]),
    ("registry.batches", "GET", ""): _registry(["/disdukcapil/berkas",
                                                "/disdukcapil/berkas?kecamatan=631104"]),
    ("registry.batch_detail", "GET", ""): _registry(["/disdukcapil/berkas/{batch}"]),
    ("registry.batch_detail", "POST", ""): _registry(["/disdukcapil/berkas/{batch}"], "POST"),
    ("registry.batch_manifest", "GET", ""): _registry(["/disdukcapil/berkas/{batch}/berita-acara"]),
}

# Endpoints outside the matrix, each with the reason.
NOT_OFFICE_DATA = {
    "static": "static files of the office view, no data",
    "web.favicon": "a redirect to the app's icon, no data",
    "auth.login": "the login form: no kecamatan data before login",
    "auth.logout": "ends the caller's own session only",
    "pwa.app_root": "the phone app's files",
    "pwa.index": "the phone app's files",
    "pwa.asset": "the phone app's files",
    "api.openapi_document": "the API description, no data",
    "api.health": "monitoring: the app version and database reachability, no data",
    "api.device_login": "phone login: tests/server/test_api_device.py",
    "api.device_logout": "phone logout: tests/server/test_api_device.py",
    "api.sync": "the sync engine's scoping: tests/sync/",
    "api.attachment_status": "HEAD by kecamatan and uploader: tests/server/test_attachments.py",
    "api.attachment_upload": "PUT by kecamatan and uploader: tests/server/test_attachments.py",
}


def test_every_office_route_has_a_case(app):
    covered = {(endpoint, method) for endpoint, method, _variant in CASES}
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in NOT_OFFICE_DATA:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if (rule.endpoint, method) not in covered:
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert missing == [], "office routes without an isolation case: add one to CASES"


@pytest.mark.parametrize("case", sorted(CASES), ids=lambda c: " ".join(filter(None, c)))
def test_office_route_keeps_kecamatans_apart(app, client, worlds, case):
    problems = []
    for victim, actor_kecamatan in DIRECTIONS:
        for role in ("camat", "operator"):
            actor = KECAMATAN[actor_kecamatan][role]
            before = snapshot(app, worlds[victim].code)
            login(client, actor)
            probe = Probe(app, client, worlds[victim], worlds[actor_kecamatan], actor)
            CASES[case](probe)
            logout(client)
            after = snapshot(app, worlds[victim].code)
            problems += probe.problems
            problems += [f"{actor}: {victim} {table} changed" for table in before
                         if before[table] != after[table]]
    assert problems == [], "\n".join(problems)


def test_the_fixture_holds_what_the_matrix_needs(app, worlds):
    """Guards the matrix against passing on empty data."""
    for w in worlds.values():
        with app.app_context():
            stages = {r.stage for r in db.session.execute(select(Resident).where(
                Resident.resident_id.in_(list(w.residents.values())))).scalars()}
        assert {"listed", "found", "verified", "rejected", "sent_to_registry",
                "delivered"} <= stages, stages
        assert w.op and w.batch and w.client and w.assignment and len(w.photos) == 2
        assert w.conflicts, "each kecamatan has at least one conflict"
        assert len(w.secrets) > 30
