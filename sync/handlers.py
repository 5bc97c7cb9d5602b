"""Mutation handlers of protocol v1: register_resident, update_resident, and the registry of
every handler (the pipeline's are in handlers_pipeline.py and handlers_delivery.py).

A handler either returns (applied), raises Rejection (a business refusal the officer must fix)
or raises NothingToChange (accepted, but there is nothing to write). The engine runs each one
inside its own SAVEPOINT and undoes it on either exception.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable

from marshmallow import ValidationError
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from .changeseq import allocate_change_seq
from .models import Client, Resident, ResidentEvent
from .records import (
    MSG_VALIDATION,
    Author,
    NothingToChange,
    Rejection,
    get_resident,
    in_kecamatan,
    not_found,
)
from .handlers_delivery import DELIVERY_HANDLERS
from .handlers_pipeline import PIPELINE_HANDLERS
from .schemas import (
    FREE_FIELDS,
    RegisterResidentArgsSchema,
    UpdateResidentArgsSchema,
    flatten_errors,
)
from .stages import INITIAL_STAGE
from .validators import check_kk, check_nik, message

if TYPE_CHECKING:  # engine imports this module; the name is only needed for typing
    from .engine import SyncActor

WITA = timezone(timedelta(hours=8), "WITA")  # Asia/Makassar has no DST

MSG_DESA_NOT_ASSIGNED = "Desa ini tidak ditugaskan kepada Anda. Hubungi operator kecamatan."
MSG_RESIDENT_EXISTS = (
    "ID data warga ini sudah dipakai untuk data warga lain di server. "
    "Simpan ulang sebagai pendaftaran baru."
)
MSG_BAD_TIME = "Waktu perubahan dari perangkat tidak terbaca. Periksa jam perangkat lalu simpan ulang."
MSG_FUTURE_BIRTH = "Tanggal lahir tidak boleh di masa depan."
# Warning code (sync.validators.MESSAGES_ID): the NIK is on a live case of another kecamatan.
NIK_ELSEWHERE = "nik_registered_elsewhere"

_REGISTER_SCHEMA = RegisterResidentArgsSchema()
_UPDATE_SCHEMA = UpdateResidentArgsSchema()


@dataclass
class MutationContext:
    """What a handler may use: the session, who sent it, and when."""

    session: Session
    actor: SyncActor
    client: Client
    mutation_id: int  # a replay's: the id it had under its origin client
    device_at: datetime
    now: datetime
    # A phone healing a restored server resends a mutation under a new client: it is written
    # as its first sender (that client id), so a second replay finds it and history reads
    # as it happened.
    origin_client_id: str | None = None

    @property
    def client_id(self) -> str:
        """The client this change is written as (the origin of a replay, else the sender)."""
        return self.origin_client_id or self.client.client_id

    @property
    def author(self) -> Author:
        """The writer of this mutation's events."""
        return Author(self.session, user_id=self.actor.user_id, client_id=self.client_id,
                      mutation_id=self.mutation_id, device_at=self.device_at, now=self.now)

    def scope(self, resident: Resident) -> None:
        """Refuse a resident outside the officer's desa: resident_not_found when it lies in
        another kecamatan (as if it did not exist), desa_not_assigned inside their own."""
        if not in_kecamatan(resident, self.actor.kecamatan_code):
            raise not_found()
        if resident.desa_code not in self.actor.desa_codes:
            raise Rejection("desa_not_assigned", MSG_DESA_NOT_ASSIGNED,
                            {"desa_code": MSG_DESA_NOT_ASSIGNED})

    def may_register_in(self, desa_code: str) -> bool:
        """True when the officer may create a case in this desa (assigned, own kecamatan)."""
        return desa_code in self.actor.desa_codes and desa_code[:6] == self.actor.kecamatan_code


def name_key(name: str) -> str:
    """Key for the possible-duplicate check: case- and space-insensitive."""
    return " ".join(name.casefold().split())


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
_EXISTS = select(_R.c.stage, _R.c.merged_into, _R.c.desa_code).where(
    _R.c.resident_id == bindparam("rid"))
_E = ResidentEvent.__table__
_FIRST_REGISTRATION = (
    select(_E.c.payload)
    .where(_E.c.resident_id == bindparam("rid"), _E.c.kind == "registered")
    .order_by(_E.c.id)
    .limit(1)
)


def _load_registration(ctx: MutationContext, args: dict) -> tuple[dict, list[str]]:
    try:
        data = _REGISTER_SCHEMA.load(args)
    except ValidationError as exc:
        raise Rejection("validation_error", MSG_VALIDATION, flatten_errors(exc.messages)) from None
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


def register_resident(ctx: MutationContext, args: dict) -> None:
    """Create a case from the phone's registration; flag possible duplicates for the camat."""
    data, warnings = _load_registration(ctx, args)
    wire = wire_form(data)
    session = ctx.session
    # Taken before reading anything: while we hold the counter lock no other writer can
    # insert this resident_id or a same-NIK resident, so the checks below cannot race.
    seq = allocate_change_seq(session)
    rid = data["resident_id"]
    connection = session.connection()
    existing = connection.execute(_EXISTS, {"rid": rid}).first()
    if existing is not None and existing.desa_code[:6] != ctx.actor.kecamatan_code:
        # The id is taken, which is all this officer may learn: not whose, not where.
        raise Rejection("resident_exists", MSG_RESIDENT_EXISTS, {"resident_id": MSG_RESIDENT_EXISTS})
    if existing is not None and (existing.stage != "listed" or existing.merged_into):
        first = connection.execute(_FIRST_REGISTRATION, {"rid": rid}).scalar()
        if first is not None and first.get("args") == wire:
            raise NothingToChange()  # the same registration re-sent (e.g. reinstalled app)
        raise Rejection("resident_exists", MSG_RESIDENT_EXISTS, {"resident_id": MSG_RESIDENT_EXISTS})

    row = {key: data[key] for key in _RESIDENT_ARG_FIELDS}
    row.update(name_key=name_key(data["name"]), stage=INITIAL_STAGE, warnings=warnings,
               updated_at=ctx.now, change_seq=seq)
    duplicates, elsewhere = possible_duplicates(connection, row)  # before the insert
    if elsewhere:
        warnings = row["warnings"] = [*warnings, NIK_ELSEWHERE]
    if existing is None:
        stamp = _stamp(ctx, 1)
        row.update(
            version=1, field_versions={field: dict(stamp) for field in FREE_FIELDS},
            operation_id=ctx.actor.operations.get(data["desa_code"]),
            created_by_user_id=ctx.actor.user_id, created_by_client_id=ctx.client_id,
            created_at=ctx.now,
        )
        connection.execute(_INSERT_RESIDENT, row)
    else:
        _fill_listed(ctx, row)
    _record_event(ctx, rid, "registered", {"args": wire, "warnings": warnings})
    for other, reason in sorted(duplicates.items()):
        _record_conflict(ctx, "possible_duplicate", rid, row["desa_code"], other_resident_id=other,
                         details={"reason": reason, "client_id": ctx.client_id,
                                  "user_id": ctx.actor.user_id, "mutation_id": ctx.mutation_id})


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


def possible_duplicates(connection, row: dict[str, Any]) -> tuple[dict[str, str], bool]:
    """Other residents of the same kecamatan that may be this person, and whether the NIK is
    held by a live case of another kecamatan: ({resident_id: reason}, nik_elsewhere).

    `row` holds resident_id, desa_code, nik, birth_date and name_key; the case itself (same
    resident_id) and merged cases are never returned; at most MAX_DUPLICATE_LINKS per rule,
    the oldest cases first.
    """
    # Prebuilt Core statements: this runs for every registration (budget: 1,000/s).
    params = {"rid": row["resident_id"], "nik": row["nik"], "desa": row["desa_code"],
              "born": row["birth_date"], "key": row["name_key"],
              "kecamatan": row["desa_code"][:6]}
    found: dict[str, str] = {}
    elsewhere = False
    if row["nik"]:
        for other, same_kecamatan in connection.execute(_SAME_NIK, params):
            if same_kecamatan:
                if len(found) < MAX_DUPLICATE_LINKS:
                    found[other] = "same_nik"
            else:
                elsewhere = True  # the id goes no further than this line
    for other in connection.execute(_SAME_NAME_NO_NIK if row["nik"] else _SAME_NAME,
                                    params).scalars():
        found.setdefault(other, "same_name_birth_date_desa")
    return found, elsewhere


# ---------------------------------------------------------------- update_resident
def _load_update(args: dict) -> tuple[str, int, dict[str, Any]]:
    try:
        data = _UPDATE_SCHEMA.load(args)
    except ValidationError as exc:
        # Bare field names ("phone", not "fields.phone"): the phone marks its own form fields.
        errors = {
            key.removeprefix("fields."): text
            for key, text in flatten_errors(exc.messages).items()
        }
        raise Rejection("validation_error", MSG_VALIDATION, errors) from None
    return str(data["resident_id"]), data["base_version"], data["field_values"]


def update_resident(ctx: MutationContext, args: dict) -> None:
    """Last-writer-wins edit of free fields, keeping old values and flagging concurrent edits."""
    rid, base_version, values = _load_update(args)
    session = ctx.session
    seq = allocate_change_seq(session)  # before reading: the row cannot change under us
    resident = get_resident(session, rid, ctx.scope)
    changes = {
        field: {"old": getattr(resident, field), "new": new}
        for field, new in values.items()
        if getattr(resident, field) != new
    }
    if not changes:
        raise NothingToChange()  # the case already holds these values: no event, no version

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
        setattr(resident, field, change["new"])
    resident.field_versions = stamps  # a new dict: plain JSON columns do not track mutation
    resident.version = version
    resident.updated_at = ctx.now
    resident.change_seq = seq
    _record_event(ctx, rid, "updated",
                  {"base_version": base_version, "version": version, "changes": changes})


HANDLERS: dict[str, Callable[[MutationContext, dict], None]] = {
    "register_resident": register_resident,
    "update_resident": update_resident,
    **PIPELINE_HANDLERS,
    **DELIVERY_HANDLERS,
}
