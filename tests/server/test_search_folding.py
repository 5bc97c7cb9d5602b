"""Names as people write them (issue #11 §4) on the office side, SQLite and PostgreSQL: the
residents search folds case, accents and apostrophes; the office's text inputs are cleaned
like the phone's; migration 0004 refolds the name_key of residents registered before it."""
import html
import unicodedata

import pytest
from sqlalchemy import select, update
from werkzeug.datastructures import MultiDict
from wtforms import Form, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional

from cah_testkit import registration
from migration_kit import (
    empty_engine_fixture,  # noqa: F401  (the `engine` fixture)
    fill_every_table,
)
from server.bounds import PlainText
from server.migrations import downgrade_database, upgrade_database
from sync.models import Resident

NAMES = ("Ma'ruf", "\u00c9lok \u00d1urjanah", "Nur \u00c5ini", "Budi Coba")


@pytest.fixture
def registered(device):
    phone = device.login()
    res = device.sync(phone, [registration(i + 1, name=name) for i, name in enumerate(NAMES)])
    assert {r["status"] for r in res.get_json()["results"]} == {"applied"}, res.get_json()


def found(client, query, path="/residents"):
    page = html.unescape(client.get(path, query_string={"q": query}).get_data(as_text=True))
    return [name for name in NAMES if name in page]


@pytest.mark.parametrize("query, names", [
    ("maruf", ["Ma'ruf"]), ("MA\u2019RUF", ["Ma'ruf"]), ("ma'ruf", ["Ma'ruf"]),
    ("\u00c9lok \u00d1urjanah", ["\u00c9lok \u00d1urjanah"]),  # SQLite's lower() is ASCII only
    ("\u00e9LOK  \u00f1urjanah", ["\u00c9lok \u00d1urjanah"]), ("elok", ["\u00c9lok \u00d1urjanah"]),
    (unicodedata.normalize("NFD", "\u00c5ini"), ["Nur \u00c5ini"]), ("Nur Ai\u200bni", ["Nur \u00c5ini"]),
    ("budi", ["Budi Coba"]), ("%", []), ("_", []),
])
def test_the_residents_search_folds_case_accents_and_apostrophes(client, auth, registered,
                                                                 query, names):
    auth.login()
    assert found(client, query) == names


def test_the_export_searches_the_same_way(client, auth, registered):
    auth.login()
    assert found(client, "MA\u2019RUF", "/residents/export.csv") == ["Ma'ruf"]


class _Form(Form):
    name = StringField(validators=[DataRequired("Nama wajib diisi."), PlainText()])
    note = TextAreaField(validators=[Optional(), PlainText(multiline=True)])


def test_office_text_is_cleaned_like_the_phones():
    form = _Form(MultiDict({"name": "Aksi\u200b Uji \u00c5", "note": "satu\u00ad\ndua"}))
    form.name.data = unicodedata.normalize("NFD", form.name.data)
    assert form.validate(), form.errors
    assert (form.name.data, form.note.data) == ("Aksi Uji \u00c5", "satu\ndua")
    blank = _Form(MultiDict({"name": "\u200b\u2066"}))
    assert not blank.validate()
    assert blank.errors == {"name": ["Wajib diisi."]}
    control = _Form(MultiDict({"name": "Aksi\x07"}))
    assert not control.validate() and "karakter kontrol" in control.errors["name"][0]


def _keys(engine):
    with engine.connect() as connection:
        return dict(connection.execute(select(Resident.name, Resident.name_key)).all())


def test_migration_0004_refolds_the_name_key_of_existing_residents(engine):
    upgrade_database(engine, "0003")
    fill_every_table(engine)  # two residents, named here as before 0004 keyed them
    released = {"Nur \u00c5ini": "nur \u00e5ini", "MA\u2019RUF": "ma\u2019ruf"}
    with engine.begin() as connection:
        ids = connection.scalars(select(Resident.resident_id)).all()
        for rid, (name, key) in zip(ids, released.items(), strict=True):
            connection.execute(update(Resident).where(Resident.resident_id == rid)
                               .values(name=name, name_key=key))

    upgrade_database(engine, "0004")
    assert _keys(engine) == {"Nur \u00c5ini": "nur aini", "MA\u2019RUF": "maruf"}

    downgrade_database(engine, "0003")
    assert _keys(engine) == released
