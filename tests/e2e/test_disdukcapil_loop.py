"""Issue #13 end to end: the custody chain across the kecamatan and Disdukcapil, in real
browsers against a real server.

Four cases of one Batumandi operation (three recorded, one only found) are made through the
real sync engine, as the officer's phone would send them. Then, each in its own browser: the
operator of Batumandi hands three over on a berita acara; a Disdukcapil user of Kabupaten
Balangan (made with `pakkedes create-user --role disdukcapil --kabupaten 63.11`) confirms the
receipt and marks two cards printed and one not printed; the officer's phone shows "KTP siap
diambil: 2" after a sync; the team's collection takes one card and reports the other ready card
as not there (a difference); the phone delivers the collected card with a signature, a photo
and GPS. The kabupaten recap's Batumandi row is checked against figures computed here from the
database rows, the two copies of the berita acara carry one verification code, a Disdukcapil
user opens no delivery proof, and the camat of another kecamatan sees none of the batch.
"""
import re
import subprocess
import sys
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from playwright.sync_api import expect

from e2e_kit import apply_as_phone, login_phone, office_login, server_rows as rows, typed_date
from server import create_app
from server.extensions import db
from server.models import User
from server.operations import Operation, OperationDesa

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DESA = "6311042005"
BATUMANDI = "631104"
NUMBER = "BA/LOOP/2026/001"
TAKEN, ABSENT, UNPRINTED, FOUND = "Ani Loop", "Budi Loop", "Citra Loop", "Dedi Loop"
PHONE_NUMBER = "081299887766"  # on TAKEN's case: Disdukcapil must never see it
GPS = {"latitude": -2.4412, "longitude": 115.4398, "accuracy": 15}
USERS = (("operator", "rahasia-operator-uji", ["--role", "operator", "--kecamatan", "63.11.04"]),
         ("dukcapil", "rahasia-dukcapil-uji", ["--role", "disdukcapil", "--kabupaten", "63.11"]),
         ("camat-juai", "rahasia-camat-juai", ["--role", "camat", "--kecamatan", "63.11.01"]))
PASSWORDS = {name: password for name, password, _ in USERS}


def _app(server):
    return create_app({"SQLALCHEMY_DATABASE_URI": server.env["CAH_DATABASE_URL"],
                       "SECRET_KEY": "e2e-loop-key-7Qx2Lm9Vc4Tz8Rb1Hn5Wd3Kp6"})


def make_users(server):
    """The operator, the Disdukcapil user and another kecamatan's camat, through the CLI."""
    for username, password, options in USERS:
        subprocess.run([sys.executable, "-m", "server.cli", "create-user", username, *options],
                       env={**server.env, "CAH_PASSWORD": password}, check=True,
                       stdout=subprocess.DEVNULL)


def seed_cases(server):
    """An operation of Batumandi (target 10 in DESA) and four cases of the officer "petugas"
    sent through process_sync: three up to `recorded`, FOUND only registered.
    Returns {name: resident id}."""
    ids = {name: str(uuid.uuid4()) for name in (TAKEN, ABSENT, UNPRINTED, FOUND)}
    steps = []
    for n, (name, rid) in enumerate(ids.items(), 1):
        steps.append(("register_resident", {
            "resident_id": rid, "desa_code": DESA, "name": name, "nik": f"631104410399{n:04d}",
            "kk_number": f"63110401020{n:05d}", "sex": "female", "birth_place": "Paringin",
            "birth_date": "1999-03-01", "marital_status": "single", "address": "Jalan Loop 7",
            "rt": "002", "rw": "001", "phone": PHONE_NUMBER if name == TAKEN else None,
            "vulnerable_category": None, "disability": None, "notes": ""}))
    recorded = [ids[TAKEN], ids[ABSENT], ids[UNPRINTED]]
    steps += [("verify_resident", {"resident_id": rid, "notes": "", "kk_photo": None, "checks": {
        "kk_copy_seen": True, "age_eligible": True, "marital_eligible": False}}) for rid in recorded]
    steps.append(("pick_up", {"pickup_id": str(uuid.uuid4()), "resident_ids": recorded,
                              "picked_up_at": "2026-12-01T08:00:00+08:00",
                              "pickup_point": "Balai Desa", "vehicle": "Mobil kecamatan"}))
    steps += [("record_done", {"resident_id": rid, "recorded_at": "2026-12-01T10:00:00+08:00"})
              for rid in recorded]
    with _app(server).app_context():
        camat = db.session.execute(db.select(User).filter_by(username="camat")).scalar_one()
        op = Operation(kecamatan_code=BATUMANDI, name="Aksi Loop Desember",
                       start_date=date(2026, 11, 1), end_date=date(2027, 1, 31),
                       step_minutes={}, created_by=camat.id)
        op.desa.append(OperationDesa(desa_code=DESA, target=10))
        db.session.add(op)
        db.session.flush()
        db.session.commit()
        operation_id = op.id
    apply_as_phone(_app(server), steps, desa=(DESA,), operations={DESA: operation_id})
    return ids


def phone_sync(page):
    page.get_by_role("button", name="Sinkronkan sekarang").click()
    expect(page.get_by_role("button", name="Sinkronkan sekarang")).to_be_enabled(timeout=20000)
    expect(page.locator("#outbox-count")).to_have_text("0", timeout=20000)
    expect(page.locator("#photo-queue")).to_be_hidden(timeout=20000)
    expect(page.locator("#sync-status")).to_contain_text(
        re.compile("Sinkron (berhasil|selesai)"), timeout=20000)


def open_case(page, name):
    page.get_by_role("navigation", name="Daftar kerja").get_by_role(
        "button", name=re.compile("^Semua")).click()
    page.get_by_role("button", name=f"Buka {name}").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()


def sign(page):
    """Two strokes on the signature pad with real pointer events."""
    box = page.locator("#signature-pad").bounding_box()
    for y in (0.4, 0.7):
        page.mouse.move(box["x"] + 0.1 * box["width"], box["y"] + y * box["height"])
        page.mouse.down()
        for step in range(1, 12):
            page.mouse.move(box["x"] + (0.1 + 0.07 * step) * box["width"],
                            box["y"] + (y + 0.04 * (step % 3)) * box["height"], steps=2)
        page.mouse.up()


def today_wita():
    return (datetime.now(timezone.utc) + timedelta(hours=8)).date().isoformat()


def recap_row(page, code):
    """The recap table's cells of one kecamatan: {header: text} for the counted columns."""
    headers = page.locator("#recap-kecamatan thead th").all_inner_texts()
    cells = page.locator(f'#recap-kecamatan tr[data-kecamatan="{code}"] > *').all_inner_texts()
    return dict(zip(headers, cells))


def expected_figures(server, operation_name):
    """Batumandi's figures computed from the database rows, without CAH's recap code."""
    op_id = rows(server, "select id from operations where name = :n", n=operation_name)[0][0]
    stages = [s for (s,) in rows(server, "select stage from residents where operation_id = :o "
                                         "and merged_into is null", o=op_id)]
    ready = rows(server, "select count(*) from residents where operation_id = :o and "
                         "card_ready_at is not null and stage = 'sent_to_registry'", o=op_id)[0][0]
    target = rows(server, "select sum(target) from operation_desa where operation_id = :o",
                  o=op_id)[0][0]
    later = {"recorded": ("recorded", "sent_to_registry", "card_collected", "delivered"),
             "sent": ("sent_to_registry", "card_collected", "delivered")}
    return {
        "Target": target,
        "Total Terdata": sum(s != "listed" for s in stages),
        "Total Sudah Rekam": sum(s in later["recorded"] for s in stages),
        "Total Diserahkan ke Disdukcapil": sum(s in later["sent"] for s in stages),
        "Total KTP Tercetak": ready + sum(s in ("card_collected", "delivered") for s in stages),
        "KTP Diserahkan": sum(s == "delivered" for s in stages),
    }


def test_the_custody_chain_from_batumandi_to_disdukcapil_and_back(browser, live_server):
    make_users(live_server)
    ids = seed_cases(live_server)
    phone_ctx = browser.new_context(permissions=["geolocation"], geolocation=GPS,
                                    viewport={"width": 400, "height": 860})
    phone = phone_ctx.new_page()
    phone.on("dialog", lambda d: d.accept())
    login_phone(phone, live_server)
    phone_sync(phone)
    expect(phone.locator("#ready-cards")).to_be_hidden()

    # The operator of Batumandi hands three recorded residents over on a berita acara.
    operator = office_login(browser, live_server, "operator", PASSWORDS["operator"])
    operator.goto(f"{live_server.url}/batches")
    operator.get_by_label("Nomor berita acara").fill(NUMBER)
    operator.locator("#day").fill(typed_date(today_wita()))
    for name in (TAKEN, ABSENT, UNPRINTED):
        operator.get_by_label(re.compile(f"^{name}")).check()
    operator.get_by_role("button", name="Buat berita acara").click()
    expect(operator.get_by_text(NUMBER).first).to_be_visible()
    batch_id = rows(live_server, "select batch_id from batches where number = :n", n=NUMBER)[0][0]
    assert rows(live_server, "select count(*) from residents where batch_id = :b "
                             "and stage = 'sent_to_registry'", b=batch_id)[0][0] == 3

    # Disdukcapil: the batch waits for its receipt; the user confirms it and marks the cards.
    dukcapil = office_login(browser, live_server, "dukcapil", PASSWORDS["dukcapil"])
    assert dukcapil.url.rstrip("/").endswith("/disdukcapil")
    expect(dukcapil.locator("#kpi-awaiting-receipt")).to_have_text("1")
    dukcapil.get_by_role("link", name="Berkas dari Kecamatan").click()
    dukcapil.get_by_role("link", name=NUMBER).click()
    expect(dukcapil.locator("#residents")).to_contain_text(TAKEN)
    detail = dukcapil.content()
    assert PHONE_NUMBER not in detail and "Jalan Loop" not in detail and "<svg" not in detail
    dukcapil.locator("#day").fill(typed_date(today_wita()))
    dukcapil.get_by_role("button", name="Konfirmasi penerimaan").click()
    code = dukcapil.locator("#verification-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{4}-[A-Z2-7]{4}", code), code
    for name, mark in ((TAKEN, "ready"), (ABSENT, "ready"), (UNPRINTED, "not_printed")):
        dukcapil.locator(f"#mark-{ids[name]}").select_option(mark)
    dukcapil.locator(f"#reason-{ids[UNPRINTED]}").select_option("blanko_habis")
    dukcapil.get_by_role("button", name="Simpan tanda cetak").click()
    expect(dukcapil.locator("#batch-status")).not_to_contain_text("Menunggu diterima")
    marks = dict(rows(live_server, "select resident_id, print_status from batch_items "
                                   "where batch_id = :b", b=batch_id))
    assert marks == {ids[TAKEN]: "ready", ids[ABSENT]: "ready", ids[UNPRINTED]: "not_printed"}

    # Both copies of the berita acara carry both parties and the same code.
    dukcapil.goto(f"{live_server.url}/disdukcapil/berkas/{batch_id}/berita-acara")
    expect(dukcapil.locator("body")).to_contain_text(code)
    operator.goto(f"{live_server.url}/batches/{batch_id}")
    expect(operator.locator("body")).to_contain_text(code)
    expect(operator.locator("body")).to_contain_text("KTP siap diambil: 2")

    # The officer's phone learns it at the next sync, before anyone drives to Paringin.
    phone_sync(phone)
    expect(phone.locator("#ready-cards")).to_have_text("KTP siap diambil: 2")

    # The collection: the team takes one card; the other ready one was not at the counter.
    open_case(phone, TAKEN)
    phone.get_by_role("button", name="Catat pengambilan KTP").click()
    expect(phone.get_by_label(f"KTP {TAKEN}")).to_have_value("collected")
    expect(phone.get_by_label(f"KTP {ABSENT}")).to_have_value("collected")
    phone.get_by_label(f"KTP {ABSENT}").select_option("not_printed")
    phone.get_by_label(f"Alasan belum dicetak: {ABSENT}").select_option("other")
    phone.get_by_label(f"Keterangan: {ABSENT}").fill("Tidak ada di loket pengambilan")
    phone.get_by_role("button", name="Simpan pengambilan KTP").click()
    expect(phone.locator("#notice")).to_contain_text("Tersimpan di HP")
    phone_sync(phone)
    stages = dict(rows(live_server, "select name, stage from residents"))
    assert stages == {TAKEN: "card_collected", ABSENT: "sent_to_registry",
                      UNPRINTED: "sent_to_registry", FOUND: "found"}, stages

    # The delivery closes the loop for the collected card: signature, photo, GPS, offline.
    phone_ctx.set_offline(True)
    open_case(phone, TAKEN)
    phone.get_by_role("button", name="Serahkan KTP").click()
    sign(phone)
    phone.get_by_label("Foto penyerahan KTP").set_input_files(str(FIXTURES / "delivery.jpg"))
    expect(phone.locator("#d-photo-status")).to_contain_text("Foto siap", timeout=15000)
    phone.get_by_role("button", name="Ambil lokasi GPS").click()
    expect(phone.locator("#d-gps-status")).to_contain_text("Lokasi:")
    phone.get_by_role("button", name="Simpan penyerahan KTP").click()
    expect(phone.locator("#notice")).to_have_text(f"Tersimpan di HP: Penyerahan KTP {TAKEN}.")
    phone_ctx.set_offline(False)
    phone_sync(phone)
    assert rows(live_server, "select stage from residents where resident_id = :r",
                r=ids[TAKEN])[0][0] == "delivered"

    # The kabupaten recap: Batumandi's row as computed here from the rows themselves.
    dukcapil.goto(f"{live_server.url}/disdukcapil/")
    row = recap_row(dukcapil, BATUMANDI)
    expected = expected_figures(live_server, "Aksi Loop Desember")
    assert expected == {"Target": 10, "Total Terdata": 4, "Total Sudah Rekam": 3,
                        "Total Diserahkan ke Disdukcapil": 3, "Total KTP Tercetak": 1,
                        "KTP Diserahkan": 1}
    assert {key: int(row[key].replace(".", "")) for key in expected} == expected, row
    assert int(row["Selisih pengambilan"]) == 1  # ABSENT: marked ready, not collected
    juai = recap_row(dukcapil, "631101")
    assert juai["Total Terdata"] == "0" and juai["Selisih pengambilan"] == "0"
    expect(dukcapil.locator("#kpi-awaiting-receipt")).to_have_text("0")

    # The timeline shows who held the case when.
    operator.goto(f"{live_server.url}/residents/{ids[TAKEN]}")
    for label in ("Diserahkan ke Disdukcapil", "Berkas diterima Disdukcapil",
                  "KTP siap diambil (ditandai Disdukcapil)", "KTP diambil", "KTP diserahkan"):
        expect(operator.locator("body")).to_contain_text(label)

    # Least privilege: no delivery proof, no case page, no office list for Disdukcapil.
    delivery = rows(live_server, "select delivery from residents where resident_id = :r",
                    r=ids[TAKEN])[0][0]
    photo = re.search(r'"photo":\s*"([0-9a-f]{64})"', str(delivery).replace("'", '"')).group(1)
    for path in (f"/attachments/{photo}", f"/residents/{ids[TAKEN]}", "/batches",
                 f"/batches/{batch_id}", "/residents"):
        response = dukcapil.request.get(live_server.url + path, max_redirects=0)
        assert response.status == 403, (path, response.status)
    assert dukcapil.request.get(f"{live_server.url}/attachments/{photo}").status == 403
    operator_photo = operator.request.get(f"{live_server.url}/attachments/{photo}")
    assert operator_photo.status == 200  # the proof exists; only the role is refused

    # The camat of another kecamatan sees none of Batumandi's batches.
    juai_camat = office_login(browser, live_server, "camat-juai", PASSWORDS["camat-juai"])
    juai_camat.goto(f"{live_server.url}/batches")
    expect(juai_camat.locator("body")).not_to_contain_text(NUMBER)
    assert juai_camat.request.get(f"{live_server.url}/batches/{batch_id}").status == 404
    juai_camat.goto(f"{live_server.url}/disdukcapil/berkas")
    expect(juai_camat.locator("body")).not_to_contain_text(NUMBER)
    phone_ctx.close()
