"""CAH over HTTPS as docs/deploy.md installs it (issue #9): Debian's nginx running
deploy/nginx/*.conf, with a certificate from deploy/local-ca.sh, in front of `pakkedes serve`
configured from deploy/cah.env.example.

Chromium trusts the test CA through its NSS store (certutil, Debian's libnss3-tools, in a
temporary HOME), the way a phone trusts a kecamatan's local CA: no
--ignore-certificate-errors of any kind, so the page loads only if the certificate really
verifies (chain, host name, name constraints). The site's host name is not localhost, which
browsers treat as secure even over plain HTTP: the service worker runs only because of HTTPS.
"""
import http.client
import json
import ssl
import subprocess
import time

import pytest
from playwright.sync_api import expect, sync_playwright

from deploy_kit import HOST, https_connection, request, tls_context, tls_socket
from e2e_kit import CHROMIUM, CHROMIUM_ARGS, login_phone, register, server_rows
from server.config import Defaults
from server.web.recovery import DEFAULT_MAX_BYTES

pytestmark = pytest.mark.e2e


def test_tls_13_only_with_http2_and_keep_alive(deployed, certs):
    _server, nginx = deployed
    with tls_socket(nginx.https_port, tls_context(certs / "ca.crt", alpn=["h2", "http/1.1"])) as s:
        assert s.version() == "TLSv1.3"
        assert s.selected_alpn_protocol() == "h2"
    with pytest.raises(ssl.SSLError):
        tls_socket(nginx.https_port, tls_context(certs / "ca.crt",
                                                 maximum=ssl.TLSVersion.TLSv1_2))
    connection = https_connection(nginx.https_port, tls_context(certs / "ca.crt"))
    first = connection.sock
    for _ in range(2):
        status, headers, _body = request(connection, "GET", "/api/health")
        assert status == 200 and headers.get("connection") != "close"
    assert connection.sock is first, "the second request reused the connection"
    connection.close()


def test_plain_http_redirects_except_the_acme_challenge(deployed):
    _server, nginx = deployed
    challenge = nginx.webroot / ".well-known" / "acme-challenge"
    challenge.mkdir(parents=True, exist_ok=True)
    (challenge / "token-uji").write_text("token-uji.kunci")
    connection = _plain(nginx)
    status, headers, _ = request(connection, "GET", "/app/?x=1", headers={"Host": HOST})
    assert status == 301 and headers["location"] == f"https://{HOST}/app/?x=1"
    status, _, body = request(connection, "GET", "/.well-known/acme-challenge/token-uji",
                              headers={"Host": HOST})
    assert (status, body) == (200, b"token-uji.kunci")
    connection.close()


def _plain(nginx):
    return http.client.HTTPConnection("127.0.0.1", nginx.http_port, timeout=10)


@pytest.mark.parametrize("method, path, cap, app_code", [
    ("POST", "/api/sync", Defaults.MAX_CONTENT_LENGTH, "malformed_json"),
    ("PUT", "/api/attachments/" + "a" * 64, Defaults.ATTACHMENT_MAX_BYTES,
     "unsupported_media_type")])
def test_body_limits_match_the_apps_caps(deployed, certs, method, path, cap, app_code):
    _server, nginx = deployed
    context = tls_context(certs / "ca.crt")
    connection = https_connection(nginx.https_port, context)
    status, _, body = request(connection, "POST", "/api/auth/device", body=json.dumps({
        "username": "petugas", "password": "rahasia-petugas", "device_label": "uji batas"}),
        headers={"Content-Type": "application/json"})
    assert status == 201, body
    headers = {"Authorization": f"Bearer {json.loads(body)['token']}",
               "Content-Type": "application/octet-stream"}
    # At the cap the body passes nginx and the app reads it (and refuses what it holds).
    status, _, body = request(connection, method, path, body=b"x" * cap, headers=headers)
    assert json.loads(body)["code"] == app_code, (status, body[:300])
    connection.close()
    # One byte more is refused by nginx, in the app's own JSON error shape.
    connection = https_connection(nginx.https_port, context)
    status, answer_headers, body = request(connection, method, path, body=b"x" * (cap + 1),
                                           headers=headers)
    assert status == 413 and answer_headers["content-type"].startswith("application/json")
    assert json.loads(body) == {"code": "payload_too_large", "fields": {}, "message":
                                "Data yang dikirim terlalu besar. Kirim dalam beberapa bagian."}
    connection.close()


def test_the_recovery_upload_may_carry_photos_past_the_general_cap(deployed, certs):
    # A lost phone's unsent file with its photos is larger than the 2 MiB every other request
    # may be: nginx lets it through to the app (here: no office session, so the login page),
    # and still refuses more than the app's RECOVERY_MAX_BYTES.
    _server, nginx = deployed
    context = tls_context(certs / "ca.crt")
    headers = {"Content-Type": "multipart/form-data; boundary=batas"}
    upload = (b'--batas\r\nContent-Disposition: form-data; name="file"; filename="hp.json"\r\n'
              b"Content-Type: application/json\r\n\r\n" + b"x" * (5 * 1024 * 1024)
              + b"\r\n--batas--\r\n")
    connection = https_connection(nginx.https_port, context)
    status, _, body = request(connection, "POST", "/pemulihan", body=upload, headers=headers)
    assert status in (302, 400), (status, body[:300])
    connection.close()
    connection = https_connection(nginx.https_port, context)
    status, _, body = request(connection, "POST", "/pemulihan",
                              body=b"x" * (DEFAULT_MAX_BYTES + 1), headers=headers)
    assert status == 413 and json.loads(body)["code"] == "payload_too_large"
    connection.close()


def test_refusal_before_the_body_is_read_reaches_the_phone(deployed, certs):
    # A phone whose token was revoked sends its whole outbox; the app refuses it from the
    # header alone. Unless the app reads the rest of the body first, nginx answers 502 or
    # resets the connection (seen about one time in three), and the phone never learns that
    # it must log in again.
    _server, nginx = deployed
    context = tls_context(certs / "ca.crt")
    headers = {"Authorization": "Bearer dicabut-atau-tidak-dikenal",
               "Content-Type": "application/json"}
    body = b'{"mutations": [' + b" " * (Defaults.MAX_CONTENT_LENGTH - 20) + b"]}"
    connection = https_connection(nginx.https_port, context)
    for attempt in range(8):
        status, _, answer = request(connection, "POST", "/api/sync", body=body, headers=headers)
        assert status == 401, (attempt, status, answer[:200])
        assert json.loads(answer)["code"] == "unauthorized"
    connection.close()


def test_slow_uploads_cannot_hold_the_apps_workers(deployed, certs):
    server, nginx = deployed
    context = tls_context(certs / "ca.crt")
    # More stalled uploads than the server has worker threads (2 workers × 4 threads), to
    # the device login, which reads its body before anything else.
    stalled = []
    try:
        for _ in range(12):
            s = tls_socket(nginx.https_port, context)
            s.sendall(f"POST /api/auth/device HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: "
                      f"application/json\r\nContent-Length: 1000\r\n\r\n{{\"username\"".encode())
            stalled.append(s)
        time.sleep(1)
        connection = https_connection(nginx.https_port, context, timeout=5)
        started = time.monotonic()
        status, _, body = request(connection, "GET", "/api/health")
        assert status == 200 and json.loads(body)["database"] == "ok"
        assert time.monotonic() - started < 3
        connection.close()
    finally:
        for s in stalled:
            s.close()


def test_health_through_nginx_is_not_cached(deployed, certs):
    _server, nginx = deployed
    connection = https_connection(nginx.https_port, tls_context(certs / "ca.crt"))
    status, headers, body = request(connection, "GET", "/api/health")
    assert status == 200 and headers["cache-control"] == "no-store"
    assert json.loads(body)["status"] == "ok"
    assert "strict-transport-security" in headers  # CAH_ENV=production from the template
    connection.close()


def test_local_ca_vouches_for_no_other_name(certs, tmp_path):
    # A stolen ca.key must not let anyone pose as another site to the phones that trust it.
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(tmp_path / "k"),
                    "-out", str(tmp_path / "csr"), "-subj", "/CN=bank.example"],
                   check=True, capture_output=True)
    (tmp_path / "ext").write_text("subjectAltName=DNS:bank.example\n"
                                  "extendedKeyUsage=serverAuth\n")
    subprocess.run(["openssl", "x509", "-req", "-in", str(tmp_path / "csr"), "-CA",
                    str(certs / "ca.crt"), "-CAkey", str(certs / "ca.key"), "-set_serial", "7",
                    "-days", "30", "-extfile", str(tmp_path / "ext"),
                    "-out", str(tmp_path / "rogue.crt")], check=True, capture_output=True)
    rogue = subprocess.run(["openssl", "verify", "-CAfile", str(certs / "ca.crt"),
                            str(tmp_path / "rogue.crt")], capture_output=True, text=True)
    assert rogue.returncode != 0 and "subtree" in rogue.stdout + rogue.stderr
    good = subprocess.run(["openssl", "verify", "-CAfile", str(certs / "ca.crt"),
                           str(certs / "server.crt")], capture_output=True, text=True)
    assert good.returncode == 0, good.stdout + good.stderr


def _trusting_home(home, ca_file):
    """A HOME whose NSS store (what Chromium on Linux trusts) holds the test CA."""
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    subprocess.run(["certutil", "-N", "-d", f"sql:{nssdb}", "--empty-password"], check=True,
                   capture_output=True)
    subprocess.run(["certutil", "-A", "-d", f"sql:{nssdb}", "-n", "CAH uji CA", "-t", "C,,",
                    "-i", str(ca_file)], check=True, capture_output=True)
    return home


class _Site:
    """What e2e_kit's phone helpers need of a server: its address."""

    def __init__(self, url):
        self.url = url


def test_phone_logs_in_over_https_registers_offline_and_syncs_through_nginx(
        deployed, certs, tmp_path):
    server, nginx = deployed
    home = _trusting_home(tmp_path / "home", certs / "ca.crt")
    site = _Site(f"https://{HOST}:{nginx.https_port}")
    # A Playwright driver of its own (the sync API allows one at a time): Chromium must start
    # with the HOME that holds the NSS store.
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_ARGS + [f"--host-resolver-rules=MAP {HOST} 127.0.0.1"],
            env={"HOME": str(home), "PATH": "/usr/bin:/bin"})
        try:
            context = browser.new_context()
            page = context.new_page()
            login_phone(page, site)
            assert page.evaluate("window.isSecureContext") is True
            assert page.evaluate("performance.getEntriesByType('navigation')[0]"
                                 ".nextHopProtocol") == "h2"
            assert page.evaluate("""async () => {
                const registration = await navigator.serviceWorker.ready;
                return registration.active.state;
            }""") == "activated"

            context.set_offline(True)
            page.reload()  # served by the service worker
            expect(page.locator("#net-status")).to_have_text("Tanpa sinyal")
            register(page, "Nadia Uji Https", nik="6311045506080003", kk_number="6311040101200001")
            expect(page.locator("#outbox-count")).to_have_text("1")
            assert server_rows(server, "select count(*) from residents")[0][0] == 0

            context.set_offline(False)
            page.get_by_role("button", name="Sinkronkan sekarang").click()
            expect(page.locator("#outbox-count")).to_have_text("0", timeout=15000)
            rows = server_rows(server, "select name from residents")
            assert [name for (name,) in rows] == ["Nadia Uji Https"]
            assert server_rows(server, "select count(*) from resident_events")[0][0] == 1
            assert page.evaluate("navigator.serviceWorker.controller !== null") is True
            context.close()
        finally:
            browser.close()
    _logged(nginx, "POST /api/sync HTTP/2.0\" 200")  # through nginx, over HTTP/2


def test_access_log_keeps_paths_without_query_strings(deployed, certs):
    _server, nginx = deployed
    connection = https_connection(nginx.https_port, tls_context(certs / "ca.crt"))
    status, _, _ = request(connection, "GET", "/residents?q=Nadia+Uji+Rahasia&nik=6311045506080003")
    assert status in (200, 302)
    connection.close()
    log = _logged(nginx, '"GET /residents HTTP/1.1" ')
    assert "Rahasia" not in log and "6311045506080003" not in log


def _logged(nginx, needle):
    """The access log once it holds needle (nginx writes it just after the answer)."""
    deadline = time.monotonic() + 5
    while True:
        log = nginx.access_log.read_text()
        if needle in log or time.monotonic() > deadline:
            assert needle in log, log[-2000:]
            return log
        time.sleep(0.05)
