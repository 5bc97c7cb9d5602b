"""GET /api/health for monitoring (issue #9) and the app version in the office footer."""
import importlib.metadata
import socket

from server import create_app
from server.extensions import db
from server.migrations import downgrade_database, head_revision, upgrade_database

KEY = "test-secret-key-that-is-long-enough-0123"


def test_health_reports_database_version_and_schema_revision(client):
    res = client.get("/api/health")
    assert res.status_code == 200
    assert res.get_json() == {"status": "ok", "database": "ok",
                              "version": importlib.metadata.version("cah"),
                              "schema_revision": head_revision()}
    # A monitor or a proxy must never answer from a stale copy.
    assert res.headers["Cache-Control"] == "no-store"


def test_health_needs_no_login_and_carries_no_session(client):
    res = client.get("/api/health")  # no bearer token, no cookie
    assert res.status_code == 200
    assert "Set-Cookie" not in res.headers


def test_health_reports_the_database_revision_not_the_code_s(app, client):
    # A database left behind by an upgrade that was not run: the monitor must see it.
    with app.app_context():
        db.session.remove()
        downgrade_database(db.engine, "0001")
    try:
        assert client.get("/api/health").get_json()["schema_revision"] == "0001"
    finally:  # PostgreSQL's database is shared: leave no 0.1.0-only table behind
        with app.app_context():
            upgrade_database(db.engine)


def _unreachable_url(db_url, tmp_path):
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'no-such-folder' / 'cah.sqlite'}"
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/cah?connect_timeout=3"


def test_health_is_503_when_the_database_is_unreachable(db_url, tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": KEY,
                      "SQLALCHEMY_DATABASE_URI": _unreachable_url(db_url, tmp_path)},
                     instance_path=str(tmp_path / "instance"))
    res = app.test_client().get("/api/health")
    assert res.status_code == 503
    assert res.get_json() == {"status": "error", "database": "unreachable",
                              "version": importlib.metadata.version("cah"),
                              "schema_revision": None}
    assert res.headers["Cache-Control"] == "no-store"
    with app.app_context():
        db.engine.dispose()


def test_health_is_in_the_openapi_document(client):
    doc = client.get("/api/openapi.json").get_json()
    operation = doc["paths"]["/api/health"]["get"]
    assert set(operation["responses"]) == {"200", "503"}
    assert operation["security"] == []  # no login: a monitor has no account


def test_office_footer_shows_the_app_version(client, auth):
    version = importlib.metadata.version("cah")
    assert f"CAH versi {version}" in client.get("/login").get_data(as_text=True)
    auth.login()
    assert f"CAH versi {version}" in client.get("/residents").get_data(as_text=True)
