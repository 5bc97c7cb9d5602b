"""The real phone app in headless Chromium on a bad day: random connection cuts on a slow
link, a server killed in the middle of its sync, an app update arriving while the outbox
holds records. Records are made with the app's form (a few) and its own storage module
(the rest, quickly)."""
import shutil

from playwright.sync_api import expect

from bench import data
from bench.harness import REPO
from bench.phone import (
    login_phone,
    outbox_size,
    queue_in_app,
    queue_registrations_offline,
    register_via_form,
    sync_now,
    wait_sync_end,
    watch_sync,
)

TIME_LIMIT = 150


def _assert_exactly_once(server, client_count, made, mutations):
    """Every record once (the form makes its own resident ids: compare names too)."""
    rows = server.sql("select resident_id, name from residents")
    assert sorted(n for _, n in rows) == sorted(a["name"] for a in made)
    assert len({r for r, _ in rows}) == len(made)
    assert server.sql("select count(*) from resident_events")[0][0] == mutations
    rows = server.sql("select last_mutation_id from clients where last_mutation_id > 0")
    assert len(rows) == client_count and sum(r for (r,) in rows) == mutations


def test_phone_syncs_through_random_cuts_until_everything_arrived(servers, proxies, chromium):
    server = servers()
    link = proxies(server.port, kbps=0, rtt_ms=0)  # clean while the app installs

    def body(_pw, browser):
        context = browser.new_context()
        page = context.new_page()
        login_phone(page, link.url)
        context.set_offline(True)
        link.stop()
        made = data.registrations(14, seed=31)
        for args in made[:2]:
            register_via_form(page, args)
        queue_in_app(page, [("register_resident", a) for a in made[2:8]])
        # a 2G link that cuts most connections somewhere in the request or the answer
        link.start(kbps=100, rtt_ms=200, drop_prob=0.6, drop_max_bytes=9000, seed=7)
        context.set_offline(False)
        watch_sync(page)
        later = iter(made[8:])
        for attempt in range(40):
            if outbox_size(page) == 0:
                break
            sync_now(page, timeout=60000)
            if attempt < 3:  # the officer keeps working between attempts
                queue_in_app(page, [("register_resident", a) for a in [next(later), next(later)]])
        assert outbox_size(page) == 0, "records still waiting after 40 attempts"
        page.reload()
        expect(page.locator("#outbox-count")).to_have_text("0")
        expect(page.locator("#case-list li")).to_have_count(14)
        context.close()
        return made

    made = chromium(body, timeout=TIME_LIMIT - 10)
    stats = link.stop()
    assert stats["connections_dropped"] >= 2, stats
    _assert_exactly_once(server, 1, made, 14)


def test_server_killed_while_the_phone_syncs(database_url, servers, proxies, chromium):
    server = servers(database_url)
    link = proxies(server.port, kbps=0, rtt_ms=0)

    def body(_pw, browser):
        context = browser.new_context()
        page = context.new_page()
        login_phone(page, link.url)
        made, _queued = queue_registrations_offline(context, page, link, 30, seed=41)
        # slow upload: the request is still on its way when the server dies
        link.start(kbps=16, rtt_ms=100)
        mark = watch_sync(page)
        context.set_offline(False)  # the app syncs on "online"
        deadline_polls = 400
        for _ in range(deadline_polls):
            if link.read_stats().get("bytes_up", 0) > 1200:
                break
            page.wait_for_timeout(25)
        server.kill()
        status = wait_sync_end(page, mark, timeout=60000)
        # The app reports a broken connection as the link's fault (and retries by itself),
        # never as a server problem, and keeps everything queued.
        assert status.startswith(("Sinyal terputus", "Tidak ada sinyal")), status
        assert outbox_size(page) == 30, "a failed sync must keep every record"
        link.stop()
        assert server.sql("select count(*) from residents")[0][0] == 0, \
            "the kill was meant to land while the request was still going up"
        server.start()
        link.start(kbps=0, rtt_ms=0)  # the retry need not crawl
        sync_now(page)
        assert outbox_size(page) == 0
        context.close()
        return made

    made = chromium(body, timeout=TIME_LIMIT - 10)
    _assert_exactly_once(server, 1, made, 30)


def test_app_update_while_the_outbox_holds_records(tmp_path, servers, chromium):
    pwa = tmp_path / "pwa"
    shutil.copytree(REPO / "pwa", pwa)
    server = servers(extra_env={"CAH_PWA_DIR": str(pwa)})

    def body(_pw, browser):
        context = browser.new_context()
        page = context.new_page()
        login_phone(page, server.url)
        old_caches = page.evaluate("caches.keys()")
        context.set_offline(True)
        made = data.registrations(5, seed=51)
        register_via_form(page, made[0])
        queue_in_app(page, [("register_resident", a) for a in made[1:]])
        page.reload()
        expect(page.locator("#outbox-count")).to_have_text("5")

        # A new version is deployed while the phone is away.
        with open(pwa / "css" / "app.css", "a") as css:
            css.write("\n/* versi 2 */\n")
        server.stop()
        server.start()
        # Back in signal, but the sync fails (a flaky link): the update still arrives.
        page.route("**/api/sync", lambda route: route.abort("connectionreset"))
        context.set_offline(False)
        expect(page.locator("#update-banner")).to_be_visible(timeout=20000)
        expect(page.locator("#outbox-count")).to_have_text("5")
        with page.expect_navigation(timeout=20000):  # the app reloads once v2 took over
            page.get_by_role("button", name="Perbarui").click()
        expect(page.locator("html")).to_have_attribute("data-offline-ready", "true",
                                                       timeout=20000)
        expect(page.locator("#update-banner")).to_be_hidden()
        new_caches = page.evaluate("caches.keys()")
        assert len(new_caches) == 1 and new_caches != old_caches, (old_caches, new_caches)
        assert "versi 2" in page.evaluate(
            "fetch('css/app.css').then((r) => r.text())")
        expect(page.locator("#outbox-count")).to_have_text("5")
        expect(page.locator("#case-list li")).to_have_count(5)

        page.unroute("**/api/sync")
        sync_now(page)
        expect(page.locator("#outbox-count")).to_have_text("0")
        context.close()
        return made

    made = chromium(body, timeout=TIME_LIMIT - 10)
    _assert_exactly_once(server, 1, made, 5)
