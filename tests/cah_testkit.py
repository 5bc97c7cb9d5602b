"""Plain helpers shared by the test packages (a unique module name: every conftest is
imported as "conftest", so shared helpers cannot live there)."""
import uuid

from flask import session
from sqlalchemy import create_engine, select

from server.auth import start_office_session
from server.extensions import db
from server.models import User

PASSWORDS = {"camat": "rahasia-camat", "operator": "rahasia-operator",
             "petugas": "rahasia-petugas", "petugas2": "rahasia-petugas2",
             "camat_juai": "rahasia-juai", "petugas_juai": "rahasia-pjuai"}

# A session key that passes the server's key-strength check (a weak one is refused).
SECRET_KEY = "test-secret-key-that-is-long-enough-0123"


def reset_database(url, metadata):
    """Drop and create every table of metadata (PostgreSQL databases are shared per run)."""
    engine = create_engine(url)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    return engine


def registration(mutation_id, *, desa="6311042005", name="Warga Uji", **overrides):
    """A register_resident mutation with synthetic data (override any argument)."""
    args = {"resident_id": str(uuid.uuid4()), "desa_code": desa, "name": name,
            "nik": None, "kk_number": None, "sex": "female", "birth_place": "Balangan",
            "birth_date": "2008-05-17", "marital_status": "single",
            "address": "Jalan Uji No. 1", "rt": "001", "rw": "002", "phone": None,
            "vulnerable_category": None, "disability": None, "notes": ""}
    args.update(overrides)
    return {"id": mutation_id, "name": "register_resident",
            "at": "2026-11-28T09:15:03+08:00", "args": args}


def forge_office_session(app, client, username):
    """Give client a real office session of username without the login form (which refuses
    a petugas): to prove that the pages refuse such a session anyway."""
    with app.test_request_context():
        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        start_office_session(user)
        db.session.commit()
        sid = session["sid"]
    with client.session_transaction() as cookie:
        cookie["sid"] = sid
        cookie.permanent = True
