"""Mutation handlers of protocol v1 for the registration: register_resident, update_resident
(the pipeline's are in handlers_pipeline.py and handlers_delivery.py; sync/mutations.py lists
them all). Each gets its args as loaded by its schema (sync/mutations.py) and follows the
handler contract of sync/context.py.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Integer,
    String,
    bindparam,
    cast,
    func,
    literal_column,
    null,
    select,
    union_all,
)

from .changeseq import allocate_change_seq
from .context import MSG_DESA_NOT_ASSIGNED, MutationContext
from .models import WITA, Resident, ResidentEvent
from .records import MSG_VALIDATION, NothingToChange, Rejection, get_resident
from .registration_prefetch import drop_prefetch, prefetch_for
from .schemas import FREE_FIELDS, flatten_errors
from .stages import INITIAL_STAGE
from .validators import check_kk, check_nik, message
from .wirefields import clean_text, fold

MSG_RESIDENT_EXISTS = (
    "ID data warga ini sudah dipakai untuk data warga lain di server. "
    "Simpan ulang sebagai pendaftaran baru."
)
MSG_FUTURE_BIRTH = "Tanggal lahir tidak boleh di masa depan."
# Warning code (sync.validators.MESSAGES_ID): the NIK is on a live case of another kecamatan.
NIK_ELSEWHERE = "nik_registered_elsewhere"

def name_key(name: str) -> str:
    """Key for the possible-duplicate check and the office's name search: the name folded
    (wirefields.fold: case, accents, apostrophes, invisible characters, spaces), at most
    100 characters (the column; folding "ß" → "ss" may lengthen a name)."""
    return fold(name)[:100]


def wire_form(data: dict[str, Any]) -> dict[str, Any]:
    """Loaded args → JSON-safe dict (as stored in the event and compared on re-send)."""
    out = {}
    for key, value in data.items():
        if isinstance(value, date):
            value = value.isoformat()
        elif value is not None and not isinstance(value, (str, int, float, bool)):
            value = str(value)  # UUID
        out[key] = value
    return out


# Residents go in with a Core INSERT (events and conflicts too, see records.Author): faster
# than the ORM, which matters for the 1,000 mutations/s budget.
_INSERT_RESIDENT = Resident.__table__.insert()
_INSERT_EVENT = ResidentEvent.__table__.insert()


def _record_event(ctx: MutationContext, resident_id: str, kind: str, payload: dict) -> None:
    ctx.author.event(resident_id, kind, payload)


def _record_conflict(ctx: MutationContext, kind: str, resident_id: str, desa_code: str,
                     details: dict, other_resident_id: str | None = None,
                     field: str | None = None) -> None:
    ctx.author.conflict(kind, resident_id, desa_code, details, other_resident_id, field)


def _stamp(ctx: MutationContext, version: int) -> dict[str, Any]:
    return {"version": version, "client_id": ctx.client_id, "user_id": ctx.actor.user_id}


# ---------------------------------------------------------------- register_resident
_R = Resident.__table__
# A case merged into another one is not a person of its own any more.
_OTHERS = (_R.c.resident_id != bindparam("rid"), _R.c.merged_into.is_(None))
# Tenant isolation: a case is only ever compared with cases of its own kecamatan (the first
# 6 digits of the desa code). The NIK index finds the few same-NIK rows; the kecamatan of
# each is read with it, so one indexed query serves both the duplicates and the notice that
# the NIK is known elsewhere (which names nobody).
_SAME_NIK = select(_R.c.resident_id,
                   (func.substr(_R.c.desa_code, 1, 6) == bindparam("kecamatan"))
                   .label("same_kecamatan")).where(
    _R.c.nik == bindparam("nik"), *_OTHERS).order_by(_R.c.created_at, _R.c.resident_id)
# A new case is linked to at most this many others per rule, the oldest first: n phones
# registering one NIK would otherwise file n(n-1)/2 conflicts (100 → 4,950 rows). The camat
# resolves the links there are; a merge moves the next one up.
MAX_DUPLICATE_LINKS = 3
# Same desa implies same kecamatan: this rule cannot cross one.
_SAME_PERSON = (
    _R.c.desa_code == bindparam("desa"),
    _R.c.birth_date == bindparam("born"),
    _R.c.name_key == bindparam("key"),
    *_OTHERS,
)
_OLDEST = (_R.c.created_at, _R.c.resident_id)
_SAME_NAME = (select(_R.c.resident_id).where(*_SAME_PERSON)
              .order_by(*_OLDEST).limit(MAX_DUPLICATE_LINKS))
# Two different NIKs mean two people: with a NIK, the name rule only finds rows without one.
_SAME_NAME_NO_NIK = (select(_R.c.resident_id).where(*_SAME_PERSON, _R.c.nik.is_(None))
                     .order_by(*_OLDEST).limit(MAX_DUPLICATE_LINKS))


def _tagged(tag: int, query, same_kecamatan=None, exists: bool = False):
    """One branch of _LOOKUP: (tag, resident_id, created_at, stage, merged_into, desa_code,
    same_kecamatan), kept as a subquery so that its ORDER BY … LIMIT holds inside the UNION."""
    sub = query.subquery()
    return select(
        literal_column(str(tag), Integer).label("tag"), sub.c.resident_id, sub.c.created_at,
        sub.c.stage if exists else cast(null(), String).label("stage"),
        sub.c.merged_into if exists else cast(null(), String).label("merged_into"),
        sub.c.desa_code if exists else cast(null(), String).label("desa_code"),
        sub.c.same_kecamatan if same_kecamatan is not None
        else cast(null(), Boolean).label("same_kecamatan"),
    )


_TAG_EXISTS, _TAG_NIK, _TAG_NAME = 0, 1, 2


def _lookup(with_nik: bool):
    # The row under the id, _SAME_NIK and the name rule in one round trip (three statements
    # one after the other before): each branch is the statement it replaces, tagged.
    exists = select(_R.c.resident_id, _R.c.created_at, _R.c.stage, _R.c.merged_into,
                    _R.c.desa_code).where(_R.c.resident_id == bindparam("rid"))
    same_name = _SAME_NAME_NO_NIK if with_nik else _SAME_NAME
    branches = union_all(
        _tagged(_TAG_EXISTS, exists, exists=True),
        *([_tagged(_TAG_NIK, _SAME_NIK.add_columns(_R.c.created_at), same_kecamatan=True)]
          if with_nik else []),
        _tagged(_TAG_NAME, same_name.add_columns(_R.c.created_at)),
    ).subquery()
    return select(branches).order_by(branches.c.tag, branches.c.created_at,
                                     branches.c.resident_id)


_LOOKUP_WITH_NIK = _lookup(with_nik=True)
_LOOKUP_WITHOUT_NIK = _lookup(with_nik=False)
_E = ResidentEvent.__table__
_FIRST_REGISTRATION = (
    select(_E.c.payload)
    .where(_E.c.resident_id == bindparam("rid"), _E.c.kind == "registered")
    .order_by(_E.c.id)
    .limit(1)
)


def checked_registration(ctx: MutationContext, data: dict) -> tuple[dict, list[str]]:
    """Loaded args → (data with a str resident_id, warning codes); raises Rejection
    validation_error (identity checks) or desa_not_assigned."""
    data["resident_id"] = str(data["resident_id"])
    errors, warnings = identity_checks(data, ctx.now)
    if errors:
        raise Rejection("validation_error", MSG_VALIDATION, errors)
    if not ctx.may_register_in(data["desa_code"]):
        raise Rejection("desa_not_assigned", MSG_DESA_NOT_ASSIGNED,
                        {"desa_code": MSG_DESA_NOT_ASSIGNED})
    return data, warnings


def identity_checks(data: dict[str, Any], now: datetime) -> tuple[dict[str, str], list[str]]:
    """Birth date, NIK and KK checks of loaded registration data: ({field: message}, warnings)."""
    kecamatan = data["desa_code"][:6]
    errors: dict[str, str] = {}
    if data.get("birth_date") and data["birth_date"] > now.astimezone(WITA).date():
        errors["birth_date"] = MSG_FUTURE_BIRTH
    nik_errors, nik_warnings = check_nik(data["nik"], data.get("sex"), data.get("birth_date"),
                                         kecamatan)
    kk_errors, kk_warnings = check_kk(data["kk_number"], kecamatan)
    if nik_errors:
        errors["nik"] = " ".join(message(code, kecamatan) for code in nik_errors)
    if kk_errors:
        errors["kk_number"] = " ".join(message(code, kecamatan) for code in kk_errors)
    return errors, nik_warnings + kk_warnings


def register_resident(ctx: MutationContext, data: dict) -> None:
    """Create a case from the phone's registration; flag possible duplicates for the camat."""
    data, warnings = checked_registration(ctx, data)
    wire = wire_form(data)
    session = ctx.session
    # Taken before reading anything: while we hold the kecamatan's counter lock no other writer
    # of it can insert this resident_id or a same-NIK resident, so the checks cannot race.
    seq = allocate_change_seq(session)
    rid = data["resident_id"]
    connection = session.connection()
    row = registration_row(ctx, data, warnings, seq)
    prefetch = prefetch_for(session, row)  # the request's one read (registration_prefetch.py)
    existing, nik_rows, name_rows = (
        prefetch.look_up(connection, row, MAX_DUPLICATE_LINKS) if prefetch
        else _look_up(connection, row))
    if existing is not None and existing.desa_code[:6] != ctx.actor.kecamatan_code:
        # The id is taken, which is all this officer may learn: not whose, not where.
        raise Rejection("resident_exists", MSG_RESIDENT_EXISTS, {"resident_id": MSG_RESIDENT_EXISTS})
    if existing is not None and (existing.stage != "listed" or existing.merged_into):
        first = connection.execute(_FIRST_REGISTRATION, {"rid": rid}).scalar()
        if first is not None and _as_cleaned(first.get("args")) == wire:
            raise NothingToChange()  # the same registration re-sent (e.g. reinstalled app)
        raise Rejection("resident_exists", MSG_RESIDENT_EXISTS, {"resident_id": MSG_RESIDENT_EXISTS})

    duplicates, elsewhere = duplicate_links(nik_rows, name_rows)  # read before the insert
    if elsewhere:
        warnings = row["warnings"] = [*warnings, NIK_ELSEWHERE]
    if existing is None:
        as_new_case(ctx, row)
        _insert_registered(ctx, connection, row, {"args": wire, "warnings": warnings})
        if prefetch:
            prefetch.add(row)
    else:
        drop_prefetch(session)  # a listed case changes: later registrations read on their own
        _fill_listed(ctx, row)
        _record_event(ctx, rid, "registered", {"args": wire, "warnings": warnings})
    for other, reason in sorted(duplicates.items()):
        _record_conflict(ctx, "possible_duplicate", rid, row["desa_code"], other_resident_id=other,
                         details={"reason": reason, "client_id": ctx.client_id,
                                  "user_id": ctx.actor.user_id, "mutation_id": ctx.mutation_id})


def registration_row(ctx: MutationContext, data: dict, warnings: list[str],
                     seq: int) -> dict[str, Any]:
    """The residents row of checked registration `data` (change_seq `seq`), without the
    columns only a new case sets (as_new_case)."""
    row = {key: data[key] for key in _RESIDENT_ARG_FIELDS}
    row.update(name_key=name_key(data["name"]), stage=INITIAL_STAGE, warnings=warnings,
               updated_at=ctx.now, change_seq=seq)
    return row


def as_new_case(ctx: MutationContext, row: dict[str, Any]) -> None:
    """Complete registration_row's `row` as a new case (version 1, created by this author)."""
    stamp = _stamp(ctx, 1)
    row.update(
        version=1, field_versions={field: dict(stamp) for field in FREE_FIELDS},
        operation_id=ctx.actor.operations.get(row["desa_code"]),
        created_by_user_id=ctx.actor.user_id, created_by_client_id=ctx.client_id,
        created_at=ctx.now,
    )


_INSERTED_COLUMNS = frozenset((
    "resident_id", "desa_code", "name", "nik", "kk_number", "sex", "birth_place", "birth_date",
    "marital_status", "address", "rt", "rw", "phone", "vulnerable_category", "disability",
    "notes", "name_key", "stage", "warnings", "updated_at", "change_seq", "version",
    "field_versions", "operation_id", "created_by_user_id", "created_by_client_id",
    "created_at",
))
_EVENT_COLUMNS = ("resident_id", "kind", "user_id", "client_id", "mutation_id", "device_at",
                  "server_at", "payload")
# PostgreSQL only: the new case and its "registered" event in one statement (one round trip
# instead of two). The event's foreign key is checked at the end of the statement, when the
# row of the CTE exists.
_INSERT_RESIDENT_WITH_EVENT = ResidentEvent.__table__.insert().values(
    {c: bindparam(f"e_{c}", type_=_E.c[c].type) for c in _EVENT_COLUMNS}
).add_cte(_R.insert().values(
    {c: bindparam(f"r_{c}", type_=_R.c[c].type) for c in sorted(_INSERTED_COLUMNS)}
).cte("new_resident"))


def _insert_registered(ctx: MutationContext, connection, row: dict[str, Any],
                       payload: dict[str, Any]) -> None:
    """INSERT the new case `row` and its "registered" event."""
    event = ctx.author.event_row(row["resident_id"], "registered", payload)
    if connection.dialect.name == "postgresql" and row.keys() == _INSERTED_COLUMNS:
        params = {f"r_{key}": value for key, value in row.items()}
        params.update({f"e_{key}": value for key, value in event.items()})
        connection.execute(_INSERT_RESIDENT_WITH_EVENT, params)
        return
    connection.execute(_INSERT_RESIDENT, row)
    connection.execute(_INSERT_EVENT, event)


def _fill_listed(ctx: MutationContext, row: dict[str, Any]) -> None:
    """The officer found a resident imported from a list: the registration fills the case."""
    resident = ctx.session.get(Resident, row["resident_id"], populate_existing=True)
    ctx.scope(resident)  # the list's desa must be the officer's too, not only the new one
    version = resident.version + 1
    stamp = _stamp(ctx, version)
    for key, value in row.items():
        setattr(resident, key, value)
    resident.version = version
    resident.field_versions = {field: dict(stamp) for field in FREE_FIELDS}
    if resident.operation_id is None:
        resident.operation_id = ctx.actor.operations.get(resident.desa_code)


_RESIDENT_ARG_FIELDS = (
    "resident_id", "desa_code", "name", "nik", "kk_number", "sex", "birth_place", "birth_date",
    "marital_status", "address", "rt", "rw", "phone", "vulnerable_category", "disability", "notes",
)


def _as_cleaned(args: Any) -> Any:
    """Stored registration args with their text as input is cleaned today: a registration
    stored before names were cleaned (NFC, no invisible characters) still matches its resend."""
    if not isinstance(args, dict):
        return args
    return {key: clean_text(value) if isinstance(value, str) else value
            for key, value in args.items()}


def possible_duplicates(connection, row: dict[str, Any]) -> tuple[dict[str, str], bool]:
    """Other residents of the same kecamatan that may be this person, and whether the NIK is
    held by a live case of another kecamatan: ({resident_id: reason}, nik_elsewhere).

    `row` holds resident_id, desa_code, nik, birth_date and name_key; the case itself (same
    resident_id) and merged cases are never returned; at most MAX_DUPLICATE_LINKS per rule,
    the oldest cases first.
    """
    # Prebuilt Core statements: this runs for every registration (budget: 1,000/s).
    params = _lookup_params(row)
    nik_rows = list(connection.execute(_SAME_NIK, params)) if row["nik"] else []
    name_rows = connection.execute(_SAME_NAME_NO_NIK if row["nik"] else _SAME_NAME,
                                   params).scalars().all()
    return duplicate_links(nik_rows, name_rows)


def _lookup_params(row: dict[str, Any]) -> dict[str, Any]:
    return {"rid": row["resident_id"], "nik": row["nik"], "desa": row["desa_code"],
            "born": row["birth_date"], "key": row["name_key"],
            "kecamatan": row["desa_code"][:6]}


def _look_up(connection, row: dict[str, Any]):
    """What register_resident reads, in one statement: (the row under this resident_id or
    None, [(same-NIK resident_id, same_kecamatan)], [same-person resident_ids]), each list
    as possible_duplicates reads it."""
    statement = _LOOKUP_WITH_NIK if row["nik"] else _LOOKUP_WITHOUT_NIK
    existing, nik_rows, name_rows = None, [], []
    for found in connection.execute(statement, _lookup_params(row)):
        if found.tag == _TAG_EXISTS:
            existing = found
        elif found.tag == _TAG_NIK:
            nik_rows.append((found.resident_id, found.same_kecamatan))
        else:
            name_rows.append(found.resident_id)
    return existing, nik_rows, name_rows


def duplicate_links(nik_rows, name_rows) -> tuple[dict[str, str], bool]:
    """Look-up rows → ({other resident_id: reason}, whether the NIK is live elsewhere)."""
    found: dict[str, str] = {}
    elsewhere = False
    for other, same_kecamatan in nik_rows:
        if same_kecamatan:
            if len(found) < MAX_DUPLICATE_LINKS:
                found[other] = "same_nik"
        else:
            elsewhere = True  # the id goes no further than this line
    for other in name_rows:
        found.setdefault(other, "same_name_birth_date_desa")
    return found, elsewhere


# ---------------------------------------------------------------- update_resident
def update_field_errors(messages: dict) -> dict[str, str]:
    """update_resident's validation_error fields: {field: message} with bare field names."""
    # "phone", not "fields.phone": the phone marks its own form fields.
    return {key.removeprefix("fields."): text for key, text in flatten_errors(messages).items()}


def update_resident(ctx: MutationContext, data: dict) -> None:
    """Last-writer-wins edit of free fields, keeping old values and flagging concurrent edits."""
    rid = str(data["resident_id"])
    base_version = data["base_version"]
    seq = allocate_change_seq(ctx.session)  # before reading: the row cannot change under us
    resident = get_resident(ctx.session, rid, ctx.scope)
    changes = changed_fields(resident, data["field_values"])
    if not changes:
        raise NothingToChange()  # the case already holds these values: no event, no version
    version = write_changes(ctx, resident, changes, base_version, seq)
    _record_event(ctx, rid, "updated",
                  {"base_version": base_version, "version": version, "changes": changes})


def json_value(value: Any) -> Any:
    """A field's value as events and conflicts keep it (a date as "YYYY-MM-DD")."""
    return value.isoformat() if isinstance(value, date) else value


def changed_fields(resident: Resident, values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{field: {"old", "new"}} (JSON values) of the loaded `values` that differ from the case."""
    return {field: {"old": json_value(getattr(resident, field)), "new": json_value(new)}
            for field, new in values.items() if getattr(resident, field) != new}


def write_changes(ctx: MutationContext, resident: Resident, changes: dict[str, dict[str, Any]],
                  base_version: int, seq: int, values: dict[str, Any] | None = None) -> int:
    """Set changed fields as a new version (change_seq `seq`); returns that version.

    `changes` is changed_fields' answer; `values` the loaded values when they are not JSON
    (a date). A field last set by another client in a version the phone had not seen
    (base_version below it) is overwritten and a concurrent_edit conflict keeps both values.
    """
    rid = resident.resident_id
    version = resident.version + 1
    stamps = dict(resident.field_versions or {})
    for field, change in sorted(changes.items()):
        last = stamps.get(field)
        if last and base_version < last["version"] and last["client_id"] != ctx.client_id:
            # The officer edited a value they had not seen, set by someone else: keep both.
            _record_conflict(ctx, "concurrent_edit", rid, resident.desa_code, field=field, details={
                "field": field,
                "overwritten": {"value": change["old"], **last},
                "applied": {"value": change["new"], **_stamp(ctx, version),
                            "base_version": base_version, "mutation_id": ctx.mutation_id},
            })
        stamps[field] = _stamp(ctx, version)
        setattr(resident, field, (values or {}).get(field, change["new"]))
    resident.field_versions = stamps  # a new dict: plain JSON columns do not track mutation
    resident.version = version
    resident.updated_at = ctx.now
    resident.change_seq = seq
    return version
