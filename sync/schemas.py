"""Marshmallow wire schemas of sync protocol v1 (also the source of the OpenAPI document)."""
from __future__ import annotations

from datetime import date

from marshmallow import EXCLUDE, RAISE, Schema, fields, missing, validate

from .schemas_pipeline import (  # noqa: F401  (re-exported: one module for every wire schema)
    CancelPickupArgsSchema,
    CardIssueSchema,
    CollectionItemSchema,
    DeliverCardArgsSchema,
    DeliverySchema,
    HandoverBatchArgsSchema,
    PickUpArgsSchema,
    PickupSchema,
    RecordCollectionArgsSchema,
    RecordDoneArgsSchema,
    RecordFailedArgsSchema,
    RecordingSchema,
    RejectionSchema,
    RejectResidentArgsSchema,
    VerificationSchema,
    VerifyResidentArgsSchema,
)
from .stages import (
    DISABILITY_LABELS,
    MARITAL_STATUS_LABELS,
    SEX_LABELS,
    STAGES,
    VULNERABLE_CATEGORY_LABELS,
)
from .wirefields import (  # noqa: F401  (re-exported: callers import them from here)
    MSG_CHOICE,
    MSG_REQUIRED,
    Code,
    IdentityNumber,
    Name,
    Phone,
    PlainString,
    RtRw,
    Text,
    UTCDateTime,
    choice as _choice,
    flatten_errors,
    iso_utc,
    length as _length,
    messages as _messages,
    uuid_field as _uuid_field,
)

PROTOCOL_VERSION = 1
MAX_MUTATIONS = 500  # per request; more → EnvelopeError("payload_too_large") → 413
MAX_PAGE_SIZE = 500  # the bound of a request's `page_size` (the server's own page may be smaller)
MAX_MUTATION_ID = 2**31 - 1  # clients.last_mutation_id is a 32-bit INTEGER

# Fields an update_resident may change (last-writer-wins). Identity fields are not here:
# changing them is a correction the camat makes, not a free edit.
FREE_FIELDS: tuple[str, ...] = (
    "phone", "address", "rt", "rw", "notes", "vulnerable_category", "disability",
)

MSG_NOT_EDITABLE = "Kolom ini tidak dapat diubah lewat pembaruan data."


# ---------------------------------------------------------------- request
class OriginSchema(Schema):
    """Where a resent mutation was first acknowledged: the client and the id it had there
    (a phone healing a restored server, docs/sync-protocol.md)."""

    class Meta:
        unknown = EXCLUDE

    error_messages = {"type": "Harus berupa objek."}

    client_id = _uuid_field()
    id = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_MUTATION_ID, error="Harus bilangan bulat positif."),
        error_messages=_messages(invalid="Harus bilangan bulat positif."),
    )


class MutationSchema(Schema):
    """One queued change from the phone's outbox."""

    class Meta:
        unknown = EXCLUDE

    error_messages = {"type": "Harus berupa objek."}

    id = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_MUTATION_ID, error="Harus bilangan bulat positif."),
        error_messages=_messages(invalid="Harus bilangan bulat positif."),
    )
    name = fields.String(required=True, error_messages=_messages(invalid="Harus berupa teks."))
    # Kept as text here: an unparsable `at` rejects that one mutation, not the whole request.
    at = fields.String(required=True, error_messages=_messages(invalid="Harus berupa teks."))
    args = fields.Dict(required=True, error_messages=_messages(invalid="Harus berupa objek."))
    origin = fields.Nested(OriginSchema, allow_none=True, load_default=None)


class SyncRequestSchema(Schema):
    """The body of POST /api/sync."""

    class Meta:
        unknown = EXCLUDE  # a newer phone may add envelope keys; they are ignored

    protocol = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Equal(PROTOCOL_VERSION, error="Versi protokol tidak didukung; perbarui aplikasi."),
        error_messages=_messages(invalid="Harus bilangan bulat."),
    )
    client_id = _uuid_field()
    app_version = PlainString(
        required=True, validate=_length(40), error_messages=_messages(invalid="Harus berupa teks.")
    )
    sent_at = fields.AwareDateTime(
        required=True,
        format="iso",
        error_messages=_messages(
            invalid="Waktu tidak valid (ISO 8601).",
            invalid_awareness="Waktu harus memuat zona waktu.",
        ),
    )
    cursor = fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.Regexp(r"^[0-9]{1,18}$", error="Kursor tidak valid."),
        error_messages=_messages(invalid="Kursor tidak valid."),
    )
    mutations = fields.List(
        fields.Nested(MutationSchema),
        load_default=list,
        error_messages=_messages(invalid="Harus berupa daftar."),
    )
    # Optional (protocol addition): at most this many residents in the pull page, so that a
    # phone on a link that keeps dropping asks for answers that fit between the cuts.
    page_size = fields.Integer(
        strict=True,
        load_default=None,
        validate=validate.Range(min=1, max=MAX_PAGE_SIZE, error="Harus 1 sampai 500."),
        error_messages=_messages(invalid="Harus bilangan bulat."),
    )
    # Optional (protocol addition): "compact" asks for compact echoes (sync/echo.py) of the
    # residents this request's own mutations wrote; any other value: full records as before.
    echo = fields.String(load_default=None, allow_none=True,
                         error_messages=_messages(invalid="Harus berupa teks."))


class RegisterResidentArgsSchema(Schema):
    """Args of register_resident (DESIGN §4)."""

    class Meta:
        # A newer phone may send fields this server does not know yet; they are ignored
        # rather than blocking the registration (fields are added, never renamed).
        unknown = EXCLUDE

    resident_id = _uuid_field()
    desa_code = fields.String(
        required=True,
        # Length too: Python's `$` also matches before a final "\n".
        validate=[validate.Regexp(r"^[0-9]{10}$", error="Kode desa harus 10 digit."),
                  validate.Length(equal=10, error="Kode desa harus 10 digit.")],
        error_messages=_messages(invalid="Kode desa harus 10 digit."),
    )
    name = Name()
    nik = IdentityNumber()
    kk_number = IdentityNumber()
    sex = Code(SEX_LABELS, required=True)
    birth_place = Text(100)
    birth_date = fields.Date(
        required=True,
        validate=validate.Range(min=date(1900, 1, 1), error="Tanggal lahir tidak masuk akal."),
        error_messages=_messages(invalid="Tanggal tidak valid (format TTTT-BB-HH)."),
    )
    marital_status = Code(MARITAL_STATUS_LABELS, required=True)
    address = Text(200)
    rt = RtRw()
    rw = RtRw()
    phone = Phone()
    vulnerable_category = Code(VULNERABLE_CATEGORY_LABELS, allow_none=True, load_default=None)
    disability = Code(DISABILITY_LABELS, allow_none=True, load_default=None)
    notes = Text(1000, multiline=True)


class ResidentFieldsSchema(Schema):
    """The free fields an update_resident may set (each optional; others are refused)."""

    class Meta:
        unknown = RAISE

    error_messages = {"unknown": MSG_NOT_EDITABLE, "type": "Harus berupa objek."}

    # load_default=missing: a key the phone did not send is left out, never set to None.
    phone = Phone(load_default=missing)
    address = Text(200, load_default=missing)
    rt = RtRw(load_default=missing)
    rw = RtRw(load_default=missing)
    notes = Text(1000, multiline=True, load_default=missing)
    vulnerable_category = Code(VULNERABLE_CATEGORY_LABELS, allow_none=True)
    disability = Code(DISABILITY_LABELS, allow_none=True)


class UpdateResidentArgsSchema(Schema):
    """Args of update_resident: {"resident_id", "base_version", "fields": {...}}."""

    class Meta:
        unknown = EXCLUDE

    resident_id = _uuid_field()
    base_version = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=0, error="Harus bilangan bulat, 0 atau lebih."),
        error_messages=_messages(invalid="Harus bilangan bulat."),
    )
    # "fields" would shadow Schema.fields, hence the attribute name + data_key.
    field_values = fields.Nested(
        ResidentFieldsSchema,
        required=True,
        data_key="fields",
        validate=validate.Length(min=1, error="Tidak ada kolom yang diubah."),
        error_messages=_messages(type="Harus berupa objek."),
    )


# ---------------------------------------------------------------- response
class MutationResultSchema(Schema):
    """Outcome of one mutation; code/message/fields only when it was rejected."""

    id = fields.Integer(required=True)
    status = fields.String(
        required=True, validate=_choice(("applied", "rejected", "duplicate")),
        metadata={"enum": ["applied", "rejected", "duplicate"]},
    )
    code = fields.String()
    message = fields.String()
    field_errors = fields.Dict(keys=fields.String(), values=fields.String(), data_key="fields")


class ResidentSchema(Schema):
    """A case as it travels to the phone in changes.residents."""

    resident_id = fields.String(required=True)
    version = fields.Integer(required=True)
    stage = fields.String(required=True, metadata={"enum": list(STAGES)})
    stage_label = fields.String(required=True)
    desa_code = fields.String(required=True)
    name = fields.String(required=True)
    nik = fields.String(allow_none=True)
    kk_number = fields.String(allow_none=True)
    # null only on residents imported from a list (stage `listed`)
    sex = fields.String(required=True, allow_none=True)
    birth_place = fields.String(allow_none=True)
    birth_date = fields.Date(required=True, allow_none=True)
    marital_status = fields.String(required=True, allow_none=True)
    address = fields.String(allow_none=True)
    rt = fields.String(allow_none=True)
    rw = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    vulnerable_category = fields.String(allow_none=True)
    disability = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    warnings = fields.List(fields.String())
    created_at = UTCDateTime(required=True)
    updated_at = UTCDateTime(required=True)
    # pipeline parts (docs/interfaces-pipeline.md); null until the step happened
    operation_id = fields.Integer(allow_none=True)
    kk_photo = fields.String(allow_none=True)
    verification = fields.Nested(VerificationSchema, allow_none=True)
    rejection = fields.Nested(RejectionSchema, allow_none=True)
    pickup = fields.Nested(PickupSchema, allow_none=True)
    recording = fields.Nested(RecordingSchema, allow_none=True)
    batch_id = fields.String(allow_none=True)
    # the batch's berita acara number (added by the pull; null when not in a batch)
    batch_number = fields.String(allow_none=True)
    # the times the phone's step forms must not precede (sync/step_order.py; added by the pull)
    batch_handed_at = fields.String(allow_none=True)  # the batch's handover, ISO UTC
    card_collected_at = fields.String(allow_none=True)  # this card's latest collection
    card_issue = fields.Nested(CardIssueSchema, allow_none=True)
    # Disdukcapil marked the card printed and ready for pick-up (sync/registry.py)
    card_ready_at = UTCDateTime(allow_none=True)
    delivery = fields.Nested(DeliverySchema, allow_none=True)  # without the signature strokes
    merged_into = fields.String(allow_none=True)


class PlaceRefSchema(Schema):
    """A kecamatan or desa as {code, name}."""

    code = fields.String(required=True)
    name = fields.String(required=True)


class OperationDesaRefSchema(PlaceRefSchema):
    """A desa of an operation with its target."""

    target = fields.Integer(allow_none=True)


class OperationRefSchema(Schema):
    """An active operation (aksi) covering some of the officer's desa."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    start_date = fields.String(required=True)
    end_date = fields.String(required=True)
    desa = fields.List(fields.Nested(OperationDesaRefSchema), required=True)


class AssignmentsSchema(Schema):
    """The officer's current assignment, sent on every sync."""

    kecamatan = fields.Nested(PlaceRefSchema)
    desa_codes = fields.List(fields.String())
    operations = fields.List(fields.Nested(OperationRefSchema))


class NoticeSchema(Schema):
    """A conflict the officer's change lost or registration raised (sync/notices.py); the
    same id comes again on later pulls of the case, the phone keeps it once."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={
        "enum": ["double_delivery", "verify_vs_reject", "concurrent_edit", "possible_duplicate"]})
    resident_id = fields.String(required=True)
    created_at = fields.String(required=True)
    message = fields.String(required=True)


class SyncChangesSchema(Schema):
    """Rows changed since the cursor; server/api adds `desa` and `assignments`."""

    residents = fields.List(fields.Nested(ResidentSchema), required=True)
    # ids of residents merged into another one by the camat: delete them on the phone
    removed = fields.List(fields.String(), required=True)
    # conflicts on these residents that the officer's own change lost (protocol addition)
    notices = fields.List(fields.Nested(NoticeSchema))
    # only to a request with "echo": "compact": {resident_id, echo_of, fields that differ
    # from the args of mutation echo_of} (docs/sync-protocol.md, compact echoes)
    echoes = fields.List(fields.Dict())
    desa = fields.List(fields.Nested(PlaceRefSchema))
    assignments = fields.Nested(AssignmentsSchema)


class SyncResponseSchema(Schema):
    """The 200 body of POST /api/sync."""

    last_mutation_id = fields.Integer(required=True)
    results = fields.List(fields.Nested(MutationResultSchema), required=True)
    cursor = fields.String(allow_none=True, required=True)
    more = fields.Boolean(required=True)
    changes = fields.Nested(SyncChangesSchema, required=True)
    server_time = fields.String(required=True)
    clock_skew_flagged = fields.Boolean(required=True)
    # True when the officer's desa changed: the pull restarted, drop residents out of scope.
    scope_reset = fields.Boolean(required=True)
    # Renewed by a restore from a backup: a phone seeing a new one resends its kept log.
    database_id = fields.String(required=True)


class MutationGapSchema(Schema):
    """The 409 body: the phone resends from last_mutation_id + 1."""

    code = fields.String(required=True, metadata={"enum": ["mutation_gap"]})
    message = fields.String()
    field_errors = fields.Dict(data_key="fields")
    last_mutation_id = fields.Integer(required=True)
    database_id = fields.String(required=True)
