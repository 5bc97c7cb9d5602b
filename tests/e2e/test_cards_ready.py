"""Issue #13 on a real phone: the cards Disdukcapil marked printed reach the officer.

A batch of two cases is handed over (through the real sync engine, as a phone would). On the
server, a Disdukcapil user of kabupaten 6311 confirms the receipt and marks one card ready and
the other not printed (sync.registry). The officer's phone syncs: home shows "KTP siap diambil:
1", the work list behind it names the berita acara, the cases say "KTP siap diambil di
Disdukcapil sejak …" and "… (ditandai Disdukcapil)"; all of it after an offline reload too;
the collection form defaults the ready card to "collected" and its save closes the count.
"""
import re
import uuid
from datetime import datetime, timedelta, timezone

from playwright.sync_api import expect

from e2e_kit import apply_as_phone, login_phone, server_rows
from server import create_app
from server.extensions import db
from server.models import User
from sync.registry import RegistryActor, confirm_receipt, mark_cards

DESA = "6311042005"
BA_NUMBER = "BA/013/2026"
READY, NOT_PRINTED = "Sari Siap", "Tono Tunda"


def _app(server):
    return create_app({"SQLALCHEMY_DATABASE_URI": server.env["CAH_DATABASE_URL"],
                       "SECRET_KEY": "e2e-cards-ready-key-4Hs8Kd2Wq7Pz1Xm5Vb9Nc3"})


def hand_over(server):
    """Register, verify, pick up, record and hand over two residents in one batch, as the
    phone of "petugas" would (real mutations through process_sync). Returns (batch id,
    {name: resident id})."""
    batch = str(uuid.uuid4())
    ids = {READY: str(uuid.uuid4()), NOT_PRINTED: str(uuid.uuid4())}
    steps = []
    for n, (name, rid) in enumerate(ids.items(), 1):
        steps += [
            ("register_resident", {
                "resident_id": rid, "desa_code": DESA, "name": name, "nik": f"631104550604{n:04d}",
                "kk_number": None, "sex": "female", "birth_place": "Paringin",
                "birth_date": "2004-06-15", "marital_status": "single", "address": "Jalan Uji 13",
                "rt": None, "rw": None, "phone": None, "vulnerable_category": None,
                "disability": None, "notes": ""}),
            ("verify_resident", {"resident_id": rid, "notes": "", "kk_photo": None, "checks": {
                "kk_copy_seen": True, "age_eligible": True, "marital_eligible": False}}),
        ]
    steps += [("pick_up", {"pickup_id": str(uuid.uuid4()), "resident_ids": list(ids.values()),
                           "picked_up_at": "2026-12-01T08:00:00+08:00",
                           "pickup_point": "Balai Desa", "vehicle": "Mobil kecamatan"})]
    steps += [("record_done", {"resident_id": rid, "recorded_at": "2026-12-01T10:00:00+08:00"})
              for rid in ids.values()]
    steps += [("handover_batch", {"batch_id": batch, "number": BA_NUMBER,
                                  "resident_ids": list(ids.values()),
                                  "handed_at": "2026-12-02T09:00:00+08:00", "notes": None})]
    apply_as_phone(_app(server), steps, desa=(DESA,))
    return batch, ids


def disdukcapil_marks(server, batch, ids):
    """A Disdukcapil user of kabupaten 6311 receives the whole batch and marks READY printed,
    NOT_PRINTED not printed (blanko habis). Returns the time of the marks (UTC)."""
    with _app(server).app_context():
        user = User(username="dukcapil", full_name="Petugas Disdukcapil Uji", role="disdukcapil",
                    kecamatan_code=None, kabupaten_code="6311")
        user.set_password("rahasia-dukcapil")
        db.session.add(user)
        db.session.flush()
        actor = RegistryActor(user_id=user.id, kabupaten_code="6311")
        now = datetime.now(timezone.utc)
        confirm_receipt(db.session, actor, batch, received_at=now - timedelta(minutes=5),
                        missing=[], now=now)
        changed = mark_cards(db.session, actor, batch, now=now, marks=[
            {"resident_id": ids[READY], "status": "ready"},
            {"resident_id": ids[NOT_PRINTED], "status": "not_printed", "reason": "blanko_habis"}])
        assert changed == 2
        db.session.commit()
    return now


def wait_synced(page):
    expect(page.get_by_role("button", name="Sinkronkan sekarang")).to_be_enabled(timeout=20000)
    expect(page.locator("#outbox-count")).to_have_text("0", timeout=20000)
    expect(page.locator("#sync-status")).to_contain_text(re.compile("Sinkron (berhasil|selesai)"),
                                                        timeout=20000)


def open_case(page, name):
    page.get_by_role("navigation", name="Daftar kerja").get_by_role(
        "button", name=re.compile("^Semua")).click()
    page.get_by_role("button", name=f"Buka {name}").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()


def test_the_phone_shows_the_cards_disdukcapil_printed(browser, live_server):
    batch, ids = hand_over(live_server)
    context = browser.new_context(viewport={"width": 400, "height": 860})
    page = context.new_page()
    login_phone(page, live_server)
    wait_synced(page)
    ready_line = page.locator("#ready-cards")
    expect(page.get_by_role("button", name=f"Buka {READY}")).to_be_visible()
    expect(ready_line).to_be_hidden()  # nothing printed yet
    open_case(page, READY)
    expect(page.locator("#case-details")).to_contain_text("menunggu KTP dicetak")
    page.get_by_role("button", name="Kembali ke daftar warga").click()

    marked_at = disdukcapil_marks(live_server, batch, ids)
    since = (marked_at + timedelta(hours=8)).strftime("%d/%m/%Y %H.%M") + " WITA"
    page.get_by_role("button", name="Sinkronkan sekarang").click()
    wait_synced(page)
    expect(ready_line).to_have_text("KTP siap diambil: 1")

    def check_home_and_cases():
        # The work list behind the line: the ready case under its berita acara.
        page.get_by_role("button", name="KTP siap diambil: 1").click()
        expect(ready_line).to_have_attribute("aria-pressed", "true")
        cases = page.get_by_role("list", name="Daftar warga")
        expect(cases.get_by_role("heading", name=f"Berita acara {BA_NUMBER}")).to_be_visible()
        expect(cases.get_by_role("button", name=f"Buka {READY}")).to_be_visible()
        expect(cases.get_by_role("button", name=f"Buka {NOT_PRINTED}")).to_have_count(0)
        cases.get_by_role("button", name=f"Buka {READY}").click()
        details = page.locator("#case-details")
        expect(details).to_contain_text(f"KTP siap diambil di Disdukcapil sejak {since}")
        expect(details).not_to_contain_text("menunggu KTP dicetak")
        page.get_by_role("button", name="Kembali ke daftar warga").click()
        open_case(page, NOT_PRINTED)
        expect(page.locator("#case-details")).to_contain_text(
            "KTP belum dicetak: Blanko habis (ditandai Disdukcapil)")
        expect(page.locator("#case-details")).not_to_contain_text("KTP siap diambil")
        page.get_by_role("button", name="Kembali ke daftar warga").click()

    check_home_and_cases()
    # No signal, the page reloaded: all of it comes from the phone's own store.
    context.set_offline(True)
    page.reload()
    expect(page.get_by_role("heading", name="Daftar warga")).to_be_visible()
    expect(ready_line).to_have_text("KTP siap diambil: 1")
    check_home_and_cases()

    # The collection form: the ready card defaults to "collected", the other stays unknown.
    open_case(page, READY)
    page.get_by_role("button", name="Catat pengambilan KTP").click()
    expect(page.get_by_label(f"KTP {READY}")).to_have_value("collected")
    expect(page.get_by_label(f"KTP {NOT_PRINTED}")).to_have_value("")
    page.get_by_role("button", name="Simpan pengambilan KTP").click()
    expect(page.locator("#notice")).to_contain_text("Tersimpan di HP")
    expect(ready_line).to_be_hidden()  # collected: no longer waiting at Disdukcapil
    context.set_offline(False)
    page.get_by_role("button", name="Sinkronkan sekarang").click()
    wait_synced(page)
    expect(ready_line).to_be_hidden()
    rows = server_rows(live_server, "SELECT name, stage FROM residents ORDER BY name")
    assert [tuple(r) for r in rows] == [(READY, "card_collected"), (NOT_PRINTED, "sent_to_registry")]
    context.close()
