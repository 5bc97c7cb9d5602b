"""Helpers of the deployment tests (a unique module name: every conftest is imported as
"conftest"): Debian's nginx running the shipped site files, a CA made by deploy/local-ca.sh,
and small TLS clients that connect to 127.0.0.1 under the site's host name."""
import http.client
import os
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
# Not localhost or 127.0.0.1: browsers treat those as secure even over plain HTTP, and the
# service-worker check must owe everything to HTTPS. Chromium maps it to 127.0.0.1.
HOST = "cah.kecamatan.test"
SHIPPED_NAME = "cah.example.go.id"


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nginx_binary():
    """Debian's nginx, or None (/usr/sbin is not on every PATH)."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")


def make_certificates(directory):
    """Run deploy/local-ca.sh for HOST; returns the folder with ca.crt, server.crt/.key."""
    subprocess.run(["sh", str(DEPLOY / "local-ca.sh"), str(directory), HOST], check=True,
                   capture_output=True)
    return Path(directory)


def env_template():
    """The KEY=value lines of deploy/cah.env.example, as a dict."""
    settings = {}
    for line in (DEPLOY / "cah.env.example").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            settings[key] = value
    return settings


def _substitute(text, replacements):
    for old, new in replacements:
        # A site file that no longer says what is replaced here must fail the test, not
        # quietly run with the shipped values.
        assert old in text, f"{old!r} not found in the shipped nginx site"
        text = text.replace(old, new)
    return text


class Nginx:
    """The shipped deploy/nginx sites in a private prefix, as a non-daemon child process.

    Only the listen addresses, the names, the certificate paths, the ACME folder and the
    upstream port differ from the shipped files.
    """

    def __init__(self, workdir, upstream_port, certs):
        self.binary = nginx_binary()
        self.prefix = Path(workdir)
        self.https_port, self.http_port = free_port(), free_port()
        self.webroot = self.prefix / "acme"
        self.upstream_port = upstream_port
        self.certs = Path(certs)
        self.access_log = self.prefix / "logs" / "cah.access.log"
        self.proc = None

    def write_config(self, site_edits=()):
        """Write nginx.conf and the two sites (cah-http.conf first, as sites-enabled/ sorts
        them); site_edits: extra (old, new) replacements in cah.conf."""
        for sub in ("logs", "temp", "sites", "acme"):
            (self.prefix / sub).mkdir(parents=True, exist_ok=True)
        https = _substitute((DEPLOY / "nginx" / "cah.conf").read_text(), [
            ("listen 443 ssl http2;", f"listen 127.0.0.1:{self.https_port} ssl http2;"),
            ("listen [::]:443 ssl http2;", ""),
            (f"/etc/letsencrypt/live/{SHIPPED_NAME}/fullchain.pem",
             str(self.certs / "server.crt")),
            (f"/etc/letsencrypt/live/{SHIPPED_NAME}/privkey.pem", str(self.certs / "server.key")),
            (SHIPPED_NAME, HOST),
            ("server 127.0.0.1:8000;", f"server 127.0.0.1:{self.upstream_port};"),
            ("/var/log/nginx/cah.access.log", str(self.access_log)),
            *site_edits,
        ])
        plain = _substitute((DEPLOY / "nginx" / "cah-http.conf").read_text(), [
            ("listen 80;", f"listen 127.0.0.1:{self.http_port};"),
            ("listen [::]:80;", ""),
            (SHIPPED_NAME, HOST),
            ("root /var/www/letsencrypt;", f"root {self.webroot};"),
            ("/var/log/nginx/cah-http.access.log", str(self.prefix / "logs" / "http.log")),
        ])
        (self.prefix / "sites" / "cah.conf").write_text(https)
        (self.prefix / "sites" / "cah-http.conf").write_text(plain)
        temp = self.prefix / "temp"
        # As root the master hands requests to workers of another user, which could not
        # enter pytest's private temporary folders.
        user = "user root;" if os.geteuid() == 0 else ""
        (self.prefix / "nginx.conf").write_text(f"""
{user}
daemon off;
worker_processes 1;
pid {self.prefix}/nginx.pid;
error_log {self.prefix}/logs/error.log warn;
events {{ worker_connections 256; }}
http {{
    default_type application/octet-stream;
    client_body_temp_path {temp}/client_body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {self.prefix}/sites/cah-http.conf;
    include {self.prefix}/sites/cah.conf;
}}
""")

    def start(self):
        """Start nginx and wait until both ports answer; raises RuntimeError with its log."""
        log = open(self.prefix / "logs" / "nginx.out", "wb")
        self.proc = subprocess.Popen(
            [self.binary, "-p", str(self.prefix), "-c", str(self.prefix / "nginx.conf"),
             "-e", str(self.prefix / "logs" / "error.log")],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                for port in (self.https_port, self.http_port):
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("nginx did not start:\n" + self.logs())

    def logs(self):
        """nginx's own output and error log."""
        parts = []
        for name in ("nginx.out", "error.log"):
            path = self.prefix / "logs" / name
            if path.exists():
                parts.append(path.read_text(errors="replace"))
        return "\n".join(parts)

    def stop(self):
        """Stop nginx (fast shutdown)."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def tls_context(ca_file, *, maximum=None, alpn=None):
    """A client context that trusts only the test CA."""
    context = ssl.create_default_context(cafile=str(ca_file))
    if maximum is not None:
        context.maximum_version = maximum
    if alpn:
        context.set_alpn_protocols(alpn)
    return context


def tls_socket(port, context, timeout=10):
    """A TLS connection to 127.0.0.1:port that checks the certificate for HOST."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        return context.wrap_socket(raw, server_hostname=HOST)
    except BaseException:
        raw.close()
        raise


def https_connection(port, context, timeout=30):
    """An HTTP/1.1 connection over tls_socket; the Host header names HOST."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    connection.sock = tls_socket(port, context, timeout)
    return connection


def request(connection, method, path, body=None, headers=None):
    """One request; returns (status, headers as a dict with lower-case names, body bytes)."""
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    data = response.read()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data
