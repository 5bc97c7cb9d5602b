"""The mutations of protocol v1: name → args schema and handler, the one list on the server.

The engine refuses a request naming a mutation missing here, loads each mutation's args with
its schema (a failure is that mutation's validation_error rejection) and calls its handler
with the loaded args; the OpenAPI document (server/api/openapi.py) and the benchmarks read
the same table. A new mutation is one more entry.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping

from marshmallow import Schema

from .context import MutationContext
from .handlers_delivery import deliver_card, handover_batch, record_collection
from .handlers_identity import correct_identity
from .handlers_pipeline import (
    cancel_pickup,
    pick_up,
    record_done,
    record_failed,
    reject_resident,
    verify_resident,
)
from .handlers_registration import register_resident, update_field_errors, update_resident
from .records import load_args
from .schemas import RegisterResidentArgsSchema, UpdateResidentArgsSchema
from .schemas_identity import CorrectIdentityArgsSchema
from .schemas_pipeline import (
    CancelPickupArgsSchema,
    DeliverCardArgsSchema,
    HandoverBatchArgsSchema,
    PickUpArgsSchema,
    RecordCollectionArgsSchema,
    RecordDoneArgsSchema,
    RecordFailedArgsSchema,
    RejectResidentArgsSchema,
    VerifyResidentArgsSchema,
)
from .wirefields import flatten_errors

Handler = Callable[[MutationContext, dict[str, Any]], None]


@dataclass(frozen=True)
class Mutator:
    """One mutation: the schema of its args and the handler that applies them.

    handler(ctx, data) gets the args as `args_schema` loads them and follows the handler
    contract of sync/context.py. `field_errors` turns a ValidationError's messages into the
    rejection's {field: message} (default: dotted paths, "checks.kk_copy_seen").
    """

    args_schema: type[Schema]
    handler: Handler
    field_errors: Callable[[dict], dict[str, str]] = flatten_errors
    # One instance per mutation, made once: loading runs for every mutation (1,000/s budget).
    _schema: Schema = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_schema", self.args_schema())

    def load(self, args: Any) -> dict[str, Any]:
        """The args as the handler gets them; raises Rejection("validation_error", …)."""
        return load_args(self._schema, args, self.field_errors)


MUTATORS: Mapping[str, Mutator] = MappingProxyType({
    # registration (handlers_registration.py)
    "register_resident": Mutator(RegisterResidentArgsSchema, register_resident),
    "update_resident": Mutator(UpdateResidentArgsSchema, update_resident, update_field_errors),
    # identity data corrected before verification (handlers_identity.py)
    "correct_identity": Mutator(CorrectIdentityArgsSchema, correct_identity, update_field_errors),
    # SOP steps 2–3 (handlers_pipeline.py)
    "verify_resident": Mutator(VerifyResidentArgsSchema, verify_resident),
    "reject_resident": Mutator(RejectResidentArgsSchema, reject_resident),
    "pick_up": Mutator(PickUpArgsSchema, pick_up),
    "cancel_pickup": Mutator(CancelPickupArgsSchema, cancel_pickup),
    "record_done": Mutator(RecordDoneArgsSchema, record_done),
    "record_failed": Mutator(RecordFailedArgsSchema, record_failed),
    # SOP steps 4–6 (handlers_delivery.py)
    "handover_batch": Mutator(HandoverBatchArgsSchema, handover_batch),
    "record_collection": Mutator(RecordCollectionArgsSchema, record_collection),
    "deliver_card": Mutator(DeliverCardArgsSchema, deliver_card),
})
