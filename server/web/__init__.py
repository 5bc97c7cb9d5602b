"""Office web view for the camat and operator (server-rendered, Indonesian)."""
from flask import Blueprint, current_app, g, redirect, url_for

from ..auth import home_url, office_login_required

bp = Blueprint("web", __name__)

# (endpoint, label, roles): links show only when the page exists and the role may open it.
NAV = (
    ("web.dashboard", "Dasbor", ("camat", "operator")),
    ("web.residents", "Data Penduduk", ("camat", "operator")),
    ("web.operations", "Aksi & Penugasan", ("camat", "operator")),
    ("web.conflicts", "Konflik", ("camat", "operator")),
    ("web.perekaman", "Perekaman", ("camat", "operator")),
    ("web.batches", "Serah Terima Disdukcapil", ("camat", "operator")),
    ("web.reports", "Laporan", ("camat", "operator")),
    ("web.users", "Pengguna", ("camat", "operator")),
    ("web.devices", "Perangkat", ("camat", "operator")),
    ("web.recovery", "Pulihkan Data HP", ("camat", "operator")),
    ("web.audit_log", "Log Audit", ("camat", "operator")),
    # Disdukcapil's own area (server/registry/): nothing of the office's
    ("registry.dashboard", "Rekap Kabupaten", ("disdukcapil",)),
    ("registry.batches", "Berkas dari Kecamatan", ("disdukcapil",)),
)


@bp.app_context_processor
def navigation():
    """The navigation links the current user may see."""
    user = g.get("user")
    links = []
    if user is not None:
        for endpoint, label, roles in NAV:
            if endpoint in current_app.view_functions and user.role in roles:
                links.append((url_for(endpoint), label))
    return {"nav_links": links}


@bp.after_request
def no_store(response):
    """Office pages hold names, NIKs and KKs: no browser or proxy cache may keep a copy
    (a shared office PC's back button or disk cache must not show them to the next user)."""
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico on their own: the phone app's icon (pages link it too)."""
    return redirect(url_for("pwa.asset", filename="icons/icon-192.png"), code=301)


@bp.get("/")
def index():
    """The office home: the dashboard when it exists, else the residents list; a Disdukcapil
    user's home is their own area (the brand link and error pages lead here)."""
    if g.user is not None and g.user.role == "disdukcapil":
        return redirect(home_url(g.user))
    return _office_index()


@office_login_required
def _office_index():
    if "web.dashboard" in current_app.view_functions:
        return redirect(url_for("web.dashboard"))
    return redirect(url_for("web.residents"))


# One module per page area; each registers its routes on `bp` when imported, so it is imported
# after `bp` exists (add a new page module here).
from . import (  # noqa: E402,F401
    audit,  # /audit
    batch_receipt,  # Disdukcapil's receipt and marks on the batches pages, "KTP siap diambil"
    batches,  # /batches…
    conflicts,  # /conflicts…
    dashboard,  # /dashboard
    identity,  # POST /residents/<id>/identity: the identity correction
    imports,  # /operations/<id>/import…: the list import
    operations,  # /operations…
    perekaman,  # /perekaman: recording results entered at the kecamatan office
    photos,  # GET /attachments/<sha256>: a stored photo
    recovery,  # /pemulihan: a phone's unsent-data file applied in the office
    reports,  # /reports…, /residents/export.<fmt>
    residents,  # /residents…
    users,  # /users…, /devices…
)
