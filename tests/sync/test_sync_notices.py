"""Issue #11 §5: the sync answer tells the officer whose change lost a conflict
(changes.notices), and names batches by their berita acara number (batch_number)."""
from datetime import timedelta

from sync.notices import NOTICE_KINDS
from sync.schemas import NoticeSchema, SyncResponseSchema
from sync_kit import DESA_B, NOW, pipeline_args


def notices(response):
    return response["changes"].get("notices", [])


def card_collected(kit, client):
    rid = kit.found(client)
    kit.advance(client, rid, "card_collected")
    return rid


def test_the_losing_delivery_is_told_with_a_sentence(session, kit):
    a, b = kit.client(user_id=7), kit.client(user_id=8)
    rid = card_collected(kit, a)
    owner = pipeline_args("deliver_card", rid)
    proxy = pipeline_args("deliver_card", rid, recipient="proxy", proxy_name="Pak RT",
                          proxy_relation="Ketua RT", delivered_at="2026-12-05T11:00:00+08:00")
    won = kit.sync(a, [kit.mutation(a, "deliver_card", owner)])
    assert won["results"][0]["status"] == "applied" and notices(won) == []
    lost = kit.sync(b, [kit.mutation(b, "deliver_card", proxy)], actor=kit.actor(8))
    assert lost["results"][0]["status"] == "applied"  # kept for the camat, not refused
    [notice] = notices(lost)
    assert (notice["kind"], notice["resident_id"]) == ("double_delivery", rid)
    assert notice["message"].startswith(
        "Penyerahan Anda kalah: KTP sudah diserahkan oleh petugas lain kepada pemilik pada "
        "05/12/2026 10.30 WITA.")
    assert "wakil (Pak RT)" in notice["message"]
    assert SyncResponseSchema().validate(lost) == {}
    # the same notice (same id) again on a later pull of the case; never to the winner
    again = kit.sync(b, actor=kit.actor(8))
    assert [n["id"] for n in notices(again)] == [notice["id"]]
    assert notices(kit.sync(a)) == []


def test_verify_after_reject_and_reject_after_verify_tell_the_loser(session, kit):
    a, b = kit.client(user_id=7), kit.client(user_id=8)
    first, second = kit.found(a), kit.found(a)
    kit.run(a, "reject_resident", pipeline_args("reject_resident", first))
    lost = kit.sync(b, [kit.mutation(b, "verify_resident", pipeline_args("verify_resident", first))],
                    actor=kit.actor(8))
    [notice] = notices(lost)
    assert notice["message"].startswith(
        "Verifikasi Anda kalah: warga ini sudah ditolak (Pindah domisili) oleh petugas lain pada")
    kit.run(a, "verify_resident", pipeline_args("verify_resident", second))
    lost = kit.sync(b, [kit.mutation(b, "reject_resident", pipeline_args("reject_resident", second))],
                    actor=kit.actor(8))
    assert [n["message"].split(":")[0] for n in notices(lost)] == [
        "Verifikasi Anda kalah", "Penolakan Anda kalah"]
    assert notices(kit.sync(a, cursor=None)) == []


def test_an_overwritten_edit_reaches_the_overwritten_officer(session, kit):
    a, b = kit.client(user_id=7), kit.client(user_id=8)
    args, _ = kit.register(a, phone="081111111")
    rid = args["resident_id"]
    edit = {"resident_id": rid, "base_version": 1}
    kit.sync(b, [kit.mutation(b, "update_resident", {**edit, "fields": {"phone": "082222222"}})],
             actor=kit.actor(8))
    winner = kit.sync(a, [kit.mutation(a, "update_resident", {**edit, "fields": {"phone": "083333333"}})])
    assert notices(winner) == []  # A's value was applied
    [notice] = notices(kit.sync(b, actor=kit.actor(8)))
    assert notice["kind"] == "concurrent_edit"
    assert notice["message"] == (
        "Perubahan Anda tertimpa: Nomor HP diubah oleh petugas lain dari \u201c082222222\u201d "
        "menjadi \u201c083333333\u201d. Periksa data warga ini.")


def test_notices_stay_within_scope_and_age(session, kit):
    a, b = kit.client(user_id=7), kit.client(user_id=8)
    rid = card_collected(kit, a)
    kit.run(a, "deliver_card", pipeline_args("deliver_card", rid))
    kit.run(b, "deliver_card", pipeline_args("deliver_card", rid), actor=kit.actor(8))
    # the same officer, now assigned elsewhere, no longer pulls the case nor its notice
    assert notices(kit.sync(b, actor=kit.actor(8, desa=(DESA_B,)))) == []
    # a month and more later a full re-pull does not announce it again
    later = NOW + timedelta(days=31)
    assert notices(kit.sync(b, actor=kit.actor(8), now=later)) == []
    assert len(notices(kit.sync(b, actor=kit.actor(8)))) == 1


def test_pulled_residents_carry_the_berita_acara_number(session, kit):
    client = kit.client()
    rid = kit.found(client)
    other = kit.found(client)
    kit.advance(client, rid, "sent_to_registry")
    response = kit.sync(client)
    pulled = {r["resident_id"]: r for r in response["changes"]["residents"]}
    assert pulled[rid]["batch_number"] == "BA/001/2026"
    assert pulled[other]["batch_number"] is None
    assert SyncResponseSchema().validate(response) == {}


def test_a_registration_that_looks_like_a_duplicate_is_told_to_its_officer(session, kit):
    a, b = kit.client(user_id=7), kit.client(user_id=8)
    kit.found(a, nik="6311045708040001")
    args = kit.register_args(nik="6311045708040001")
    told = kit.sync(b, [kit.mutation(b, "register_resident", args)], actor=kit.actor(8))
    [notice] = notices(told)
    assert (notice["kind"], notice["resident_id"]) == ("possible_duplicate", args["resident_id"])
    assert notice["message"] == (
        "Kemungkinan data ganda: warga ini NIK-nya sama dengan data warga lain di kecamatan "
        "ini. Camat akan memeriksa dan memutuskan; jangan didaftarkan ulang.")
    assert SyncResponseSchema().validate(told) == {}
    assert notices(kit.sync(a, cursor=None)) == []  # the first registration raised nothing


def test_the_documented_kinds_are_the_kinds_sent():
    assert NoticeSchema().fields["kind"].metadata["enum"] == list(NOTICE_KINDS)
