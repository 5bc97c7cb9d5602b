"""Marshmallow schemas of the server's own API bodies (sync bodies live in sync.schemas)."""
from marshmallow import Schema, ValidationError, fields, validate

from sync.schemas import OperationRefSchema
from sync.wirefields import MSG_BAD_CHARACTER, bad_character

REQUIRED = {"required": "Wajib diisi."}


def _printable(value):
    # PostgreSQL text cannot hold NUL, and no username or label needs control characters.
    if bad_character(value):
        raise ValidationError(MSG_BAD_CHARACTER)
LENGTH = "Panjang isian harus {min} sampai {max} karakter."


class DeviceLoginSchema(Schema):
    """Body of POST /api/auth/device."""

    username = fields.String(required=True,
                             validate=[validate.Length(1, 64, error=LENGTH), _printable],
                             error_messages=REQUIRED)
    password = fields.String(required=True, validate=validate.Length(1, 256, error=LENGTH),
                             error_messages=REQUIRED)
    device_label = fields.String(load_default="",
                                 validate=[validate.Length(0, 80, error=LENGTH), _printable])


class UserInfoSchema(Schema):
    """The logged-in officer."""

    id = fields.Integer()
    username = fields.String()
    full_name = fields.String()
    role = fields.String()


class PlaceSchema(Schema):
    """A kecamatan or desa: code (digits) and name."""

    code = fields.String()
    name = fields.String()


class DeviceLoginResponseSchema(Schema):
    """201 answer of POST /api/auth/device."""

    token = fields.String()
    client_id = fields.String()
    user = fields.Nested(UserInfoSchema)
    kecamatan = fields.Nested(PlaceSchema)
    desa = fields.List(fields.Nested(PlaceSchema))
    operations = fields.List(fields.Nested(OperationRefSchema))
    # the server database's identity (docs/sync-protocol.md, "After a server restore")
    database_id = fields.String()


class ErrorSchema(Schema):
    """The one error shape of the API."""

    code = fields.String(required=True)
    message = fields.String(required=True)
    fields_ = fields.Dict(data_key="fields", keys=fields.String())
    last_mutation_id = fields.Integer()


def place(wilayah):
    """A wilayah row as {code, name}."""
    return {"code": wilayah.code, "name": wilayah.name}
