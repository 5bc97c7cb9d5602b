"""Phone mutations of SOP steps 4–6: batches to Disdukcapil, card collection, card delivery."""
from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select

from .batches import collect, hand_over
from .changeseq import allocate_change_seq
from .context import MutationContext
from .models import ResidentEvent
from .records import (
    NothingToChange,
    Rejection,
    at_least,
    get_resident,
    invalid_transition,
    where_it_stands,
)
from .signature import SignatureError, decode_signature_bytes, signature_bytes
from .step_order import collection_time, flagged

MIN_SIGNATURE_POINTS = 5
MSG_SIGNATURE_EMPTY = "Tanda tangan penerima terlalu sedikit goresannya. Minta penerima tanda tangan ulang."
MSG_SIGNATURE_INVALID = "Data tanda tangan rusak atau tidak cocok. Minta penerima tanda tangan ulang."

# The fields a delivery's proof_hash covers, in the contract's words.
PROOF_FIELDS = ("resident_id", "delivery_id", "delivered_at", "gps", "user_id", "recipient",
                "proxy_name", "signature_sha256", "photo")


# ---------------------------------------------------------------- steps 4 and 5
def handover_batch(ctx: MutationContext, data: dict) -> None:
    """recorded → sent_to_registry for every resident of the batch (all or nothing)."""
    hand_over(ctx.author, ctx.scope, batch_id=str(data["batch_id"]), number=data["number"],
              handed_at=data["handed_at"], resident_ids=data["resident_ids"], notes=data["notes"],
              kecamatan_code=ctx.actor.kecamatan_code, created_via="phone")


def record_collection(ctx: MutationContext, data: dict) -> None:
    """Cards of a batch collected (→ card_collected) or not printed yet (card_issue set)."""
    collect(ctx.author, ctx.scope, batch_id=str(data["batch_id"]), items=data["items"],
            collected_at=data["collected_at"], kecamatan_code=ctx.actor.kecamatan_code)


# ---------------------------------------------------------------- step 6
def proof_hash(proof: dict[str, Any]) -> str:
    """SHA-256 hex of the canonical JSON (sorted keys, no spaces, UTF-8) of the proof fields."""
    canonical = json.dumps({key: proof.get(key) for key in PROOF_FIELDS}, sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _checked_signature(signature: dict[str, str]) -> str:
    """Validate the strokes and their hash; return the hex SHA-256."""
    try:
        raw = signature_bytes(signature["data"])
        decoded = decode_signature_bytes(raw)
    except SignatureError:
        raise Rejection("signature_invalid", MSG_SIGNATURE_INVALID,
                        {"signature": MSG_SIGNATURE_INVALID}) from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != signature["sha256"]:
        raise Rejection("signature_invalid", MSG_SIGNATURE_INVALID, {"signature": MSG_SIGNATURE_INVALID})
    if decoded.point_count < MIN_SIGNATURE_POINTS:
        raise Rejection("signature_empty", MSG_SIGNATURE_EMPTY, {"signature": MSG_SIGNATURE_EMPTY})
    return digest


def deliver_card(ctx: MutationContext, data: dict) -> None:
    """card_collected → delivered with the recipient's signature; a second delivery is a conflict."""
    signature_sha256 = _checked_signature(data["signature"])
    seq = allocate_change_seq(ctx.session)
    resident = get_resident(ctx.session, str(data["resident_id"]), ctx.scope)
    author = ctx.author
    delivery_id = str(data["delivery_id"])
    gps = data["gps"]  # as sent (schemas_pipeline.GpsAsSent): the phone hashed its own numbers
    proof = {"resident_id": resident.resident_id, "delivery_id": delivery_id,
             "delivered_at": data["delivered_at"], "gps": gps, "user_id": ctx.actor.user_id,
             "recipient": data["recipient"], "proxy_name": data["proxy_name"],
             "signature_sha256": signature_sha256, "photo": data["photo"]}
    delivery = {key: value for key, value in proof.items() if key != "user_id"}
    delivery.update(author.stamp())  # `by` says who, as in the other case parts
    delivery.update(proxy_relation=data["proxy_relation"], proof_hash=proof_hash(proof),
                    signature_data=data["signature"]["data"])  # kept here, never pulled
    public = {key: value for key, value in delivery.items() if key != "signature_data"}

    if _delivered_before(ctx, resident.resident_id, delivery_id):
        raise NothingToChange()  # the same delivery re-sent (e.g. from a reinstalled app)
    payload = flagged({"delivery": public, "stage_before": resident.stage}, "delivered",
                      data["delivered_at"], collection_time(ctx.session, resident.resident_id))
    if resident.stage == "delivered":
        author.conflict("double_delivery", resident.resident_id, resident.desa_code,
                        {"first": resident.delivery, "second": delivery})
        payload["conflict"] = "double_delivery"
    elif at_least(resident, "sent_to_registry"):
        # sent_to_registry too: the card is in the officer's hand, so it was collected even if
        # that record is still in another phone's outbox.
        resident.stage = "delivered"
        resident.delivery = delivery
        resident.card_issue = None
    else:
        raise invalid_transition([(resident, _not_deliverable(resident))])
    author.event(resident.resident_id, "delivered", payload)
    author.touch(resident, seq)


def _delivered_before(ctx: MutationContext, resident_id: str, delivery_id: str) -> bool:
    payloads = ctx.session.scalars(select(ResidentEvent.payload).where(
        ResidentEvent.resident_id == resident_id, ResidentEvent.kind == "delivered"))
    return any((p.get("delivery") or {}).get("delivery_id") == delivery_id for p in payloads)


def _not_deliverable(resident) -> str:
    if resident.stage == "rejected":
        return "berstatus Ditolak; KTP tidak dapat diserahkan"
    return (f"{where_it_stands(resident, 'card_collected')}; KTP hanya dapat diserahkan "
            "setelah diambil dari Disdukcapil")

