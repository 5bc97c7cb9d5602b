"""The pakkedes command: init, create-user, demo seeding."""
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select, text

from server import create_app
from server.cli import (
    DEMO_DISDUKCAPIL,
    DEMO_USERS,
    create_user,
    init_database,
    main,
    seed_demo_batch,
    seed_demo_operation,
    seed_demo_residents,
)
from server.extensions import db
from server.models import AuditEntry
from sync.models import Batch
from sync.registry import RegistryActor, in_kabupaten


@pytest.fixture
def runner(db_url, monkeypatch):
    monkeypatch.setenv("CAH_DATABASE_URL", db_url)
    with create_app().app_context():
        db.drop_all()
        db.engine.dispose()  # this app's own pool: unclosed connections warn (= fail)
    return CliRunner()


def _scalar(db_url, sql):
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        value = conn.execute(text(sql)).scalar_one()
    engine.dispose()
    return value


def test_init_loads_all_of_balangan_and_is_repeatable(runner, db_url):
    first = runner.invoke(main, ["init"])
    assert first.exit_code == 0, first.output
    assert "167 wilayah baru" in first.output
    second = runner.invoke(main, ["init"])
    assert second.exit_code == 0 and "0 wilayah baru" in second.output
    assert _scalar(db_url, "select count(*) from wilayah where level = 'kecamatan'") == 8
    assert _scalar(db_url, "select count(*) from wilayah where level = 'desa'") == 154
    assert _scalar(db_url, "select count(*) from wilayah where parent_code = '631104'") == 18
    assert _scalar(db_url, "select name from wilayah where code = '631104'") == "Batumandi"


def test_create_user_with_password_from_environment(runner, db_url, monkeypatch):
    monkeypatch.setenv("CAH_PASSWORD", "kata-sandi-uji")
    res = runner.invoke(main, ["create-user", "andi", "--role", "petugas", "--kecamatan",
                               "63.11.04", "--desa", "6311042005", "--desa", "63.11.04.2001"])
    assert res.exit_code == 0, res.output
    assert _scalar(db_url, "select count(*) from assignments a join users u on u.id = a.user_id "
                           "where u.username = 'andi'") == 2
    assert _scalar(db_url, "select password_hash from users where username='andi'") != "kata-sandi-uji"


def test_create_user_prompts_for_password(runner, db_url, monkeypatch):
    monkeypatch.delenv("CAH_PASSWORD", raising=False)
    res = runner.invoke(main, ["create-user", "budi", "--role", "camat", "--kecamatan", "631104"],
                        input="rahasia-budi\nrahasia-budi\n")
    assert res.exit_code == 0, res.output
    assert _scalar(db_url, "select role from users where username='budi'") == "camat"


@pytest.mark.parametrize("args", [
    ["--role", "petugas", "--kecamatan", "999999"],
    ["--role", "petugas", "--kecamatan", "631104", "--desa", "6311012001"],  # desa of Juai
    ["--role", "raja", "--kecamatan", "631104"],
    ["--role", "camat"],  # no kecamatan
    ["--role", "camat", "--kecamatan", "631104", "--kabupaten", "6311"],
    ["--role", "disdukcapil"],  # no kabupaten
    ["--role", "disdukcapil", "--kabupaten", "631104"],  # a kecamatan, not a kabupaten
    ["--role", "disdukcapil", "--kabupaten", "6399"],
    ["--role", "disdukcapil", "--kabupaten", "6311", "--kecamatan", "631104"],
    ["--role", "disdukcapil", "--kabupaten", "6311", "--desa", "6311042005"],
])
def test_create_user_refuses_bad_input(runner, db_url, monkeypatch, args):
    monkeypatch.setenv("CAH_PASSWORD", "kata-sandi-uji")
    assert runner.invoke(main, ["init"]).exit_code == 0
    res = runner.invoke(main, ["create-user", "salah", *args])
    assert res.exit_code != 0
    assert _scalar(db_url, "select count(*) from users where username = 'salah'") == 0


def test_create_disdukcapil_user_of_a_kabupaten(runner, db_url, monkeypatch):
    monkeypatch.setenv("CAH_PASSWORD", "kata-sandi-dukcapil")
    res = runner.invoke(main, ["create-user", "dewi", "--role", "disdukcapil",
                               "--kabupaten", "63.11"])
    assert res.exit_code == 0, res.output
    assert "siap untuk Kabupaten Balangan." in res.output
    assert "kabupaten Kabupaten" not in res.output
    row = _scalar(db_url, "select role || '|' || kabupaten_code || '|' || "
                          "coalesce(kecamatan_code, '-') from users where username = 'dewi'")
    assert row == "disdukcapil|6311|-"
    # a camat made again as Disdukcapil loses its kecamatan: never both scopes at once
    assert runner.invoke(main, ["create-user", "eka", "--role", "camat", "--kecamatan",
                                "631104"]).exit_code == 0
    assert runner.invoke(main, ["create-user", "eka", "--role", "disdukcapil",
                                "--kabupaten", "6311"]).exit_code == 0
    assert _scalar(db_url, "select coalesce(kecamatan_code, '-') || '|' || kabupaten_code "
                           "from users where username = 'eka'") == "-|6311"


def test_unknown_kabupaten_names_the_loaded_ones(runner, db_url, monkeypatch):
    monkeypatch.setenv("CAH_PASSWORD", "kata-sandi-uji")
    res = runner.invoke(main, ["create-user", "salah", "--role", "disdukcapil",
                               "--kabupaten", "63.99"])
    assert res.exit_code != 0
    assert "kode kabupaten 6399 tidak dikenal" in res.output
    assert "pakkedes init" in res.output and "Kabupaten Balangan 63.11" in res.output


def test_demo_seed_is_idempotent(runner, db_url):
    app = create_app()
    with app.app_context():
        init_database()
        for username, password, full_name, role, desa in DEMO_USERS:
            create_user(username, password, role, "631104", desa, full_name)
        username, password, full_name = DEMO_DISDUKCAPIL  # the demo's password must pass
        dukcapil = create_user(username, password, "disdukcapil", None, (), full_name,
                               kabupaten="6311")
        operation_id = seed_demo_operation().id
        assert seed_demo_operation().id == operation_id
        first = seed_demo_residents()
        second = seed_demo_residents()
        batch = seed_demo_batch()
        assert batch is not None and batch.number == "BA/631104/2026/001"
        assert seed_demo_batch() is None  # running the demo again makes no second batch
        # what the demo's Disdukcapil user sees: one batch waiting for the receipt
        actor = RegistryActor(user_id=dukcapil.id, kabupaten_code=dukcapil.kabupaten_code)
        waiting = db.session.execute(select(Batch.number).where(
            in_kabupaten(actor), Batch.received_at.is_(None))).scalars().all()
        db.session.remove()
        db.engine.dispose()  # this app's own pool: unclosed connections warn (= fail)
    assert first == 5 and second == 0
    assert waiting == ["BA/631104/2026/001"]
    assert _scalar(db_url, "select count(*) from residents") == 5
    # registered (5), verified, picked up, recorded (4 each), handed over (3)
    assert _scalar(db_url, "select count(*) from resident_events") == 20
    assert _scalar(db_url, "select count(*) from batches") == 1
    assert _scalar(db_url, "select count(*) from batch_items") == 3
    assert _scalar(db_url, "select count(*) from residents where stage = 'sent_to_registry'") == 3
    # one left for the operator to hand over
    assert _scalar(db_url, "select count(*) from residents where stage = 'recorded'") == 1
    assert _scalar(db_url, "select count(*) from audit_log where action = 'create_batch'") == 1
    assert _scalar(db_url, "select count(*) from operations") == 1
    assert _scalar(db_url, "select sum(target) from operation_desa") == 95
    # the demo residents belong to the demo operation, so the dashboard shows them
    assert _scalar(db_url, "select count(*) from residents where operation_id is null") == 0


def test_deactivate_user_locks_a_disdukcapil_account(app, client, device, db_url, monkeypatch):
    """`pakkedes deactivate-user`: the account no page lists can be locked; its browser session
    dies at once, the next login fails; a petugas's phone token is revoked; audited."""
    with app.app_context():
        create_user("dewi", "rahasia-dukcapil-balangan-7", "disdukcapil", None,
                    kabupaten="6311")
    login = {"username": "dewi", "password": "rahasia-dukcapil-balangan-7"}
    assert client.post("/login", data=login).status_code == 302
    assert client.get("/disdukcapil/berkas").status_code == 200
    phone = device.login("petugas")
    monkeypatch.setenv("CAH_DATABASE_URL", db_url)
    cli = CliRunner()
    res = cli.invoke(main, ["deactivate-user", "dewi"])
    assert res.exit_code == 0, res.output
    assert "dinonaktifkan; 1 sesi kantor diakhiri, 0 perangkat HP dicabut" in res.output
    page = client.get("/disdukcapil/berkas")  # the session of before is dead
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert client.post("/login", data=login).status_code == 401
    assert device.sync(phone).status_code == 200
    res = cli.invoke(main, ["deactivate-user", "petugas"])
    assert res.exit_code == 0 and "1 perangkat HP dicabut" in res.output
    assert device.sync(phone).status_code == 401
    with app.app_context():
        entries = db.session.execute(select(AuditEntry).where(
            AuditEntry.action.in_(("deactivate_user", "revoke_device")))
            .order_by(AuditEntry.id)).scalars().all()
        assert [(e.action, e.kecamatan_code, e.details.get("via")) for e in entries] == [
            ("deactivate_user", None, "cli"), ("revoke_device", "631104", None),
            ("deactivate_user", "631104", "cli")]
    # again: nothing changes, nothing audited; an unknown name is refused
    res = cli.invoke(main, ["deactivate-user", "dewi"])
    assert res.exit_code == 0 and "sudah nonaktif" in res.output
    res = cli.invoke(main, ["deactivate-user", "tidak-ada"])
    assert res.exit_code != 0 and "tidak ditemukan" in res.output
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "deactivate_user")).scalar_one() == 2
        db.session.remove()


def test_create_user_again_changes_assignments_in_place(runner, db_url, monkeypatch):
    monkeypatch.setenv("CAH_PASSWORD", "kata-sandi-uji")
    base = ["create-user", "citra", "--role", "petugas", "--kecamatan", "631104"]
    assert runner.invoke(main, base + ["--desa", "6311042005", "--desa", "6311042001"]).exit_code == 0
    res = runner.invoke(main, base + ["--desa", "6311042005", "--desa", "6311042002"])
    assert res.exit_code == 0, res.output
    codes = _scalar(db_url, "select string_agg(desa_code, ',' order by desa_code) from assignments"
                    if db_url.startswith("postgresql") else
                    "select group_concat(desa_code) from (select desa_code from assignments "
                    "order by desa_code)")
    assert codes == "6311042002,6311042005"
