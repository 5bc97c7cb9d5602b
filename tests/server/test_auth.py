"""Office sessions end when they should; login `next=`, throttling, timing and audit
(issue #8 §4). Real SQLite and PostgreSQL, the real login routes."""
import statistics
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from cah_testkit import PASSWORDS, SECRET_KEY
from server import create_app
from server.cli import create_user, init_database
from server.extensions import db
from server.models import AuditEntry, LoginThrottle, OfficeSession, User
from sync.models import utcnow

COOKIE = "cah_session"


def uid(app, username):
    with app.app_context():
        return db.session.execute(select(User.id).where(User.username == username)).scalar_one()


def logged_in(client):
    """True when the client's cookie opens an office page."""
    return client.get("/residents").status_code == 200


# ------------------------------------------------------------------ sessions end at once

def test_a_cookie_kept_from_before_logout_no_longer_works(client, auth):
    assert auth.login().status_code == 302
    kept = client.get_cookie(COOKIE).value
    auth.logout()
    client.set_cookie(COOKIE, kept)
    assert not logged_in(client)


@pytest.mark.parametrize("action", ["password", "deactivate", "role"])
def test_password_reset_deactivation_and_role_change_end_sessions(app, action):
    victim, admin = app.test_client(), app.test_client()
    victim.post("/login", data={"username": "operator", "password": PASSWORDS["operator"]})
    assert logged_in(victim)
    admin.post("/login", data={"username": "camat", "password": PASSWORDS["camat"]})
    oid = uid(app, "operator")
    if action == "password":
        data = {"password": "sandi-baru-operator-7", "password2": "sandi-baru-operator-7"}
        res = admin.post(f"/users/{oid}/password", data=data)
    elif action == "deactivate":
        res = admin.post(f"/users/{oid}/deactivate")
    else:
        res = admin.post(f"/users/{oid}", data={"full_name": "Operator", "role": "camat"})
    assert res.status_code == 303
    assert not logged_in(victim)
    assert logged_in(admin)  # only that user's sessions end
    with app.app_context():
        assert db.session.execute(select(OfficeSession).where(OfficeSession.user_id == oid)
                                  ).first() is None


def test_own_password_change_keeps_this_session_and_ends_the_others(app):
    here, elsewhere = app.test_client(), app.test_client()
    for c in (here, elsewhere):
        c.post("/login", data={"username": "camat", "password": PASSWORDS["camat"]})
    me = uid(app, "camat")
    res = here.post(f"/users/{me}/password", data={"password": "sandi-camat-baru-9",
                                                   "password2": "sandi-camat-baru-9"})
    assert res.status_code == 303
    assert logged_in(here) and not logged_in(elsewhere)


@pytest.mark.parametrize("column", ["last_seen_at", "created_at"])
def test_idle_and_absolute_timeouts(app, client, auth, column):
    auth.login()
    assert logged_in(client)
    limit = (app.config["SESSION_IDLE_SECONDS"] if column == "last_seen_at"
             else app.config["PERMANENT_SESSION_LIFETIME"])
    with app.app_context():
        db.session.execute(update(OfficeSession).values(
            {column: utcnow() - timedelta(seconds=limit + 5)}))
        db.session.commit()
    assert not logged_in(client)


def test_an_old_style_forged_user_id_cookie_is_not_a_session(client, app):
    with client.session_transaction() as session:
        session["user_id"] = uid(app, "camat")
    assert not logged_in(client)


# ------------------------------------------------------------------ next=

EVIL_NEXT = ["//evil.example/", "/%09/evil.example/", "/%0a/evil.example/", "/%0d%0a/evil.example",
             "/\\evil.example/", "/%5Cevil.example/", "\\\\evil.example", "https://evil.example/",
             "http:/evil.example", "javascript:alert(1)", "evil.example", "/%00/evil.example",
             "%20//evil.example", "/%E2%80%8B/evil.example", "///evil.example", "/\x7f/evil"]


@pytest.mark.parametrize("target", EVIL_NEXT)
def test_next_only_accepts_a_same_site_path(client, target):
    res = client.post("/login?next=" + target,
                      data={"username": "camat", "password": PASSWORDS["camat"]})
    assert res.status_code == 302
    assert res.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/residents", "/residents?desa=6311042005&q=Siti",
                                    "/users/3"])
def test_next_keeps_a_same_site_path(client, target):
    res = client.post("/login?next=" + target.replace("&", "%26").replace("?", "%3F"),
                      data={"username": "camat", "password": PASSWORDS["camat"]})
    assert res.headers["Location"] == target


DUKCAPIL_PW = "rahasia-dukcapil-balangan-7"


@pytest.mark.parametrize("role, target, lands", [
    ("disdukcapil", "/disdukcapil/berkas", "/disdukcapil/berkas"),
    ("disdukcapil", "/disdukcapil", "/disdukcapil"),
    ("disdukcapil", "/residents", "/disdukcapil/"),  # an office page: their home instead
    ("disdukcapil", "/disdukcapilx/berkas", "/disdukcapil/"),
    ("disdukcapil", "/", "/disdukcapil/"),
    ("camat", "/disdukcapil/berkas", "/"),  # Disdukcapil's area: the office home instead
    ("camat", "/disdukcapil", "/"),
    ("operator", "/disdukcapil/rekap.xlsx", "/"),
    ("camat", "/disdukcapilx", "/disdukcapilx"),  # a path that only starts alike
    ("disdukcapil", "/disdukcapil/../users", "/disdukcapil/"),  # the browser opens /users
    ("camat", "/x/../disdukcapil/berkas", "/"),
    ("disdukcapil", "/disdukcapil/%2e%2e/users", "/disdukcapil/"),
])
def test_next_stays_inside_the_area_of_the_role(app, client, role, target, lands):
    with app.app_context():
        create_user("dukcapil", DUKCAPIL_PW, "disdukcapil", None, kabupaten="6311")
    username, password = ("dukcapil", DUKCAPIL_PW) if role == "disdukcapil" else (
        role, PASSWORDS[role])
    res = client.post("/login?next=" + target, data={"username": username, "password": password})
    assert res.status_code == 302
    assert res.headers["Location"] == lands


def test_login_page_names_every_web_role(client):
    html = client.get("/login").get_data(as_text=True)
    assert "Camat" in html and "operator kecamatan" in html and "Disdukcapil" in html


# ------------------------------------------------------------------ throttling

def _wrong(client, username="camat", address="10.0.0.1", **headers):
    return client.post("/login", data={"username": username, "password": "salah-salah-salah"},
                       environ_base={"REMOTE_ADDR": address}, headers=headers)


def _expire_blocks(app):
    """Let the current delays run out (moves the stored time, not the clock)."""
    with app.app_context():
        db.session.execute(update(LoginThrottle).values(blocked_until=utcnow() - timedelta(1)))
        db.session.commit()


def test_delays_grow_after_repeated_failures(app, client):
    free = app.config["LOGIN_RATE_LIMIT"]
    for _ in range(free):
        assert _wrong(client).status_code == 401
    delays = []
    for _ in range(3):
        res = _wrong(client)
        assert res.status_code == 429
        assert "Coba lagi" in res.get_data(as_text=True)
        delays.append(int(res.headers["Retry-After"]))
        _expire_blocks(app)
        assert _wrong(client).status_code == 401
    assert delays[0] >= 1 and delays[0] < delays[1] < delays[2]
    _expire_blocks(app)
    res = client.post("/login", data={"username": "camat", "password": PASSWORDS["camat"]},
                      environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert res.status_code == 302  # success ends the streak
    for _ in range(free):
        assert _wrong(client).status_code == 401


def test_one_officer_failing_does_not_lock_out_the_office_behind_the_same_nat(app, client):
    for _ in range(app.config["LOGIN_RATE_LIMIT"] + 1):
        _wrong(client, "camat", "10.0.0.7")
    res = client.post("/login", data={"username": "operator", "password": PASSWORDS["operator"]},
                      environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert res.status_code == 302


def test_one_address_spraying_many_usernames_is_slowed_down(app, client):
    limit = app.config["LOGIN_ADDRESS_RATE_LIMIT"]
    for i in range(limit):
        assert _wrong(client, f"tebakan{i}", "10.0.0.9").status_code == 401
    assert _wrong(client, "tebakan-lagi", "10.0.0.9").status_code == 429
    # The forwarded-for header is not trusted without a configured proxy.
    assert _wrong(client, "tebakan-lain", "10.0.0.9",
                  **{"X-Forwarded-For": "203.0.113.5"}).status_code == 429
    assert _wrong(client, "tebakan-lain", "10.0.0.10").status_code == 401


def test_trusted_proxy_count_picks_the_forwarded_address(db_url):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": SECRET_KEY,
                      "WTF_CSRF_ENABLED": False, "TRUSTED_PROXIES": 1,
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        db.drop_all()
        init_database()
    client = app.test_client()
    limit = app.config["LOGIN_ADDRESS_RATE_LIMIT"]
    for i in range(limit):
        _wrong(client, f"tebakan{i}", "10.0.0.1", **{"X-Forwarded-For": "203.0.113.5"})
    assert _wrong(client, "x1", "10.0.0.1", **{"X-Forwarded-For": "203.0.113.5"}).status_code == 429
    assert _wrong(client, "x2", "10.0.0.1", **{"X-Forwarded-For": "203.0.113.6"}).status_code == 401
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_burst_of_parallel_guesses_cannot_all_pass_the_check(app):
    free = app.config["LOGIN_RATE_LIMIT"]
    n = 16
    barrier = threading.Barrier(n)
    statuses = []

    def guess():
        c = app.test_client()
        barrier.wait()
        statuses.append(_wrong(c, "camat", "10.0.1.1").status_code)

    threads = [threading.Thread(target=guess) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(set(statuses)) == [401, 429]
    assert statuses.count(401) == free


def test_failed_logins_are_audited_without_password_or_typed_username(app, client):
    _wrong(client, "camat", "10.0.2.1")
    nik_typo = "6311045403080009"
    client.post("/login", data={"username": nik_typo, "password": "rahasia-nik-123"},
                environ_base={"REMOTE_ADDR": "10.0.2.1"})
    client.post("/api/auth/device", json={"username": "petugas", "password": "salah-salah-1",
                                          "device_label": "HP"})
    with app.app_context():
        rows = db.session.execute(select(AuditEntry).where(AuditEntry.action == "login_failed")
                                  .order_by(AuditEntry.id)).scalars().all()
        camat = db.session.execute(select(User).where(User.username == "camat")).scalar_one()
        petugas = db.session.execute(select(User).where(User.username == "petugas")).scalar_one()
    assert len(rows) == 3
    assert rows[0].target == f"user:{camat.id}" and rows[0].kecamatan_code == "631104"
    assert rows[1].target is None and rows[1].kecamatan_code is None
    assert rows[2].target == f"user:{petugas.id}" and rows[2].details["channel"] == "device"
    stored = repr([(r.target, r.details) for r in rows])
    for secret in (nik_typo, "rahasia-nik-123", "salah-salah", "10.0.2.1"):
        assert secret not in stored
    assert rows[1].details["username_hmac"] != rows[0].details.get("username_hmac")


def test_unknown_users_take_as_long_as_wrong_passwords(db_url):
    # A deliberately slow hash so that the difference, if any, is far above the noise.
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": SECRET_KEY,
                      "WTF_CSRF_ENABLED": False, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:150000"})
    with app.app_context():
        db.drop_all()
        init_database()
        create_user("camat", PASSWORDS["camat"], "camat", "631104")
    client = app.test_client()

    def timed(username, i):
        start = time.perf_counter()
        res = client.post("/login", data={"username": username, "password": "salah-salah-salah"},
                          environ_base={"REMOTE_ADDR": f"10.0.3.{i}"})
        assert res.status_code == 401
        return time.perf_counter() - start

    wrong = statistics.median(timed("camat", i) for i in range(3))
    unknown = statistics.median(timed(f"tidak-ada-{i}", 10 + i) for i in range(3))
    assert unknown > 0.6 * wrong, (unknown, wrong)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_create_user_command_updating_a_user_ends_its_sessions(app, client, auth):
    auth.login("operator")
    assert logged_in(client)
    with app.app_context():
        create_user("operator", "sandi-operator-dari-cli", "operator", "631104")
    assert not logged_in(client)


def test_a_streak_is_forgotten_after_a_quiet_window(app, client):
    for _ in range(app.config["LOGIN_RATE_LIMIT"]):
        _wrong(client, "camat", "10.0.4.1")
    assert _wrong(client, "camat", "10.0.4.1").status_code == 429
    with app.app_context():
        quiet = utcnow() - timedelta(seconds=app.config["LOGIN_RATE_WINDOW_SECONDS"] + 5)
        db.session.execute(update(LoginThrottle).values(last_at=quiet, blocked_until=quiet))
        db.session.commit()
    assert _wrong(client, "other", "10.0.4.2").status_code == 401  # cleans up old streaks
    with app.app_context():
        assert len(db.session.execute(select(LoginThrottle)).scalars().all()) == 2
    for _ in range(app.config["LOGIN_RATE_LIMIT"]):
        assert _wrong(client, "camat", "10.0.4.1").status_code == 401
