"""Blueprint that serves the phone app (``pwa/``) at ``/app/``.

There is no front-end build step, so this module does the one build-like job at run time: it
reads the shell files once per app, hashes them into SHELL_VERSION and fills that and the file
list into ``sw.js``, so every shell version gets its own service-worker cache. The files are
kept in memory together with a gzip copy (the 100 KB shell budget is measured on the wire),
JavaScript without its comments and indentation (server/jsstrip.py), and only files of the
shell are served: anything else under ``/app/`` is a 404.
"""
import gzip
import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, redirect, request, url_for
from werkzeug.security import safe_join

from .jsstrip import strip_js

bp = Blueprint("pwa", __name__, url_prefix="/app")

DEFAULT_PWA_DIR = Path(__file__).resolve().parent.parent / "pwa"
# What the service worker precaches (sw.js itself is fetched by the browser, never cached).
SHELL_PATTERNS = ("index.html", "manifest.webmanifest", "css/*.css", "js/*.js", "icons/*.png")
SW_FILE = "sw.js"
# Served (the browser fetches them to install the app) but never shown offline: keeping them
# out of the precache saves ~13 KB on the first load over 2G.
NOT_PRECACHED = frozenset({"icons/icon-512.png", "icons/icon-maskable-512.png"})
VERSION_PLACEHOLDER = '"__SHELL_VERSION__"'
FILES_PLACEHOLDER = "/*__SHELL_FILES__*/"
MIME_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".webmanifest": "application/manifest+json",
    ".png": "image/png",
}
COMPRESSIBLE = {".html", ".js", ".css", ".webmanifest"}  # PNG is compressed already
_lock = threading.Lock()


@dataclass(frozen=True)
class Asset:
    """One servable file: bytes, gzip bytes (or None), MIME type and ETag."""

    body: bytes
    gz: bytes | None
    mimetype: str
    etag: str


@dataclass(frozen=True)
class Shell:
    """The shell snapshot of one app: its version and every servable asset by relative path."""

    version: str
    files: tuple[str, ...]
    assets: dict


def pwa_dir():
    """The folder the phone app is served from (app.config["PWA_DIR"] overrides the default)."""
    return Path(current_app.config.get("PWA_DIR") or DEFAULT_PWA_DIR).resolve()


def shell_files(root):
    """Relative paths of the shell files under root, sorted (the precache list)."""
    found = set()
    for pattern in SHELL_PATTERNS:
        for path in root.glob(pattern):
            if path.is_file():
                found.add(path.relative_to(root).as_posix())
    return tuple(sorted(found))


def compute_version(root, files, sw_template):
    """A sha256 over names and bytes of the shell files and the sw.js template (16 hex digits)."""
    digest = hashlib.sha256()
    for rel in files:
        data = (root / rel).read_bytes()
        # Name and length go in too, so a rename or a moved byte changes the version.
        digest.update(f"{rel}\0{len(data)}\0".encode())
        digest.update(data)
    digest.update(b"sw.js\0" + sw_template)
    return digest.hexdigest()[:16]


def render_sw(template, version, files):
    """sw.js with SHELL_VERSION and SHELL_FILES filled in."""
    text = template.decode("utf-8")
    if VERSION_PLACEHOLDER not in text or FILES_PLACEHOLDER not in text:
        raise RuntimeError("pwa/sw.js lacks the SHELL_VERSION or SHELL_FILES placeholder")
    listed = ", ".join(json.dumps(f) for f in files if f not in NOT_PRECACHED)
    text = text.replace(VERSION_PLACEHOLDER, json.dumps(version), 1)
    return text.replace(FILES_PLACEHOLDER, listed, 1).encode()


def make_asset(rel, body, version):
    """Wrap bytes as an Asset with its MIME type, a gzip copy where worth it, and an ETag."""
    suffix = Path(rel).suffix
    mimetype = MIME_TYPES.get(suffix, "application/octet-stream")
    if suffix == ".js":
        body = strip_js(body)
    gz = gzip.compress(body, compresslevel=9, mtime=0) if suffix in COMPRESSIBLE else None
    if gz is not None and len(gz) >= len(body):
        gz = None
    etag = hashlib.sha256(body).hexdigest()[:20] + "-" + version[:8]
    return Asset(body=body, gz=gz, mimetype=mimetype, etag=etag)


def build_shell(root):
    """Read, hash and compress the whole shell once."""
    files = shell_files(root)
    if "index.html" not in files:
        raise RuntimeError(f"no phone app found in {root}")
    template = (root / SW_FILE).read_bytes()
    version = compute_version(root, files, template)
    assets = {rel: make_asset(rel, (root / rel).read_bytes(), version) for rel in files}
    assets[SW_FILE] = make_asset(SW_FILE, render_sw(template, version, files), version)
    return Shell(version=version, files=files, assets=assets)


def get_shell():
    """The app's shell snapshot: computed once per app and cached (rebuilt per request in debug)."""
    app = current_app._get_current_object()
    if app.debug or app.config.get("PWA_NO_CACHE"):
        return build_shell(pwa_dir())
    shell = app.extensions.get("cah_pwa_shell")
    if shell is None:
        with _lock:
            shell = app.extensions.get("cah_pwa_shell")
            if shell is None:
                shell = app.extensions["cah_pwa_shell"] = build_shell(pwa_dir())
    return shell


def accepts_gzip():
    """True when the client takes gzip (Accept-Encoding: gzip with a non-zero q)."""
    return request.accept_encodings["gzip"] > 0


def serve(rel):
    """Answer with one asset of the shell: gzip when accepted, 304 when the ETag matches."""
    # safe_join refuses "..", absolute paths and the like before the lookup below.
    if safe_join(str(pwa_dir()), rel) is None:
        abort(404)
    asset = get_shell().assets.get(rel)
    if asset is None:
        abort(404)
    use_gz = asset.gz is not None and accepts_gzip()
    etag = asset.etag + ("-gz" if use_gz else "")
    response = Response(content_type=asset.mimetype)
    response.set_etag(etag)
    if asset.gz is not None:
        response.vary.add("Accept-Encoding")
    # The service worker keeps its own versioned copy; HTTP caches must always revalidate.
    response.headers["Cache-Control"] = "no-cache"
    if rel == SW_FILE:
        response.headers["Service-Worker-Allowed"] = "/app/"
    if request.if_none_match.contains(etag):
        response.status_code = 304
        return response
    body = asset.gz if use_gz else asset.body
    if use_gz:
        response.headers["Content-Encoding"] = "gzip"
    response.set_data(body)
    return response


@bp.get("")
def app_root():
    """/app → /app/ (relative URLs in the shell need the trailing slash)."""
    return redirect(url_for("pwa.index"), code=301)


@bp.get("/")
def index():
    """The app shell's HTML page."""
    return serve("index.html")


@bp.get("/<path:filename>")
def asset(filename):
    """A file of the shell, or sw.js with its version filled in."""
    return serve(filename)
