"""Who may open which office page: role × page, including another kecamatan's camat trying
Batumandi's operations, users and devices; and CSRF on every form of the office view."""
import io
import re
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from cah_testkit import PASSWORDS, forge_office_session
from dashboard_kit import seed
from server import create_app
from server.cli import create_user
from server.extensions import db
from server.models import Assignment, User
from sync.models import Batch, Client

ANON, PETUGAS, CAMAT, OPERATOR, OTHER = "anonim", "petugas", "camat", "operator", "camat_juai"
DUKCAPIL = "disdukcapil"  # Disdukcapil of Kabupaten Balangan (issue #13): no office page at all
DUKCAPIL_PASSWORD = "rahasia-disdukcapil-uji-4"
ROLES = (ANON, PETUGAS, CAMAT, OPERATOR, OTHER, DUKCAPIL)

# path → expected status for (camat, operator, camat of another kecamatan). Anonymous: 302 to
# the login page; petugas: 403 everywhere.
GET_PAGES = {
    "/dashboard": (200, 200, 200),
    "/operations": (200, 200, 200),
    "/operations/new": (200, 403, 200),
    "/operations/{op}": (200, 200, 404),
    "/operations/{op}/edit": (200, 403, 404),
    "/operations/{op}/import-template.csv": (200, 200, 404),
    "/reports": (200, 200, 200),
    "/reports/{op}": (200, 200, 404),
    "/reports/{op}.csv": (200, 200, 404),
    "/reports/{op}.xlsx": (200, 200, 404),
    "/residents": (200, 200, 200),
    "/residents/export.csv": (200, 200, 200),
    "/residents/export.xlsx": (200, 200, 200),
    "/users": (200, 200, 200),
    "/users/new": (200, 200, 200),
    "/users/{petugas}": (200, 200, 404),
    "/users/{camat}": (200, 403, 404),
    "/devices": (200, 200, 200),
    "/devices/{client}/revoke": (200, 200, 404),
    "/audit": (200, 200, 200),
}

# POSTs that change something: (path, form data) → (camat, operator, other camat)
POSTS = {
    "edit_operation": ("/operations/{op}/edit", {}, (400, 403, 404)),
    "assign": ("/operations/{op}/assign", {"officer": "{petugas2}", "desa_code": "6311042001"},
               (303, 303, 404)),
    "unassign": ("/operations/{op}/unassign/{assignment}", {}, (303, 303, 404)),
    "import": ("/operations/{op}/import", {}, (400, 400, 404)),
    "edit_user": ("/users/{petugas}", {"full_name": "X", "role": "petugas"}, (303, 303, 404)),
    "password": ("/users/{petugas}/password", {"password": "a" * 9, "password2": "a" * 9},
                 (303, 303, 404)),
    "deactivate": ("/users/{petugas}/deactivate", {}, (303, 303, 404)),
    "activate": ("/users/{petugas}/activate", {}, (303, 303, 404)),
    "deactivate_camat": ("/users/{camat}/deactivate", {}, (303, 403, 404)),
    "revoke": ("/devices/{client}/revoke", {}, (303, 303, 404)),
}


@pytest.fixture
def ids(app):
    op = seed(app)
    with app.app_context():
        users = {u.username: u.id for u in db.session.execute(select(User)).scalars()}
        client = db.session.execute(select(Client.client_id).where(
            Client.device_label == "HP Lama")).scalar_one()
        assignment = db.session.execute(select(Assignment.id).where(
            Assignment.user_id == users["petugas"], Assignment.desa_code == "6311042005")).scalar_one()
        create_user(DUKCAPIL, DUKCAPIL_PASSWORD, "disdukcapil", None, kabupaten="6311")
        batch = str(uuid.uuid4())  # a batch of Batumandi, waiting for Disdukcapil's receipt
        db.session.add(Batch(batch_id=batch, number="BA/631104/2026/077", kecamatan_code="631104",
                             handed_at=datetime.now(timezone.utc), created_by_user_id=1,
                             created_via="office"))
        db.session.commit()
    return {"op": op, "client": client, "assignment": assignment, "batch": batch, **users}


def as_role(client, auth, app, role):
    if role == ANON:
        return
    if role == PETUGAS:
        # A petugas cannot log in to the office view at all; force a session to prove that
        # the pages refuse one anyway.
        forge_office_session(app, client, "petugas")
        return
    password = DUKCAPIL_PASSWORD if role == DUKCAPIL else None
    assert auth.login(role, password).status_code == 302


def expected(role, statuses):
    if role == ANON:
        return 302
    if role in (PETUGAS, DUKCAPIL):
        return 403
    return statuses[(CAMAT, OPERATOR, OTHER).index(role)]


# Disdukcapil's area: 200 for that role only, 403 for every other logged-in role.
REGISTRY_PAGES = ["/disdukcapil/", "/disdukcapil/rekap.xlsx", "/disdukcapil/berkas",
                  "/disdukcapil/berkas/{batch}"]
REGISTRY_POSTS = [("/disdukcapil/berkas/{batch}", {"action": "all_ready"})]


@pytest.mark.parametrize("role", ROLES)
def test_registry_pages(client, auth, app, ids, role):
    as_role(client, auth, app, role)
    wrong = []
    for path in REGISTRY_PAGES:
        url = path.format(**ids)
        status = client.get(url).status_code
        want = 302 if role == ANON else 200 if role == DUKCAPIL else 403
        if status != want:
            wrong.append((url, status, want))
    for path, data in REGISTRY_POSTS:
        status = client.post(path.format(**ids), data=data).status_code
        # Disdukcapil: the batch is not received yet, so "all ready" is refused (409)
        want = 302 if role == ANON else 409 if role == DUKCAPIL else 403
        if status != want:
            wrong.append(("POST " + path, status, want))
    assert wrong == []


@pytest.mark.parametrize("role", ROLES)
def test_get_pages(client, auth, app, ids, role):
    as_role(client, auth, app, role)
    wrong = []
    for path, statuses in GET_PAGES.items():
        url = path.format(**ids)
        res = client.get(url)
        if res.status_code != expected(role, statuses):
            wrong.append((url, res.status_code, expected(role, statuses)))
        if role == ANON:
            assert "/login" in res.headers["Location"]
    assert wrong == []


@pytest.mark.parametrize("role", ROLES)
def test_post_actions(client, auth, app, ids, role):
    # One role per test, the actions in this order (none undoes what a later one needs).
    as_role(client, auth, app, role)
    wrong = []
    for action, (path, data, statuses) in POSTS.items():
        data = {k: v.format(**ids) for k, v in data.items()}
        res = client.post(path.format(**ids), data=data)
        if res.status_code != expected(role, statuses):
            wrong.append((action, res.status_code, expected(role, statuses)))
    assert wrong == []


def test_another_kecamatan_sees_nothing_of_batumandi(client, auth, app, ids):
    auth.login(OTHER)
    for url in ("/dashboard", "/operations", "/reports", "/residents", "/users", "/devices",
                "/audit"):
        html = client.get(url).get_data(as_text=True)
        for secret in ("Aksi Uji November", "Ani Lengkap", "Petugas Uji", "HP Lama", "Camat Uji"):
            assert secret not in html, (url, secret)


def test_petugas_is_refused_at_login_and_never_reaches_a_page(client, auth):
    res = auth.login("petugas")
    assert res.status_code == 403 and "aplikasi HP" in res.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302


# ------------------------------------------------------------------------------ CSRF

@pytest.fixture
def csrf_client(app, db_url):
    """The same database, with CSRF protection on (as in production)."""
    strict = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": "permissions-csrf-key-3Rf7Jm1Xs8Qw4Kd9Bv2Ny6",
                         "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    client = strict.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    res = client.post("/login", data={"username": "camat", "password": PASSWORDS["camat"],
                                      "csrf_token": token})
    assert res.status_code == 302
    yield client, token
    with strict.app_context():
        db.session.remove()
        db.engine.dispose()


CSRF_POSTS = ["/operations/new", "/operations/{op}/edit", "/operations/{op}/assign",
              "/operations/{op}/unassign/{assignment}", "/operations/{op}/import", "/users/new",
              "/users/{petugas}", "/users/{petugas}/password", "/users/{petugas}/deactivate",
              "/users/{petugas}/activate", "/devices/{client}/revoke", "/logout"]


def test_every_form_needs_the_csrf_token(csrf_client, ids, app):
    client, token = csrf_client
    for path in CSRF_POSTS:
        res = client.post(path.format(**ids), data={"officer": ids["petugas2"],
                                                    "desa_code": "6311042001"})
        assert res.status_code == 400, path
        assert "Formulir kedaluwarsa" in res.get_data(as_text=True), path
    with app.app_context():
        assert db.session.get(User, ids["petugas"]).active is True
        assert db.session.get(Client, ids["client"]).revoked_at is None
    # the pages carry the token, and with it the same request goes through
    page = client.get(f"/devices/{ids['client']}/revoke").get_data(as_text=True)
    form_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    res = client.post(f"/devices/{ids['client']}/revoke", data={"csrf_token": form_token})
    assert res.status_code == 303
    for url in ("/operations/new", f"/operations/{ids['op']}", "/users/new",
                f"/users/{ids['petugas']}", "/users", "/devices"):
        html = client.get(url).get_data(as_text=True)
        forms = html.count("<form")
        assert html.count('name="csrf_token"') >= forms, url


def test_pages_work_under_the_strict_csp(client, auth, ids):
    auth.login()
    for path in GET_PAGES:
        url = path.format(**ids)
        res = client.get(url)
        if res.mimetype != "text/html":
            continue
        html = res.get_data(as_text=True)
        assert "script-src 'self'" in res.headers["Content-Security-Policy"]
        assert "style-src 'self'" in res.headers["Content-Security-Policy"]
        assert "style=" not in html and "<style" not in html, url
        # the only script is the date-words module, from 'self': nothing inline
        scripts = html.count("<script")
        assert scripts == html.count(
            '<script type="module" src="/static/date-words.js"></script>'), url
        assert " onclick" not in html, url


def test_import_by_another_kecamatan_is_refused(client, auth, app, ids):
    auth.login(OTHER)
    res = client.post(f"/operations/{ids['op']}/import",
                      data={"file": (io.BytesIO(b"kode_desa,nama\n6311042005,Penyusup\n"), "a.csv")},
                      content_type="multipart/form-data")
    assert res.status_code == 404
