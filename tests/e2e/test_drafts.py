"""Work in progress survives (issue #11 §2) and three phone items of §5, in headless Chromium.

Every form keeps a draft in IndexedDB while it is filled: a reload (also offline), Back, a
killed page or a forced sign-out offers it back; leaving with unsaved input asks first; saving
removes it; another officer never sees it. Also: a full phone says "Memori HP penuh…", the
signature pad keeps proportions when the phone is rotated mid-signature, and Home returns to the
list the officer came from.
"""
import json
import re
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from e2e_kit import login_phone, office_login, register

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DESA = "6311042005"
OFFER = "Lanjutkan isian yang belum disimpan?"

# Residents as the phone keeps them, put straight into its IndexedDB (the phone stays offline,
# so no sync replaces them): a case at any stage without walking the whole pipeline.
PUT_RESIDENTS = """async (people) => {
  const db = await new Promise((resolve, reject) => {
    const r = indexedDB.open('cah'); r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error);
  });
  const tx = db.transaction(['residents'], 'readwrite');
  for (const p of people) {
    const view = { resident_id: p.id, desa_code: p.desa, name: p.name, stage: p.stage, sex: 'female',
      birth_date: '2004-06-15', marital_status: 'single', address: 'Jalan Uji', version: 3 };
    tx.objectStore('residents').put({ resident_id: p.id, desa_code: p.desa, server: view, view, pending: 0,
      changed_at: '2026-12-01T08:00:00+08:00' });
  }
  await new Promise((resolve) => { tx.oncomplete = resolve; });
  db.close();
}"""

READ_STORE = """async (name) => {
  const db = await new Promise((resolve) => { const r = indexedDB.open('cah'); r.onsuccess = () => resolve(r.result); });
  const tx = db.transaction([name], 'readonly');
  const all = await new Promise((resolve) => { tx.objectStore(name).getAll().onsuccess = (e) => resolve(e.target.result); });
  db.close();
  return all.map(({ photo, ...rest }) => ({ ...rest, photo_size: photo ? photo.size : null }));
}"""

# The stored signature of the saved delivery, decoded by the app's own codec.
READ_SIGNATURE = """async () => {
  const { decodeSignature } = await import('./js/signature-codec.js');
  const db = await new Promise((resolve) => { const r = indexedDB.open('cah'); r.onsuccess = () => resolve(r.result); });
  const tx = db.transaction(['outbox'], 'readonly');
  const all = await new Promise((resolve) => { tx.objectStore('outbox').getAll().onsuccess = (e) => resolve(e.target.result); });
  db.close();
  const entry = all.find((e) => e.name === 'deliver_card');
  return await decodeSignature(entry.args.signature.data);
}"""

# A phone whose storage is full: every IndexedDB write fails once window.__full is set.
FULL_PHONE = """(() => {
  for (const name of ['put', 'add']) {
    const original = IDBObjectStore.prototype[name];
    IDBObjectStore.prototype[name] = function (...args) {
      if (window.__full) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return original.apply(this, args);
    };
  }
})();"""


def phone(browser, live_server, **context_args):
    context = browser.new_context(**context_args)
    page = context.new_page()
    login_phone(page, live_server)
    return context, page


def wait_draft_saved(page):
    """The draft of the open form is in IndexedDB (the note shows after each save)."""
    note = page.locator(".draft-note")
    expect(note).to_be_visible()  # hidden from the last input until its draft is stored
    expect(note).to_have_text(re.compile("draf di HP"))


def drafts(page):
    return page.evaluate(READ_STORE, "drafts")


def put_case(page, context, name, stage, desa=DESA):
    """Go offline, put a resident at `stage` on the phone, reload; returns its id."""
    context.set_offline(True)
    rid = str(uuid.uuid4())
    page.evaluate(PUT_RESIDENTS, [{"id": rid, "name": name, "stage": stage, "desa": desa}])
    page.reload()
    expect(page.get_by_role("heading", name="Daftar warga")).to_be_visible()
    return rid


def draw(page, strokes):
    """Strokes in CSS px relative to the pad's top left, drawn with real pointer events."""
    page.locator("#signature-pad").scroll_into_view_if_needed()
    box = page.locator("#signature-pad").bounding_box()
    for stroke in strokes:
        page.mouse.move(box["x"] + stroke[0][0], box["y"] + stroke[0][1])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x, box["y"] + y, steps=4)
        page.mouse.up()


def square(left, top, side):
    right, bottom = left + side, top + side
    return [(left, top), (right, top), (right, bottom), (left, bottom), (left, top + 2)]


def test_registration_draft_survives_reload_also_offline(browser, live_server):
    context, page = phone(browser, live_server)
    page.on("dialog", lambda d: d.accept())  # a beforeunload prompt, if Chromium shows one
    page.get_by_role("button", name="Daftarkan warga baru").click()
    page.get_by_label("Desa", exact=True).select_option("6311042001")
    page.get_by_label("Nama lengkap").fill("Sari Draf")
    page.get_by_label("NIK", exact=True).fill("6311045506040001")
    wait_draft_saved(page)
    page.reload()
    expect(page.get_by_text(OFFER)).to_be_visible()
    expect(page.get_by_label("Nama lengkap")).to_have_value("")
    page.get_by_role("button", name="Lanjutkan").click()
    expect(page.get_by_label("Desa", exact=True)).to_have_value("6311042001")
    expect(page.get_by_label("Nama lengkap")).to_have_value("Sari Draf")
    expect(page.get_by_label("NIK", exact=True)).to_have_value("6311045506040001")

    # No signal: the page comes from the service worker, the draft from IndexedDB.
    context.set_offline(True)
    page.get_by_label("Nama lengkap").fill("Sari Draf Luring")
    wait_draft_saved(page)
    page.reload()
    page.get_by_role("button", name="Lanjutkan").click()
    expect(page.get_by_label("Nama lengkap")).to_have_value("Sari Draf Luring")
    expect(page.get_by_label("NIK", exact=True)).to_have_value("6311045506040001")
    [draft] = drafts(page)
    assert draft["key"] == "register:new" and draft["user"] == "petugas"

    # "Buang": the draft goes and the form stays as it opened.
    page.reload()
    page.get_by_role("button", name="Buang").click()
    expect(page.get_by_text(OFFER)).to_have_count(0)
    expect(page.get_by_label("Nama lengkap")).to_have_value("")
    assert drafts(page) == []
    context.close()


def test_back_from_an_edit_asks_first_and_the_draft_is_offered_again(browser, live_server):
    context, page = phone(browser, live_server)
    context.set_offline(True)
    register(page, "Ubah Draf", birth_date="2004-06-15")
    asked = []

    def answer(dialog, accept):
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    def leave(action, accept):
        """Press Back, answer the question it raises (OK = leave)."""
        with page.expect_event("dialog") as info:
            action()
        answer(info.value, accept)

    page.get_by_role("button", name="Ubah data Ubah Draf").click()
    page.get_by_label("Nomor HP").fill("081233334444")
    leave(page.go_back, accept=False)
    assert asked[-1].startswith("Isian belum disimpan. Tinggalkan formulir ini?"), asked
    expect(page).to_have_url(re.compile("#/ubah/"))
    expect(page.get_by_role("heading", name="Ubah data warga")).to_be_visible()
    expect(page.get_by_label("Nomor HP")).to_have_value("081233334444")

    leave(page.go_back, accept=True)
    expect(page.get_by_role("heading", name="Daftar warga")).to_be_visible()
    [draft] = drafts(page)
    assert draft["values"]["f-phone"] == "081233334444"

    # "Batal" asks too.
    page.get_by_role("button", name="Ubah data Ubah Draf").click()
    expect(page.get_by_text(OFFER)).to_be_visible()
    page.get_by_role("button", name="Lanjutkan").click()
    expect(page.get_by_label("Nomor HP")).to_have_value("081233334444")
    page.once("dialog", lambda d: answer(d, False))
    page.get_by_role("button", name="Batal").click()
    assert len(asked) == 3, asked
    expect(page.get_by_label("Nomor HP")).to_have_value("081233334444")

    # Saving removes the draft: the form opens clean next time.
    page.get_by_role("button", name="Simpan perubahan").click()
    expect(page.locator("#outbox-count")).to_have_text("2")  # the registration and this edit
    assert drafts(page) == []
    page.get_by_role("button", name="Ubah data Ubah Draf").click()
    expect(page.get_by_label("Nomor HP")).to_have_value("081233334444")
    expect(page.get_by_text(OFFER)).to_have_count(0)
    page.on("dialog", lambda d: asked.append(d.message))
    page.get_by_role("button", name="Batal").click()  # nothing typed: no question
    expect(page.get_by_role("heading", name="Daftar warga")).to_be_visible()
    assert len(asked) == 3, asked
    context.close()


def test_identity_typed_before_verification_is_not_restored_into_the_locked_field(browser, live_server):
    context, page = phone(browser, live_server)
    page.on("dialog", lambda d: d.accept())  # a beforeunload prompt, if Chromium shows one
    rid = put_case(page, context, "Identitas Lama", "found")
    page.goto(f"{live_server.url}/app/#/ubah/{rid}")
    page.get_by_label("Nama lengkap").fill("Identitas Baru")
    page.get_by_label("Nomor HP").fill("081277778888")
    wait_draft_saved(page)

    # Verified meanwhile (e.g. by a sync): the identity fields are locked now.
    page.evaluate(PUT_RESIDENTS, [{"id": rid, "name": "Identitas Lama", "stage": "verified", "desa": DESA}])
    page.reload()
    page.get_by_role("button", name="Lanjutkan").click()
    expect(page.get_by_label("Nama lengkap")).to_be_disabled()
    expect(page.get_by_label("Nama lengkap")).to_have_value("Identitas Lama")
    expect(page.get_by_label("Nomor HP")).to_have_value("081277778888")
    expect(page.get_by_role("alert")).to_have_text(
        "Perubahan data identitas di draf tidak bisa dipakai lagi karena warga sudah diverifikasi; "
        "koreksi dilakukan camat/operator di kantor.")
    wait_draft_saved(page)
    [draft] = drafts(page)
    assert draft["values"]["f-name"] == "Identitas Lama", draft["values"]
    context.close()


PUT_DRAFT = """async (draft) => {
  const db = await new Promise((resolve) => { const r = indexedDB.open('cah'); r.onsuccess = () => resolve(r.result); });
  const tx = db.transaction(['drafts'], 'readwrite');
  tx.objectStore('drafts').put(draft);
  await new Promise((resolve) => { tx.oncomplete = resolve; });
  db.close();
}"""


def test_drafts_leave_with_their_resident_and_expire_after_14_days(browser, live_server):
    context, page = phone(browser, live_server)
    page.on("dialog", lambda d: d.accept())  # leaving the form with its draft
    register(page, "Pindah Draf", desa="6311042001", nik="6311045506040011")
    page.get_by_role("button", name="Sinkronkan sekarang").click()
    expect(page.locator("#outbox-count")).to_have_text("0", timeout=20000)
    page.get_by_role("button", name="Ubah data Pindah Draf").click()
    page.get_by_label("Nomor HP").fill("081299990000")
    wait_draft_saved(page)
    page.get_by_role("button", name="Batal").click()
    expect(page.get_by_role("heading", name="Daftar warga")).to_be_visible()
    assert [d["key"].split(":")[0] for d in drafts(page)] == ["update"]

    # The desa is taken from the officer: the next sync removes the case, and its draft (NIK).
    engine = create_engine(live_server.env["CAH_DATABASE_URL"])
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM assignments WHERE desa_code = '6311042001' AND user_id = "
                          "(SELECT id FROM users WHERE username = 'petugas')"))
    engine.dispose()
    page.get_by_role("button", name="Sinkronkan sekarang").click()
    expect(page.get_by_role("button", name="Ubah data Pindah Draf")).to_have_count(0, timeout=20000)
    assert drafts(page) == []

    # A draft left for more than 14 days is gone at the next start; a recent one stays.
    now = datetime.now(timezone.utc)
    old = {"key": "register:new", "user": "petugas", "hash": "#/daftar",
           "at": (now - timedelta(days=14, minutes=1)).isoformat(), "values": {"f-nik": "6311045506040012"}}
    page.evaluate(PUT_DRAFT, old)
    page.evaluate(PUT_DRAFT, {**old, "key": "pickup:new", "at": (now - timedelta(days=13)).isoformat()})
    page.reload()
    expect(page.get_by_role("heading", name="Daftar warga")).to_be_visible()
    assert [d["key"] for d in drafts(page)] == ["pickup:new"]
    context.close()


def test_delivery_with_signature_and_photo_survives_a_killed_page(browser, live_server):
    context, page = phone(browser, live_server, viewport={"width": 400, "height": 860})
    rid = put_case(page, context, "Serah Draf", "card_collected")
    page.goto(f"{live_server.url}/app/#/warga/{rid}/serahkan-ktp")
    page.get_by_label("Diwakilkan").check()
    page.get_by_label("Nama wakil penerima").fill("Rahmah Wakil")
    draw(page, [square(40, 40, 60), [(150, 60), (200, 90), (250, 60)]])
    expect(page.locator("#signature-status")).to_contain_text("2 goresan")
    page.get_by_label("Foto penyerahan KTP").set_input_files(str(FIXTURES / "delivery.jpg"))
    expect(page.locator("#d-photo-status")).to_contain_text("Foto siap", timeout=15000)
    wait_draft_saved(page)
    [draft] = drafts(page)
    assert draft["photo_size"] and len(draft["signature"]["strokes"]) == 2
    page.close()  # the phone killed the tab (no unload handlers run)

    page = context.new_page()
    page.goto(f"{live_server.url}/app/#/warga/{rid}/serahkan-ktp")
    expect(page.get_by_text(OFFER)).to_be_visible()
    page.get_by_role("button", name="Lanjutkan").click()
    expect(page.get_by_label("Diwakilkan")).to_be_checked()
    expect(page.get_by_label("Nama wakil penerima")).to_have_value("Rahmah Wakil")
    expect(page.locator("#signature-status")).to_contain_text("2 goresan")
    expect(page.locator("#d-photo-status")).to_contain_text("Foto siap")
    expect(page.locator("#d-photo-preview")).to_be_visible()
    page.get_by_label("Hubungan dengan pemilik KTP").fill("Anak")
    page.get_by_role("button", name="Simpan penyerahan KTP").click()
    expect(page.locator("#notice")).to_have_text("Tersimpan di HP: Penyerahan KTP Serah Draf.")
    assert drafts(page) == []
    photos = page.evaluate(READ_STORE, "attachments")
    assert len(photos) == 1 and photos[0]["kind"] == "delivery_photo"
    context.close()


def revoke_phone(browser, live_server):
    office = office_login(browser, live_server)
    office.goto(live_server.url + "/devices")
    office.get_by_role("link", name=re.compile("^Cabut perangkat")).first.click()
    office.get_by_role("button", name="Ya, cabut perangkat ini").click()
    expect(office.locator("body")).to_contain_text("dicabut")
    office.context.close()


def signed_out_by_the_server(page, context):
    """The next sync (coming back online) meets the revoked token."""
    context.set_offline(True)
    context.set_offline(False)
    expect(page.get_by_role("heading", name="Masuk")).to_be_visible(timeout=15000)


def test_forced_sign_out_keeps_the_draft_for_the_same_officer_only(browser, live_server):
    context, page = phone(browser, live_server)
    page.get_by_role("button", name="Daftarkan warga baru").click()
    page.get_by_label("Nama lengkap").fill("Cabut Draf")
    wait_draft_saved(page)
    revoke_phone(browser, live_server)
    signed_out_by_the_server(page, context)
    expect(page.locator("#login-message")).to_contain_text("dibuka lagi setelah Anda masuk")

    # The same officer logs in again: back in the form, offered what was typed.
    page.get_by_label("Kata sandi").fill("rahasia-petugas")
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_text(OFFER)).to_be_visible()
    expect(page.get_by_role("heading", name="Daftarkan warga baru")).to_be_visible()
    page.get_by_role("button", name="Lanjutkan").click()
    expect(page.get_by_label("Nama lengkap")).to_have_value("Cabut Draf")

    # Signed out again, and another officer logs in on this phone: the draft is gone (PDP).
    revoke_phone(browser, live_server)
    signed_out_by_the_server(page, context)
    assert [d["user"] for d in drafts(page)] == ["petugas"]
    page.get_by_label("Nama pengguna").fill("petugas2")
    page.get_by_label("Kata sandi").fill("rahasia-petugas2")
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_role("heading", name="Daftar warga")).to_be_visible()
    page.get_by_role("button", name="Daftarkan warga baru").click()
    expect(page.get_by_label("Nama lengkap")).to_have_value("")
    expect(page.get_by_text(OFFER)).to_have_count(0)
    assert drafts(page) == []
    context.close()


def test_full_phone_says_memori_hp_penuh(browser, live_server):
    context = browser.new_context()
    context.add_init_script(FULL_PHONE)
    page = context.new_page()
    login_phone(page, live_server)
    context.set_offline(True)
    register(page, "Penuh Uji", birth_date="2004-06-15")
    page.get_by_role("button", name="Ubah data Penuh Uji").click()
    page.evaluate("() => { window.__full = true; }")
    page.get_by_label("Nomor HP").fill("081255556666")
    note = page.locator(".draft-note")
    expect(note).to_have_text(re.compile("^Draf tidak tersimpan: Memori HP penuh"))
    page.get_by_role("button", name="Simpan perubahan").click()
    expect(page.locator("#form-message")).to_contain_text("Memori HP penuh. Hapus foto, video atau aplikasi")
    expect(page.locator("#form-message")).not_to_contain_text("quota")
    context.close()


def test_signature_keeps_its_proportions_when_the_phone_is_rotated(browser, live_server):
    context, page = phone(browser, live_server, viewport={"width": 860, "height": 420})
    rid = put_case(page, context, "Putar Uji", "card_collected")
    page.goto(f"{live_server.url}/app/#/warga/{rid}/serahkan-ktp")
    page.get_by_label("Pemilik", exact=True).check()
    draw(page, [square(30, 30, 80)])
    page.set_viewport_size({"width": 400, "height": 860})  # rotated to portrait mid-signature
    draw(page, [square(200, 40, 80)])
    box = page.locator("#signature-pad").bounding_box()
    page.get_by_role("button", name="Simpan penyerahan KTP").click()
    expect(page.locator("#notice")).to_have_text("Tersimpan di HP: Penyerahan KTP Putar Uji.")
    signature = page.evaluate(READ_SIGNATURE)
    assert abs(signature["width"] - box["width"]) <= 1, (signature["width"], box)
    for stroke in signature["strokes"]:
        xs, ys = [p[0] for p in stroke], [p[1] for p in stroke]
        w, h = max(xs) - min(xs), max(ys) - min(ys)
        assert abs(w - h) <= 0.1 * max(w, h), json.dumps(signature)
    # The stroke drawn after the rotation is stored 1:1 (80 CSS px).
    last = signature["strokes"][-1]
    assert 75 <= max(p[0] for p in last) - min(p[0] for p in last) <= 82, json.dumps(signature)
    context.close()


def test_home_returns_to_the_list_the_officer_came_from(browser, live_server):
    context, page = phone(browser, live_server, viewport={"width": 400, "height": 700})
    context.set_offline(True)
    people = [{"id": str(uuid.uuid4()), "name": f"Daftar Uji {i:02d}", "stage": "listed", "desa": DESA}
              for i in range(30)]
    page.evaluate(PUT_RESIDENTS, people)
    page.reload()
    worklist = page.get_by_role("navigation", name="Daftar kerja")
    worklist.get_by_role("button", name=re.compile("^Belum ditemukan")).click()
    target = page.get_by_role("button", name="Buka Daftar Uji 25")
    target.scroll_into_view_if_needed()
    before = page.evaluate("() => window.scrollY")
    assert before > 500, before
    target.click()
    expect(page.get_by_role("heading", name="Daftar Uji 25")).to_be_visible()
    assert page.evaluate("() => window.scrollY") == 0
    page.get_by_role("button", name="Kembali ke daftar warga").click()
    expect(page.get_by_role("heading", name="Daftar warga")).to_be_visible()
    expect(worklist.get_by_role("button", name=re.compile("^Belum ditemukan"))).to_have_attribute("aria-pressed", "true")
    assert abs(page.evaluate("() => window.scrollY") - before) <= 2
    expect(target).to_be_in_viewport()

    # The phone's Back button does the same.
    target.click()
    expect(page.get_by_role("heading", name="Daftar Uji 25")).to_be_visible()
    page.go_back()
    expect(page.get_by_role("heading", name="Daftar warga")).to_be_visible()
    assert abs(page.evaluate("() => window.scrollY") - before) <= 2
    context.close()
