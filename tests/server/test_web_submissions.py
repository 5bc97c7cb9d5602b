"""Office writes happen once (issue #11 §6): every office write form carries a one-time
submission token; the same submission arriving twice (double click, resend after a lost answer,
Back and resubmit) is answered like the first and applied once (server/web/submissions.py)."""
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from cah_testkit import PASSWORDS
from office_kit import (
    A,
    C,
    Phone,
    audits,
    count,
    create_batch_form,
    csv_file,
    make_batch,
    operation_form as op_form,
)
from server.extensions import db
from server.models import Assignment, OfficeSubmission, User
from server.retention import purge_expired
from server.web.imports import TEMPLATE_HEADER
from server.web.submissions import FIELD, MSG_REPLAYED
from sync.models import Conflict, Resident, ResidentEvent, utcnow


def token_of(page, action):
    """The submission token of the form posting to `action`, else of the page's first form
    (a form without an action posts to its own page)."""
    field = rf'<input type="hidden" name="{FIELD}" value="([^"]+)"'
    match = (re.search(rf'action="{re.escape(action)}"[^>]*>' + field, page)
             or re.search(r'<form(?![^>]*action=)[^>]*>' + field, page))
    assert match, f"no submission token for {action}"
    return match.group(1)


def post_twice(client, page_path, post_path, data, **kw):
    """Render the form, post it twice with its token; the two answers."""
    token = token_of(client.get(page_path).get_data(as_text=True), post_path)
    first = client.post(post_path, data=dict(data(), **{FIELD: token}), **kw)
    second = client.post(post_path, data=dict(data(), **{FIELD: token}), **kw)
    return first, second


def assert_replayed(client, first, second):
    assert first.status_code in (302, 303), first.get_data(as_text=True)
    assert second.status_code == 303, second.get_data(as_text=True)
    assert second.headers["Location"] == first.headers["Location"]
    assert MSG_REPLAYED in client.get(second.headers["Location"]).get_data(as_text=True)


def user_id(app, username):
    with app.app_context():
        return db.session.execute(select(User.id).where(User.username == username)).scalar_one()


# ---------------------------------------------------------------- the collection form

def test_collection_form_posted_twice_records_each_card_once(client, auth, app, device):
    phone = Phone(device)
    rids = phone.recorded(2, names=["Ani Ambil", "Budi Belum"])
    auth.login("operator")
    batch_id = make_batch(client, rids)
    path = f"/batches/{batch_id}"

    def data():
        return {"day": "2026-11-27", "hour": "10:00", f"outcome-{rids[0]}": "collected",
                f"outcome-{rids[1]}": "not_printed", f"reason-{rids[1]}": "blanko_habis"}

    def state():
        with app.app_context():
            events = db.session.execute(select(ResidentEvent.id, ResidentEvent.kind).where(
                ResidentEvent.resident_id.in_(rids)).order_by(ResidentEvent.id)).all()
            rows = db.session.execute(select(Resident.resident_id, Resident.version,
                                             Resident.stage).where(
                Resident.resident_id.in_(rids)).order_by(Resident.resident_id)).all()
            return events, rows

    token = token_of(client.get(path).get_data(as_text=True), path)
    first = client.post(path, data=dict(data(), **{FIELD: token}))
    after_first = state()
    second = client.post(path, data=dict(data(), **{FIELD: token}))
    assert state() == after_first
    assert_replayed(client, first, second)
    kinds = [kind for _id, kind in after_first[0]]
    assert kinds.count("card_collected") == 1 and kinds.count("card_not_printed") == 1
    assert audits(app, "record_collection") == 1
    # a new submission of the form (a fresh token) is applied as before
    token = token_of(client.get(path).get_data(as_text=True), path)
    third = client.post(path, data=dict(data(), **{FIELD: token}))
    assert third.status_code == 302 and audits(app, "record_collection") == 2


def test_a_double_click_arriving_at_once_records_each_card_once(client, auth, app, device):
    """Two arrivals of one submission at the same moment (two workers, two connections):
    one applies, the other waits for it and answers with the same redirect."""
    rids = Phone(device).recorded(2)
    auth.login("operator")
    batch_id = make_batch(client, rids)
    path = f"/batches/{batch_id}"
    token = token_of(client.get(path).get_data(as_text=True), path)
    data = {"day": "2026-11-27", f"outcome-{rids[0]}": "collected",
            f"outcome-{rids[1]}": "collected", FIELD: token}
    browsers = [app.test_client() for _ in range(2)]
    for browser in browsers:
        assert browser.post("/login", data={"username": "operator",
                                            "password": PASSWORDS["operator"]}).status_code == 302
    start = threading.Barrier(2)
    answers = [None, None]

    def click(i):
        start.wait()
        answers[i] = browsers[i].post(path, data=dict(data))

    threads = [threading.Thread(target=click, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(a.status_code for a in answers) == [302, 303], [a.status_code for a in answers]
    assert answers[0].headers["Location"] == answers[1].headers["Location"]
    assert count(app, ResidentEvent, ResidentEvent.kind == "card_collected") == 2
    assert audits(app, "record_collection") == 1


# ---------------------------------------------------------------- every other office form

def _rejected(device):
    phone = Phone(device)
    rid = phone.register(name="Tono Tolak")
    phone.reject(rid)
    return rid


def _conflict_id(app, device):
    a = Phone(device, "petugas", label="HP A")
    b = Phone(device, "petugas2", label="HP B")
    rid = a.register(name="Rina Konflik")
    a.verify(rid)
    b.reject(rid)
    with app.app_context():
        return db.session.execute(select(Conflict.id)).scalar_one()


def _operation(client, app):
    res = client.post("/operations/new", data=op_form(app))
    assert res.status_code == 302
    return int(res.headers["Location"].rsplit("/", 1)[1])


def _assigned(client, app):
    op_id = _operation(client, app)
    res = client.post(f"/operations/{op_id}/assign",
                      data={"officer": user_id(app, "petugas"), "desa_code": C})
    assert res.status_code == 303
    with app.app_context():
        aid = db.session.execute(select(Assignment.id).where(Assignment.desa_code == C)).scalar_one()
    return op_id, aid


def case_create_batch(client, app, device):
    rids = Phone(device).recorded(1)
    return "/batches", "/batches", lambda: create_batch_form(rids), "create_batch"


def case_conflict_decision(client, app, device):
    cid = _conflict_id(app, device)
    path = f"/conflicts/{cid}"
    return path, path, lambda: {"decision": "keep_rejected", "note": "Dicek"}, "resolve_conflict"


def case_reopen(client, app, device):
    rid = _rejected(device)
    return (f"/residents/{rid}", f"/residents/{rid}/reopen", lambda: {"note": "dibuka"},
            "reopen_case")


def case_import(client, app, device):
    op_id = _operation(client, app)

    def data():
        return {"file": (csv_file([TEMPLATE_HEADER, [A, "Siti Daftar", "", "", "P", "Paringin",
                                                     "17/05/2008", "", "", "", ""]]),
                         "daftar.csv")}
    return f"/operations/{op_id}", f"/operations/{op_id}/import", data, "import_residents"


def case_operation_new(client, app, device):
    return ("/operations/new", "/operations/new", lambda: op_form(app, name="Aksi Baru"),
            "create_operation")


def case_operation_edit(client, app, device):
    op_id = _operation(client, app)
    path = f"/operations/{op_id}/edit"
    return path, path, lambda: op_form(app, name="Aksi Diubah"), "update_operation"


def case_assign(client, app, device):
    op_id = _operation(client, app)
    return (f"/operations/{op_id}", f"/operations/{op_id}/assign",
            lambda: {"officer": user_id(app, "petugas"), "desa_code": C}, "assign_officer")


def case_unassign(client, app, device):
    op_id, aid = _assigned(client, app)
    return (f"/operations/{op_id}", f"/operations/{op_id}/unassign/{aid}", dict,
            "unassign_officer")


def case_user_new(client, app, device):
    return "/users/new", "/users/new", lambda: {
        "username": "petugas3", "full_name": "Petugas Tiga", "role": "petugas",
        "password": "kata-sandi-baru", "password2": "kata-sandi-baru", "desa": [A]}, "create_user"


def case_user_edit(client, app, device):
    uid = user_id(app, "petugas")
    path = f"/users/{uid}"
    return path, path, lambda: {"full_name": "Petugas Ganti", "role": "petugas",
                                "desa": [A, C]}, "update_user"


def case_user_password(client, app, device):
    uid = user_id(app, "operator")
    return f"/users/{uid}", f"/users/{uid}/password", lambda: {
        "password": "sandi-baru-123", "password2": "sandi-baru-123"}, "reset_password"


def case_user_deactivate(client, app, device):
    uid = user_id(app, "petugas")
    return f"/users/{uid}", f"/users/{uid}/deactivate", dict, "deactivate_user"


def case_user_activate(client, app, device):
    uid = user_id(app, "petugas")
    assert client.post(f"/users/{uid}/deactivate").status_code == 303
    return f"/users/{uid}", f"/users/{uid}/activate", dict, "activate_user"


def case_device_revoke(client, app, device):
    client_id = device.login()["client_id"]
    path = f"/devices/{client_id}/revoke"
    return path, path, lambda: {"reason": "HP hilang"}, "revoke_device"


@pytest.mark.parametrize("case", [
    case_create_batch, case_conflict_decision, case_reopen, case_import, case_operation_new,
    case_operation_edit, case_assign, case_unassign, case_user_new, case_user_edit,
    case_user_password, case_user_deactivate, case_user_activate, case_device_revoke,
], ids=lambda f: f.__name__[5:])
def test_every_office_form_applies_a_submission_once(client, auth, app, device, case):
    auth.login("camat")
    page_path, post_path, data, action = case(client, app, device)
    before = audits(app, action)
    kw = {"content_type": "multipart/form-data"} if case is case_import else {}
    first, second = post_twice(client, page_path, post_path, data, **kw)
    assert_replayed(client, first, second)
    assert audits(app, action) == before + 1


def test_a_refused_submission_can_be_sent_again(client, auth, app, device):
    rids = Phone(device).recorded(1)
    auth.login("operator")
    token = token_of(client.get("/batches").get_data(as_text=True), "/batches")
    refused = client.post("/batches", data=dict(create_batch_form(rids, number=""),
                                                **{FIELD: token}))
    assert refused.status_code == 400
    res = client.post("/batches", data=dict(create_batch_form(rids), **{FIELD: token}))
    assert res.status_code == 302 and audits(app, "create_batch") == 1


def test_another_users_token_is_refused(client, auth, app, device):
    rids = Phone(device).recorded(1)
    auth.login("operator")
    token = token_of(client.get("/batches").get_data(as_text=True), "/batches")
    assert client.post("/batches", data=dict(create_batch_form(rids),
                                             **{FIELD: token})).status_code == 302
    auth.logout()
    auth.login("camat")
    res = client.post("/batches", data=dict(create_batch_form(rids, number="BA/2"),
                                            **{FIELD: token}))
    assert res.status_code == 409 and audits(app, "create_batch") == 1


def test_old_submission_tokens_are_purged(client, auth, app, device):
    auth.login("camat")
    uid = user_id(app, "camat")
    with app.app_context():
        now = utcnow()
        db.session.add_all([
            OfficeSubmission(token="a" * 32, user_id=uid, created_at=now - timedelta(days=31)),
            OfficeSubmission(token="b" * 32, user_id=uid, created_at=now - timedelta(days=29))])
        db.session.commit()
        assert purge_expired(now)["office_submissions"] == 1
        assert db.session.execute(select(OfficeSubmission.token)).scalars().all() == ["b" * 32]


def test_a_refusal_answered_with_a_redirect_frees_its_token(client, auth, app, device):
    """A refused password reset redirects with an error flash: the corrected form sent with
    the same token (Back, fix, resend) is applied, not answered "not saved twice"."""
    auth.login("camat")
    uid = user_id(app, "operator")
    token = token_of(client.get(f"/users/{uid}").get_data(as_text=True),
                     f"/users/{uid}/password")
    before = audits(app, "reset_password")
    refused = client.post(f"/users/{uid}/password", data={
        "password": "sandi-baru-123", "password2": "sandi-lain-456", FIELD: token})
    assert refused.status_code in (302, 303) and audits(app, "reset_password") == before
    fixed = client.post(f"/users/{uid}/password", data={
        "password": "sandi-baru-123", "password2": "sandi-baru-123", FIELD: token})
    assert fixed.status_code in (302, 303)
    assert MSG_REPLAYED not in client.get(fixed.headers["Location"]).get_data(as_text=True)
    assert audits(app, "reset_password") == before + 1
