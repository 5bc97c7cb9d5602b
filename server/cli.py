"""The `pakkedes` command: init, db (schema revisions), create-user, deactivate-user, serve,
purge, backup, restore, demo."""
import os

import click
from alembic.util import CommandError
from gunicorn.app.base import BaseApplication
from sqlalchemy import select

from sync.models import utcnow

from . import create_app
from .auth import audit, end_office_sessions
from .backup import BackupError, backup_database, restore_database
from .demo import seed_demo_batch, seed_demo_operation, seed_demo_residents
from .extensions import db
from .migrations import (
    MigrationRefused,
    UnknownSchema,
    current_revision,
    downgrade_database,
    head_revision,
    history,
    upgrade_database,
)
from .models import KABUPATEN_ROLES, ROLES, Assignment, User, Wilayah
from .passwords import password_problem
from .retention import purge_expired
from .web.users import deactivate_account
from .wilayah import load_wilayah, normalise_code

DEMO_USERS = (
    # username, password, full name, role, desa codes
    ("camat", "demo-camat-batumandi", "Camat Batumandi (demo)", "camat", ()),
    ("operator", "demo-operator-batumandi", "Operator Kecamatan (demo)", "operator", ()),
    ("petugas", "demo-petugas-batumandi", "Petugas Pokja I (demo)", "petugas",
     ("6311042005", "6311042001", "6311042002")),
)
# username, password, full name of the demo's Disdukcapil user (Kabupaten Balangan, issue #13)
DEMO_DISDUKCAPIL = ("disdukcapil", "demo-disdukcapil-balangan", "Disdukcapil Balangan (demo)")


def upgrade_schema(revision="head"):
    """Bring the app's database to a schema revision (server/migrations); an empty database is
    created, one made by 0.1.0's create_all is adopted first. Returns an UpgradeResult."""
    db.session.remove()  # the session must not hold locks the ALTERs would wait for
    try:
        return upgrade_database(db.engine, revision)
    except (UnknownSchema, MigrationRefused) as exc:
        raise click.ClickException(str(exc)) from exc
    except CommandError as exc:
        raise click.ClickException(_unreachable(revision, exc)) from exc


def _unreachable(revision, exc):
    return (f"revisi skema {revision} tidak dikenal atau tidak bisa dituju dari revisi "
            f"sekarang ({exc})")


def init_database():
    """Create or upgrade the schema to the newest revision and load or refresh the wilayah;
    returns the number of wilayah added."""
    upgrade_schema()
    added = load_wilayah(db.session)
    db.session.commit()
    return added


def create_user(username, password, role, kecamatan, desa_codes=(), full_name=None, *,
                kabupaten=None):
    """Create (or update) a user of one kecamatan, or a Disdukcapil user of one kabupaten;
    returns the user.

    kecamatan: code (63.11.04 or 631104) for petugas, camat and operator; must be empty for
    the kabupaten roles (disdukcapil), which take `kabupaten` (63.11 or 6311) instead and no
    desa. Updating an existing user ends its office sessions (its password or role may have
    changed). Raises click.BadParameter for an unknown role or code, a code given to the
    wrong role, or a password that breaks the rules of server/passwords.py (the same for
    every role).
    """
    if role not in ROLES:
        raise click.BadParameter(f"peran harus salah satu dari {', '.join(ROLES)}")
    kecamatan, kabupaten = _scope(role, kecamatan, kabupaten, desa_codes)
    codes = [normalise_code(c) for c in desa_codes]
    for code in codes:
        desa = db.session.get(Wilayah, code)
        if desa is None or desa.parent_code != kecamatan:
            raise click.BadParameter(f"desa {code} bukan bagian dari kecamatan {kecamatan}")
    problem = password_problem(password, [username, full_name or ""])
    if problem:
        raise click.BadParameter(problem)
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        user = User(username=username)
        db.session.add(user)
    else:
        end_office_sessions(user.id)
    user.full_name = full_name or user.full_name or username
    user.role, user.active = role, True
    user.kecamatan_code, user.kabupaten_code = kecamatan, kabupaten
    user.set_password(password)
    wanted = set(codes)
    for assignment in list(user.assignments):  # keep rows that stay: (user, desa) is unique
        if assignment.desa_code not in wanted:
            user.assignments.remove(assignment)
    have = {a.desa_code for a in user.assignments}
    user.assignments.extend(Assignment(desa_code=c) for c in dict.fromkeys(codes) if c not in have)
    db.session.commit()
    return user


def _scope(role, kecamatan, kabupaten, desa_codes):
    """(kecamatan digits or None, kabupaten digits or None) of a new user of `role`.

    A kabupaten role gets only a kabupaten (a wilayah of level kabupaten), the others only a
    kecamatan: a user never holds both, so no query can widen one scope with the other.
    """
    if role in KABUPATEN_ROLES:
        if kecamatan or desa_codes:
            raise click.BadParameter(f"peran {role} bekerja untuk satu kabupaten: jangan isi "
                                     "--kecamatan atau --desa")
        code = normalise_code(kabupaten)
        if not code:
            raise click.BadParameter(f"peran {role} memerlukan --kabupaten, mis. 63.11")
        kab = db.session.get(Wilayah, code)
        if kab is None or kab.level != "kabupaten":
            raise click.BadParameter(f"kode kabupaten {code} tidak dikenal ({_known_kabupaten()})")
        return None, code
    if kabupaten:
        raise click.BadParameter(f"--kabupaten hanya untuk peran {', '.join(KABUPATEN_ROLES)}")
    code = normalise_code(kecamatan)
    if not code:
        raise click.BadParameter(f"peran {role} memerlukan --kecamatan, mis. 63.11.04")
    kec = db.session.get(Wilayah, code)
    if kec is None or kec.level != "kecamatan":
        raise click.BadParameter(f"kode kecamatan {code} tidak dikenal")
    return code, None


def _known_kabupaten():
    """The kabupaten a user may be given, for a refusal: those `pakkedes init` loaded."""
    known = db.session.execute(select(Wilayah).where(Wilayah.level == "kabupaten")
                               .order_by(Wilayah.code)).scalars().all()
    if not known:
        return "belum ada wilayah: jalankan pakkedes init"
    names = ", ".join(f"{w.name} {w.code[:2]}.{w.code[2:]}" for w in known)
    return f"hanya wilayah yang dimuat pakkedes init dikenal: {names}"


def _app():
    """The app of one command; its database connections are closed when the command ends
    (a CLI run in a long-lived process, e.g. a test, would otherwise leave them open)."""
    app = create_app()
    context = click.get_current_context(silent=True)
    if context is not None:
        context.call_on_close(lambda: _dispose_engines(app))
    return app


def _dispose_engines(app):
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()


@click.group()
def main():
    """CAH — aplikasi lapangan PAK KEDES."""


@main.command("init")
def init_command():
    """Create or upgrade the database and load the wilayah."""
    app = _app()
    with app.app_context():
        result = upgrade_schema()
        added = load_wilayah(db.session)
        db.session.commit()
        _echo_upgrade(result)
        click.echo(f"Basis data siap ({db.engine.url.render_as_string(hide_password=True)}); "
                   f"{added} wilayah baru dimuat.")


def _echo_upgrade(result):
    if result.adopted_0_1_0:
        click.echo("Basis data versi 0.1.0 (tanpa revisi skema) dikenali dan ditandai 0001.")
    if result.before == result.after:
        click.echo(f"Skema sudah pada revisi {result.after}.")
    else:
        click.echo(f"Skema dinaikkan dari revisi {result.before or '(kosong)'} ke {result.after}.")


@main.group("db")
def db_group():
    """Schema revisions of the database (Alembic) for operators."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade_command(revision):
    """Upgrade the schema to REVISION (default: the newest). Take a backup first."""
    app = _app()
    with app.app_context():
        _echo_upgrade(upgrade_schema(revision))


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade_command(revision):
    """Take the schema back to REVISION ("base": no tables). Loses data only the newer
    schema holds; take a backup first."""
    app = _app()
    with app.app_context():
        db.session.remove()
        try:
            after = downgrade_database(db.engine, revision)
        except MigrationRefused as exc:
            raise click.ClickException(str(exc)) from exc
        except CommandError as exc:
            raise click.ClickException(_unreachable(revision, exc)) from exc
        click.echo(f"Skema diturunkan ke revisi {after or '(kosong)'}.")


@db_group.command("current")
def db_current_command():
    """Show the database's schema revision and whether it is the newest."""
    app = _app()
    with app.app_context():
        with db.engine.connect() as connection:
            current = current_revision(connection)
    head = head_revision()
    if current is None:
        state = "belum ada revisi (kosong, atau dibuat oleh 0.1.0: jalankan pakkedes init)"
    elif current == head:
        state = f"{current} (terbaru)"
    else:
        state = f"{current} (terbaru: {head}; jalankan pakkedes db upgrade)"
    click.echo(f"Revisi skema: {state}")


@db_group.command("history")
def db_history_command():
    """List the schema revisions, oldest first."""
    for revision, title in history():
        click.echo(f"{revision}  {title}")


@main.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--kecamatan", default=None,
              help="Kode kecamatan, mis. 63.11.04 (petugas, camat, operator)")
@click.option("--kabupaten", default=None, help="Kode kabupaten, mis. 63.11 (disdukcapil)")
@click.option("--desa", multiple=True, help="Kode desa tugas (boleh diulang)")
@click.option("--full-name", default=None, help="Nama lengkap yang ditampilkan")
def create_user_command(username, role, kecamatan, kabupaten, desa, full_name):
    """Create a user; the password comes from CAH_PASSWORD or is asked for. --kecamatan for
    petugas, camat and operator; --kabupaten (and no --kecamatan/--desa) for disdukcapil."""
    app = _app()
    with app.app_context():
        init_database()
        _scope(role, kecamatan, kabupaten, desa)  # a wrong scope fails before the prompt
        password = os.environ.get("CAH_PASSWORD") or click.prompt(
            "Kata sandi", hide_input=True, confirmation_prompt=True)
        user = create_user(username, password, role, kecamatan, desa, full_name,
                           kabupaten=kabupaten)
        if user.kabupaten_code:
            click.echo(f"Pengguna {user.username} ({user.role}) siap untuk "
                       f"{user.kabupaten.name}.")
        else:
            click.echo(f"Pengguna {user.username} ({user.role}) siap, {len(desa)} desa tugas.")


@main.command("deactivate-user")
@click.argument("username")
def deactivate_user_command(username):
    """Lock an account of any role (Disdukcapil too, whose account no office page lists): no
    more logins, its office sessions end at once, its phones' tokens are revoked, as the
    office's "Nonaktifkan". Audited (deactivate_user, via cli). `create-user` again makes the
    account active again."""
    app = _app()
    with app.app_context():
        init_database()
        user = db.session.execute(select(User).where(User.username == username.strip())
                                  ).scalar_one_or_none()
        if user is None:
            raise click.ClickException(f"pengguna {username} tidak ditemukan")
        was_active = user.active
        ended, revoked = deactivate_account(user)
        if was_active or ended or revoked:
            audit("deactivate_user", target=f"user:{user.id}", kecamatan_code=user.kecamatan_code,
                  devices_revoked=revoked, sessions_ended=ended, via="cli")
        db.session.commit()
        state = "dinonaktifkan" if was_active else "sudah nonaktif"
        click.echo(f"Akun {user.username} ({user.role}) {state}; {ended} sesi kantor diakhiri, "
                   f"{revoked} perangkat HP dicabut.")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
def serve_command(host, port, workers):
    """Serve CAH with gunicorn (a production WSGI server)."""
    app = _app()
    with app.app_context():
        init_database()
    run_gunicorn(app, host, port, workers)


@main.command("purge")
def purge_command():
    """Delete personal data past its retention period (docs/security.md): rejected mutations,
    unfinished photo uploads, ended office sessions and old one-time form tokens. Safe to run at
    any time, e.g. daily."""
    app = _app()
    with app.app_context():
        counts = purge_expired(utcnow())
    click.echo(f"Dihapus: {counts['rejected_mutations']} perubahan ditolak, "
               f"{counts['unfinished_uploads']} potongan unggahan foto yang tidak selesai, "
               f"{counts['office_sessions']} sesi kantor yang sudah berakhir dan "
               f"{counts['office_submissions']} tanda formulir kantor yang lama.")


def _on_engine(operation, file):
    """Run backup_database or restore_database on the app's engine; a BackupError is the
    operator's to read (a click error), never a traceback."""
    app = _app()
    with app.app_context():
        db.session.remove()
        try:
            return operation(db.engine, file)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from exc


@main.command("backup")
@click.argument("file", type=click.Path(dir_okay=False))
def backup_command(file):
    """Write the whole database (photos included) to FILE; safe while the server runs."""
    result = _on_engine(backup_database, file)
    size = f"{result.size:,}".replace(",", ".")  # Indonesian thousands, not in the path
    click.echo(f"Cadangan ditulis ke {result.path} ({size} byte; identitas basis data "
               f"{result.database_id}).")


@main.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Jangan bertanya lagi (untuk skrip).")
def restore_command(file, yes):
    """Replace the database with the backup in FILE. Stop the server first; the database gets
    a new identity, and the phones resend what they synced after the backup."""
    if not yes:
        click.confirm("Semua data saat ini diganti dengan isi cadangan. Lanjutkan?", abort=True)
    new_id = _on_engine(restore_database, file)
    click.echo(f"Basis data dipulihkan dari {file}; identitas baru {new_id}. HP petugas akan "
               "mengirim ulang data yang tersinkron setelah cadangan itu dibuat.")


@main.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def demo_command(host, port):
    """Init + demo users and residents + serve at http://localhost:PORT."""
    app = _app()
    with app.app_context():
        init_database()
        for username, password, full_name, role, desa in DEMO_USERS:
            create_user(username, password, role, "631104", desa, full_name)
        username, password, full_name = DEMO_DISDUKCAPIL
        create_user(username, password, "disdukcapil", None, (), full_name, kabupaten="6311")
        seed_demo_operation()
        seeded = seed_demo_residents()
        batch = seed_demo_batch()
        made = f"; berkas {batch.number} menunggu diterima Disdukcapil" if batch else ""
    click.echo(f"Data demo siap ({seeded} penduduk contoh baru{made}). "
               f"Buka http://localhost:{port}/ "
               f"(camat / demo-camat-batumandi, atau disdukcapil / {DEMO_DISDUKCAPIL[1]}) atau "
               f"http://localhost:{port}/app/ (petugas / demo-petugas-batumandi).")
    run_gunicorn(app, host, port, 1)


def run_gunicorn(app, host, port, workers):
    """Run the app under gunicorn in this process."""
    with app.app_context():
        db.engine.dispose()  # workers are forked: none may inherit the parent's connections

    class _Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", 4)
            self.cfg.set("timeout", 60)
            self.cfg.set("accesslog", "-")
            # Paths only: query strings could carry names typed into the search box.
            self.cfg.set("access_log_format", '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms')

        def load(self):
            return app

    _Server().run()


if __name__ == "__main__":
    main()
