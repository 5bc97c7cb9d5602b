"""Step times in order on the phone (issue #11 §3): with no signal, the delivery form refuses
a delivery time before that card's collection (known from the last sync) and names it."""
import json
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone

from playwright.sync_api import expect

from cah_testkit import registration
from e2e_kit import login_phone, server_rows

WITA = timezone(timedelta(hours=8))
DESA = "6311042005"


def api(server, path, body, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(server.url + path, json.dumps(body).encode(), headers)
    with urllib.request.urlopen(request) as answer:
        return json.loads(answer.read())


def collected_case(server, name, collected_at):
    """Another phone (petugas2) takes a case to "KTP Diambil", collected at `collected_at`."""
    device = api(server, "/api/auth/device", {"username": "petugas2",
                                               "password": "rahasia-petugas2",
                                               "device_label": "HP lain"})
    earlier = (collected_at - timedelta(days=1)).isoformat()
    reg = registration(1, name=name, desa=DESA)
    rid = reg["args"]["resident_id"]
    steps = [
        ("verify_resident", {"resident_id": rid, "notes": "", "kk_photo": None, "checks": {
            "kk_copy_seen": True, "age_eligible": True, "marital_eligible": True}}),
        ("pick_up", {"pickup_id": str(uuid.uuid4()), "resident_ids": [rid], "picked_up_at": earlier,
                     "pickup_point": "Balai Desa", "vehicle": "Mobil kecamatan"}),
        ("record_done", {"resident_id": rid, "recorded_at": earlier}),
        ("handover_batch", {"batch_id": (batch := str(uuid.uuid4())), "number": "BA/URUT/1",
                            "handed_at": earlier, "resident_ids": [rid], "notes": None}),
        ("record_collection", {"batch_id": batch, "collected_at": collected_at.isoformat(),
                               "items": [{"resident_id": rid, "outcome": "collected",
                                          "reason": None, "reason_text": None}]}),
    ]
    mutations = [reg] + [{"id": i, "name": n, "at": earlier, "args": a}
                         for i, (n, a) in enumerate(steps, start=2)]
    answer = api(server, "/api/sync", {
        "protocol": 1, "client_id": device["client_id"], "app_version": "test",
        "sent_at": datetime.now(timezone.utc).isoformat(), "cursor": None,
        "mutations": mutations}, device["token"])
    assert {r["status"] for r in answer["results"]} == {"applied"}, answer["results"]
    return rid


def sign(page):
    box = page.locator("#signature-pad").bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 40)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 20 + step * 15, box["y"] + 40 + (step % 3) * 20, steps=2)
    page.mouse.up()


def test_the_delivery_form_refuses_a_time_before_the_collection(browser, live_server):
    name = "Rina Urutan"
    collected = (datetime.now(WITA) - timedelta(hours=2)).replace(second=0, microsecond=0)
    rid = collected_case(live_server, name, collected)
    context = browser.new_context(viewport={"width": 400, "height": 860})
    page = context.new_page()
    login_phone(page, live_server)
    expect(page.locator("#case-list li").filter(has_text=name)).to_contain_text("KTP Diambil")

    context.set_offline(True)
    page.get_by_role("button", name=f"Buka {name}").click()
    page.get_by_role("button", name="Serahkan KTP").click()
    early = collected - timedelta(hours=1)
    page.locator("#d-delivered_at").fill(early.strftime("%d/%m/%Y"))
    page.locator("#d-delivered_at-time").fill(early.strftime("%H:%M"))
    sign(page)
    page.get_by_role("button", name="Simpan penyerahan KTP").click()
    expect(page.locator("#m-d-delivered_at")).to_have_text(
        f"Waktu ini lebih awal dari pengambilan KTP ({collected.strftime('%d/%m/%Y %H.%M')} WITA). "
        "Periksa tanggal dan jam.")
    expect(page.locator("#outbox-count")).to_have_text("0")  # nothing was saved

    # The same minute as the collection is in order: saved.
    page.locator("#d-delivered_at").fill(collected.strftime("%d/%m/%Y"))
    page.locator("#d-delivered_at-time").fill(collected.strftime("%H:%M"))
    page.get_by_role("button", name="Simpan penyerahan KTP").click()
    expect(page.locator("#notice")).to_have_text(f"Tersimpan di HP: Penyerahan KTP {name}.")
    expect(page.locator("#outbox-count")).to_have_text("1")
    assert server_rows(live_server, "select stage from residents where resident_id = :r",
                       r=rid)[0][0] == "card_collected"
    context.close()
