"""Load the shipped Kemendagri wilayah codes of Kabupaten Balangan into the database."""
import csv
from importlib import resources

from sqlalchemy import select

from .models import Wilayah

# Kemendagri writes "Batu Mandi"; the SOP and the people there write "Batumandi".
LOCAL_SPELLING = {"631104": "Batumandi"}


def read_wilayah_csv():
    """Rows of the shipped CSV as (code digits, name, level, parent digits or None)."""
    text = resources.files("server").joinpath("data/balangan_wilayah.csv").read_text("utf-8")
    rows = []
    for row in csv.DictReader(text.splitlines()):
        code = row["code_digits"]
        parent = row["parent_code"].replace(".", "") or None
        rows.append((code, LOCAL_SPELLING.get(code, row["name"]), row["level"], parent))
    return rows


def load_wilayah(session):
    """Insert or update every shipped region; returns how many rows were added."""
    existing = {w.code: w for w in session.execute(select(Wilayah)).scalars()}
    added = 0
    for code, name, level, parent in read_wilayah_csv():
        row = existing.get(code)
        if row is None:
            session.add(Wilayah(code=code, name=name, level=level, parent_code=parent))
            added += 1
            session.flush()  # parents come first in the file; keep FK order
        else:
            row.name, row.level, row.parent_code = name, level, parent
    return added


def desa_of(session, kecamatan_code):
    """The desa and kelurahan of one kecamatan, by code."""
    return session.execute(
        select(Wilayah).where(Wilayah.parent_code == kecamatan_code,
                              Wilayah.level.in_(("desa", "kelurahan")))
        .order_by(Wilayah.code)).scalars().all()


def normalise_code(code):
    """Accept 63.11.04 or 631104; return the digits."""
    return (code or "").replace(".", "").strip()
