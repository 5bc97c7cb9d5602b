"""Issue #11 §4: residents.name_key folds accents, apostrophes and invisible characters.

Revision ID: 0004
Revises: 0003

* ``residents.name_key`` (data only, no schema change): recomputed for every resident with
  the new folding rule, so that a case registered before it is found as a possible duplicate
  of "Nur Aini" when it was "Nur Åini", and by the office's search ("maruf" finds "Ma'ruf"),
  which now searches name_key.

Downgrade recomputes 0.1.0's key (case-folded, single spaces).
"""
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BATCH = 1000  # rows read and written per round trip; a kecamatan holds a few thousand

# A FROZEN copy of sync.wirefields.fold (clean_text, casefold, no apostrophes, NFKD without
# Mn marks, single spaces) and sync.handlers_registration.name_key (at most 100 characters)
# as of this revision. Do not import them: a migration must do tomorrow what it did today,
# whatever sync/ becomes. A later change of the rule is a new revision with its own copy.
_APOSTROPHES = str.maketrans("", "", "'`\u00b4\u2018\u2019\u02bc\u02bb")


def _folded_key(name):
    text = "".join(c for c in name if unicodedata.category(c) != "Cf")
    text = unicodedata.normalize("NFC", text).casefold().translate(_APOSTROPHES)
    text = "".join(c for c in unicodedata.normalize("NFKD", text)
                   if unicodedata.category(c) != "Mn").translate(_APOSTROPHES)
    return " ".join(text.split())[:100]


def _released_key(name):
    """0.1.0's name_key (before this revision)."""
    return " ".join(name.casefold().split())[:100]  # casefold may lengthen ("ß" → "ss")


_residents = sa.table("residents", sa.column("resident_id", sa.String(36)),
                      sa.column("name", sa.String(100)), sa.column("name_key", sa.String(100)))


def _rekey(key_of):
    """Set name_key = key_of(name) on every resident whose key differs, BATCH rows a round."""
    connection = op.get_bind()
    update = (_residents.update().where(_residents.c.resident_id == sa.bindparam("rid"))
              .values(name_key=sa.bindparam("key")))
    after = ""
    while True:
        rows = connection.execute(
            sa.select(_residents.c.resident_id, _residents.c.name, _residents.c.name_key)
            .where(_residents.c.resident_id > after)
            .order_by(_residents.c.resident_id).limit(BATCH)).all()
        if not rows:
            return
        changed = [{"rid": rid, "key": key_of(name)} for rid, name, key in rows
                   if key_of(name) != key]
        if changed:
            connection.execute(update, changed)
        after = rows[-1].resident_id


def upgrade():
    _rekey(_folded_key)


def downgrade():
    _rekey(_released_key)
