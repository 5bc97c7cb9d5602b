"""A new version of the phone app reaches an installed phone whole: after "Perbarui" every file
in the service worker's cache is the new version's, although the browser's HTTP cache still
holds the old copies the install may take files from (pwa/sw.js, DESIGN §5)."""
import hashlib
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from e2e_kit import login_phone
from server.jsstrip import strip_js

PWA = Path(__file__).resolve().parents[2] / "pwa"

CACHED_FILES = """async () => {
  const names = (await caches.keys()).filter((n) => n.startsWith("cah-shell-"));
  const cache = await caches.open(names[0]);
  const out = {};
  for (const request of await cache.keys()) {
    const bytes = await (await cache.match(request)).arrayBuffer();
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    out[new URL(request.url).pathname] = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
  }
  return { names, files: out };
}"""


@pytest.fixture
def shell_copy(tmp_path, monkeypatch):
    """A copy of pwa/ that the server serves and re-reads on every request."""
    root = tmp_path / "pwa"
    shutil.copytree(PWA, root)
    monkeypatch.setenv("CAH_PWA_DIR", str(root))
    monkeypatch.setenv("CAH_PWA_NO_CACHE", "true")
    return root


def _on_disk(root, path):
    rel = path[len("/app/"):] or "index.html"
    body = (root / rel).read_bytes()
    return hashlib.sha256(strip_js(body) if rel.endswith(".js") else body).hexdigest()


def test_an_update_replaces_every_cached_file_with_the_new_version(shell_copy, make_live_server,
                                                                    browser):
    server = make_live_server()
    context = browser.new_context()
    page = context.new_page()
    login_phone(page, server)
    before = page.evaluate(CACHED_FILES)
    assert len(before["names"]) == 1
    assert all(digest == _on_disk(shell_copy, path) for path, digest in before["files"].items())

    # A new release changes one module and the stylesheet; the phone still holds the old ones
    # in its HTTP cache from the first load.
    for rel, line in (("js/labels.js", "export const RELEASE = 2;"),
                      ("css/app.css", ".release-2 { color: inherit; }")):
        with open(shell_copy / rel, "a", encoding="utf-8") as f:
            f.write(f"\n{line}\n")
    page.reload()  # the browser checks sw.js on navigation and installs the new version
    expect(page.locator("#update-banner")).to_be_visible(timeout=20000)
    page.get_by_role("button", name="Perbarui").click()
    page.wait_for_function("""async () => {
      const names = (await caches.keys()).filter((n) => n.startsWith("cah-shell-"));
      return names.length === 1 && navigator.serviceWorker.controller !== null;
    }""")
    expect(page.get_by_role("heading", name="Daftar warga")).to_be_visible()
    after = page.evaluate(CACHED_FILES)
    assert after["names"] != before["names"]
    assert set(after["files"]) == set(before["files"])
    for path, digest in after["files"].items():
        assert digest == _on_disk(shell_copy, path), f"{path} in the new cache is not the new version"
    assert after["files"]["/app/js/labels.js"] != before["files"]["/app/js/labels.js"]

    context.set_offline(True)
    page.reload()
    expect(page.get_by_role("heading", name="Daftar warga")).to_be_visible()
    context.close()
