"""The "Unduh data yang belum terkirim" button with many photos (issue #11 review): the file
holds every photo in base64, built in memory, so more than 25 MB of photos asks first ("File
akan besar (… MB). Lanjutkan?"); Batal makes no file, OK makes it."""
from playwright.sync_api import expect

from e2e_kit import login_phone

# A photo waiting for upload, as db.js stores it, of `mib` MiB.
PUT_PHOTO = """async (mib) => {
  const db = await new Promise((resolve) => { const r = indexedDB.open('cah'); r.onsuccess = () => resolve(r.result); });
  const tx = db.transaction(['attachments'], 'readwrite');
  const blob = new Blob([new Uint8Array(mib * 1048576)], { type: 'image/jpeg' });
  tx.objectStore('attachments').put({ sha256: 'ab'.repeat(32), blob, mime: 'image/jpeg', size: blob.size,
    kind: 'kk_photo', resident_id: null, created_at: new Date().toISOString(), ready: false, offset: 0, failed: null });
  await new Promise((resolve) => { tx.oncomplete = resolve; });
  db.close();
}"""


def test_more_than_25_mb_of_photos_asks_before_the_file_is_made(browser, live_server):
    context = browser.new_context()
    page = context.new_page()
    login_phone(page, live_server)
    context.set_offline(True)
    page.evaluate(PUT_PHOTO, 26)
    page.reload()
    expect(page.locator("#outbox-count")).to_be_visible()
    downloads, asked, answers = [], [], [False, True]
    page.on("download", lambda d: downloads.append(d))
    page.on("dialog", lambda d: (asked.append(d.message), d.accept() if answers.pop(0) else d.dismiss()))
    button = page.get_by_role("button", name="Unduh data yang belum terkirim").first

    with page.expect_event("dialog"):  # the question comes after the photos are counted
        button.click()  # Batal
    assert asked == ["File akan besar (35 MB). Lanjutkan?"]
    with page.expect_download() as saved:
        button.click()  # OK
    assert len(asked) == 2
    assert saved.value.suggested_filename.startswith("cah-belum-terkirim-")
    assert len(downloads) == 1, "Batal made no file"
    context.close()
