"""Phone mutations of SOP steps 2–3: verify or reject, pick up, record (or not).

Rules (docs/interfaces-pipeline.md): forward stages are the max of accepted events, so two
phones moving a case forward never conflict; a verification and a rejection of one case
contradict each other, so the later one is kept as an event and opens a `verify_vs_reject`
conflict for the camat, leaving the stage as it was; going back is an explicit event only
(cancel_pickup, record_failed).
"""
from __future__ import annotations

from typing import Any

from .changeseq import allocate_change_seq, allocate_change_seqs
from .context import MutationContext
from .models import Resident
from .records import (
    Rejection,
    at_least,
    get_resident,
    get_residents,
    invalid_transition,
    where_it_stands,
)
from .schemas import iso_utc
from .step_order import flagged, pickup_time

MSG_MISSING_KK = (
    "Syarat verifikasi: fotokopi KK harus diperiksa atau difoto. "
    "Centang 'Fotokopi KK sudah diperiksa' atau ambil foto KK."
)
NOT_LISTED = "masih berstatus Belum Ditemukan; daftarkan dulu warga ini sebagai Terdata"


def _one(ctx: MutationContext, data: dict[str, Any]) -> tuple[int, Resident]:
    # The change_seq is taken before reading: with the counter lock held nobody else moves
    # this case until we commit, so the stage checks below cannot race.
    seq = allocate_change_seq(ctx.session)
    return seq, get_resident(ctx.session, str(data["resident_id"]), ctx.scope)


# ---------------------------------------------------------------- step 2
def verify_resident(ctx: MutationContext, data: dict) -> None:
    """found → verified; on a rejected case the verification is kept and a conflict opened."""
    if not data["checks"]["kk_copy_seen"] and not data["kk_photo"]:
        raise Rejection("missing_kk_evidence", MSG_MISSING_KK,
                        {"checks.kk_copy_seen": MSG_MISSING_KK, "kk_photo": MSG_MISSING_KK})
    seq, resident = _one(ctx, data)
    author = ctx.author
    if resident.stage == "listed":
        raise invalid_transition([(resident, NOT_LISTED)])
    verification = {**author.stamp(), "checks": data["checks"], "kk_photo": data["kk_photo"],
                    "notes": data["notes"]}
    payload = {"verification": verification, "stage_before": resident.stage}
    if resident.stage == "rejected":
        author.conflict("verify_vs_reject", resident.resident_id, resident.desa_code, {
            "verification": verification, "rejection": resident.rejection, "kept": "rejected"})
        payload["conflict"] = "verify_vs_reject"
    else:
        if resident.stage == "found":
            resident.stage = "verified"
        if resident.verification is None:  # a second verification is history, not state
            resident.verification = verification
        resident.kk_photo = resident.kk_photo or data["kk_photo"]
    author.event(resident.resident_id, "verified", payload)
    author.touch(resident, seq)


def reject_resident(ctx: MutationContext, data: dict) -> None:
    """found (or listed) → rejected; on a verified case the rejection opens a conflict."""
    seq, resident = _one(ctx, data)
    author = ctx.author
    rejection = {**author.stamp(), "reason": data["reason"], "reason_text": data["reason_text"]}
    payload = {"rejection": rejection, "stage_before": resident.stage}
    if resident.stage in ("listed", "found"):
        # A listed resident may be found to have moved away or died without being registered.
        resident.stage = "rejected"
        resident.rejection = rejection
    elif resident.stage != "rejected":  # verified or further: another phone verified it
        author.conflict("verify_vs_reject", resident.resident_id, resident.desa_code, {
            "verification": resident.verification, "rejection": rejection, "kept": "verified"})
        payload["conflict"] = "verify_vs_reject"
    author.event(resident.resident_id, "rejected", payload)
    author.touch(resident, seq)


# ---------------------------------------------------------------- step 3
def pick_up(ctx: MutationContext, data: dict) -> None:
    """verified → picked_up for 1–50 residents of one trip, all or nothing."""
    seqs = allocate_change_seqs(ctx.session, len(data["resident_ids"]))
    residents = get_residents(ctx.session, data["resident_ids"], ctx.scope)
    problems = [(r, _not_pickable(r)) for r in residents if not at_least(r, "verified")]
    if problems:
        raise invalid_transition(problems)
    author = ctx.author
    pickup = {**author.stamp(), "pickup_id": str(data["pickup_id"]),
              "at": iso_utc(data["picked_up_at"]), "point": data["pickup_point"],
              "vehicle": data["vehicle"]}
    for resident, seq in zip(residents, seqs):
        payload = {"pickup": pickup, "stage_before": resident.stage}
        if resident.stage == "verified":
            resident.stage = "picked_up"
            resident.pickup = pickup
        elif resident.pickup is None:  # recorded already (came alone): keep how they came
            resident.pickup = pickup
        author.event(resident.resident_id, "picked_up", payload)
        author.touch(resident, seq)


def _unverified(resident: Resident, not_done: str, before: str) -> str:
    """Why a step that needs a verified resident cannot be done for this one."""
    if resident.stage == "rejected":
        return f"berstatus Ditolak; warga yang ditolak tidak {not_done}"
    if resident.stage == "listed":
        return NOT_LISTED
    return f"{where_it_stands(resident, 'verified')}; verifikasi dulu sebelum {before}"


def _not_pickable(resident: Resident) -> str:
    return _unverified(resident, "dijemput", "dijemput")


def cancel_pickup(ctx: MutationContext, data: dict) -> None:
    """picked_up → verified (the trip did not happen for this resident)."""
    seq, resident = _one(ctx, data)
    if resident.stage != "picked_up":
        raise invalid_transition([(resident, f"{where_it_stands(resident, 'picked_up')}; hanya "
                                             "warga berstatus Dijemput yang dapat dibatalkan")])
    author = ctx.author
    author.event(resident.resident_id, "pickup_cancelled",
                 {"reason": data["reason"], "pickup": resident.pickup})
    resident.stage = "verified"
    resident.pickup = None
    author.touch(resident, seq)


def record_done(ctx: MutationContext, data: dict) -> None:
    """verified or picked_up → recorded (a resident may come to the office alone)."""
    seq, resident = _one(ctx, data)
    if not at_least(resident, "verified"):
        raise invalid_transition([(resident, _not_recordable(resident))])
    author = ctx.author
    recording = {**author.stamp(), "at": iso_utc(data["recorded_at"])}
    payload = flagged({"recording": recording, "stage_before": resident.stage}, "recorded",
                      data["recorded_at"], pickup_time(resident))
    if resident.stage in ("verified", "picked_up"):
        resident.stage = "recorded"
        resident.recording = recording
    elif resident.recording is None or resident.recording.get("failed"):
        resident.recording = recording  # further along already: fill what is missing
    author.event(resident.resident_id, "recorded", payload)
    author.touch(resident, seq)


def _not_recordable(resident: Resident) -> str:
    return _unverified(resident, "direkam", "perekaman")


def record_failed(ctx: MutationContext, data: dict) -> None:
    """picked_up → verified with the reason; a verified resident (came alone) stays verified."""
    seq, resident = _one(ctx, data)
    if resident.stage not in ("verified", "picked_up"):
        text = (_not_recordable(resident) if not at_least(resident, "verified") else
                f"{where_it_stands(resident, 'picked_up')}; perekaman sudah tercatat berhasil")
        raise invalid_transition([(resident, text)])
    author = ctx.author
    recording = {**author.stamp(), "failed": data["reason"], "reason_text": data["reason_text"]}
    author.event(resident.resident_id, "recording_failed",
                 {"recording": recording, "stage_before": resident.stage, "pickup": resident.pickup})
    resident.stage = "verified"
    resident.pickup = None  # a new trip is needed
    resident.recording = recording
    author.touch(resident, seq)

