"""Wire schemas of the pipeline mutations (docs/interfaces-pipeline.md) and of the case parts
they leave on a resident (verification, pickup, delivery, ...), for loading and for OpenAPI."""
from __future__ import annotations

import re
from typing import Any

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    missing,
    validate,
    validates_schema,
)

from .stages import (
    COLLECTION_OUTCOME_LABELS,
    NOT_PRINTED_REASON_LABELS,
    RECIPIENT_LABELS,
    RECORD_FAILED_REASON_LABELS,
    REJECTION_REASON_LABELS,
)
from .wirefields import (  # noqa: F401  (MSG_TIME re-exported)
    MSG_REQUIRED,
    MSG_TIME,
    Code,
    DeviceTime,
    PlainString,
    Text,
    length,
    messages,
    uuid_field,
)

MAX_PICKUP = 50
MAX_BATCH = 500
MSG_REASON_TEXT = "Jelaskan alasannya bila memilih 'Lainnya'."


class Sha256(fields.String):
    """A SHA-256 hex digest (an attachment or signature id), stored lower-case."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(error_messages=messages(invalid="Harus berupa SHA-256 (64 digit heksadesimal)."),
                         metadata={"pattern": "^[0-9a-f]{64}$"}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip().lower()
        if not re.fullmatch(r"[0-9a-f]{64}", text):
            raise self.make_error("invalid")
        return text


class ResidentIds(fields.List):
    """1–maximum distinct resident ids (UUIDs), loaded as lower-case strings."""

    def __init__(self, maximum: int, **kwargs: Any) -> None:
        self.maximum = maximum
        super().__init__(
            fields.UUID(error_messages=messages(invalid_uuid="Harus berupa UUID.")),
            required=True,
            validate=validate.Length(min=1, max=maximum,
                                     error=f"Pilih 1 sampai {maximum} warga."),
            error_messages=messages(invalid="Harus berupa daftar."),
            **kwargs,
        )

    def _deserialize(self, value, attr, data, **kwargs):
        ids = [str(item) for item in super()._deserialize(value, attr, data, **kwargs)]
        if len(set(ids)) != len(ids):
            raise ValidationError("Ada warga yang tercantum dua kali.")
        return ids


def _reason_text_required(data: dict[str, Any], reason: str = "reason") -> None:
    if data.get(reason) == "other" and not data.get("reason_text"):
        raise ValidationError(MSG_REASON_TEXT, "reason_text")


class _Args(Schema):
    """Mutation args: unknown keys are ignored (a newer phone may send more)."""

    class Meta:
        unknown = EXCLUDE


# ---------------------------------------------------------------- mutation args
class Check(fields.Boolean):
    """A check done or not: JSON true/false only ("ya" or 1 must not count as done)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=True, error_messages=messages(invalid="Harus true atau false."),
                         **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class VerificationChecksSchema(Schema):
    """The SOP checks of step 2 (labels: sync.stages.VERIFICATION_CHECK_LABELS)."""

    class Meta:
        unknown = EXCLUDE

    error_messages = {"type": "Harus berupa objek."}

    kk_copy_seen = Check()
    age_eligible = Check()
    marital_eligible = Check()


class VerifyResidentArgsSchema(_Args):
    """Args of verify_resident."""

    resident_id = uuid_field()
    checks = fields.Nested(VerificationChecksSchema, required=True, error_messages=messages())
    kk_photo = Sha256(allow_none=True, load_default=None)
    notes = Text(1000, multiline=True)


class RejectResidentArgsSchema(_Args):
    """Args of reject_resident; reason_text is required when reason is `other`."""

    resident_id = uuid_field()
    reason = Code(REJECTION_REASON_LABELS, required=True)
    reason_text = Text(500, multiline=True)  # a <textarea> on the phone

    @validates_schema
    def _other_needs_text(self, data, **kwargs):
        _reason_text_required(data)


class PickUpArgsSchema(_Args):
    """Args of pick_up: one trip with 1–50 residents."""

    pickup_id = uuid_field()
    resident_ids = ResidentIds(MAX_PICKUP)
    picked_up_at = DeviceTime()
    pickup_point = Text(200, required=True, load_default=missing)
    vehicle = Text(100)

    @validates_schema
    def _point_given(self, data, **kwargs):
        if "pickup_point" in data and data["pickup_point"] is None:
            raise ValidationError(MSG_REQUIRED, "pickup_point")


class CancelPickupArgsSchema(_Args):
    """Args of cancel_pickup."""

    resident_id = uuid_field()
    reason = Text(500, required=True, load_default=missing)

    @validates_schema
    def _reason_given(self, data, **kwargs):
        if data.get("reason") is None:
            raise ValidationError(MSG_REQUIRED, "reason")


class RecordDoneArgsSchema(_Args):
    """Args of record_done."""

    resident_id = uuid_field()
    recorded_at = DeviceTime()


class RecordFailedArgsSchema(_Args):
    """Args of record_failed; reason_text is required when reason is `other`."""

    resident_id = uuid_field()
    reason = Code(RECORD_FAILED_REASON_LABELS, required=True)
    reason_text = Text(500, multiline=True)  # a <textarea> on the phone

    @validates_schema
    def _other_needs_text(self, data, **kwargs):
        _reason_text_required(data)


class HandoverBatchArgsSchema(_Args):
    """Args of handover_batch: recorded residents handed to Disdukcapil (berita acara)."""

    batch_id = uuid_field()
    number = PlainString(required=True, validate=[length(50), validate.Length(min=1, error=MSG_REQUIRED)],
                           error_messages=messages(invalid="Harus berupa teks."))
    handed_at = DeviceTime()
    resident_ids = ResidentIds(MAX_BATCH)
    notes = Text(1000, multiline=True)


class CollectionItemSchema(Schema):
    """One card at collection: collected, or not printed yet and why."""

    class Meta:
        unknown = EXCLUDE

    resident_id = uuid_field()
    outcome = Code(COLLECTION_OUTCOME_LABELS, required=True)
    reason = Code(NOT_PRINTED_REASON_LABELS, allow_none=True, load_default=None)
    reason_text = Text(500)

    @validates_schema
    def _reason_for_not_printed(self, data, **kwargs):
        if data.get("outcome") == "not_printed" and not data.get("reason"):
            raise ValidationError(MSG_REQUIRED, "reason")
        _reason_text_required(data)


class RecordCollectionArgsSchema(_Args):
    """Args of record_collection: the cards of one batch collected at Disdukcapil."""

    batch_id = uuid_field()
    items = fields.List(
        fields.Nested(CollectionItemSchema), required=True,
        validate=validate.Length(min=1, max=MAX_BATCH, error=f"Isi 1 sampai {MAX_BATCH} warga."),
        error_messages=messages(invalid="Harus berupa daftar."),
    )
    collected_at = DeviceTime()

    @validates_schema
    def _each_resident_once(self, data, **kwargs):
        ids = [str(item["resident_id"]) for item in data.get("items", [])]
        if len(set(ids)) != len(ids):
            raise ValidationError("Ada warga yang tercantum dua kali.", "items")


class SignatureArgSchema(Schema):
    """The signature as sent: base64 of the format-1 bytes and their SHA-256."""

    class Meta:
        unknown = EXCLUDE

    error_messages = {"type": "Harus berupa objek."}

    data = fields.String(required=True, validate=length(22000),
                         error_messages=messages(invalid="Harus berupa teks base64."))
    sha256 = Sha256(required=True)


class GpsSchema(Schema):
    """Where the card was handed over (the phone's fix, if it had one)."""

    class Meta:
        unknown = EXCLUDE

    error_messages = {"type": "Harus berupa objek."}

    lat = fields.Float(required=True, validate=validate.Range(-90, 90, error="Lintang tidak valid."),
                       error_messages=messages(invalid="Harus berupa angka."))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180, error="Bujur tidak valid."),
                       error_messages=messages(invalid="Harus berupa angka."))
    accuracy_m = fields.Float(allow_none=True, load_default=None,
                              validate=validate.Range(min=0, error="Akurasi tidak valid."),
                              error_messages=messages(invalid="Harus berupa angka."))


class GpsAsSent(fields.Nested):
    """A GpsSchema-valid fix, loaded as sent: lat, lon and accuracy_m with the phone's own JSON
    values (the phone hashed them into proof_hash, and JSON 5 and 5.0 hash differently)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(GpsSchema, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        super()._deserialize(value, attr, data, **kwargs)  # validates, or raises
        return {key: value[key] for key in ("lat", "lon", "accuracy_m") if key in value}


class DeliverCardArgsSchema(_Args):
    """Args of deliver_card; proxy_name and proxy_relation are required for a proxy."""

    delivery_id = uuid_field()
    resident_id = uuid_field()
    delivered_at = DeviceTime(keep_text=True)
    recipient = Code(RECIPIENT_LABELS, required=True)
    proxy_name = Text(100)
    proxy_relation = Text(50)
    signature = fields.Nested(SignatureArgSchema, required=True, error_messages=messages())
    photo = Sha256(allow_none=True, load_default=None)
    gps = GpsAsSent(allow_none=True, load_default=None)

    @validates_schema
    def _proxy_named(self, data, **kwargs):
        if data.get("recipient") != "proxy":
            return
        absent = {key: MSG_REQUIRED for key in ("proxy_name", "proxy_relation") if not data.get(key)}
        if absent:
            raise ValidationError(absent)


# ---------------------------------------------------------------- case parts (response)
class _Stamped(Schema):
    """Who wrote a case part: user id, client ('office' for the office view), device time."""

    by = fields.Integer(allow_none=True)
    client_id = fields.String(allow_none=True)
    mutation_id = fields.Integer(allow_none=True)
    at = fields.String(allow_none=True)


class VerificationSchema(_Stamped):
    """resident.verification"""

    checks = fields.Dict(keys=fields.String(), values=fields.Boolean())
    kk_photo = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)


class RejectionSchema(_Stamped):
    """resident.rejection"""

    reason = fields.String(metadata={"enum": list(REJECTION_REASON_LABELS)})
    reason_text = fields.String(allow_none=True)


class PickupSchema(_Stamped):
    """resident.pickup (`at` is the pickup time)"""

    pickup_id = fields.String()
    point = fields.String(allow_none=True)
    vehicle = fields.String(allow_none=True)


class RecordingSchema(_Stamped):
    """resident.recording: `at` of the recording, or `failed` with a reason"""

    failed = fields.String(allow_none=True, metadata={"enum": list(RECORD_FAILED_REASON_LABELS)})
    reason_text = fields.String(allow_none=True)


class CardIssueSchema(Schema):
    """resident.card_issue: the card is not printed yet"""

    reason = fields.String(metadata={"enum": list(NOT_PRINTED_REASON_LABELS)})
    reason_text = fields.String(allow_none=True)
    batch_id = fields.String()
    at = fields.String()
    # "disdukcapil" when Disdukcapil marked it (sync/registry.py); absent when the team's
    # collection recorded it
    by = fields.String(allow_none=True)


class DeliverySchema(_Stamped):
    """resident.delivery as it travels: the signature strokes stay on the server."""

    delivery_id = fields.String()
    delivered_at = fields.String()
    recipient = fields.String(metadata={"enum": list(RECIPIENT_LABELS)})
    proxy_name = fields.String(allow_none=True)
    proxy_relation = fields.String(allow_none=True)
    signature_sha256 = fields.String()
    photo = fields.String(allow_none=True)
    gps = fields.Dict(allow_none=True)
    proof_hash = fields.String()
