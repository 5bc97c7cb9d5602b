"""Disdukcapil's web area (issue #13): the batches of every kecamatan of their kabupaten, the
receipt and print marks (sync/registry.py), and the kabupaten recap. Served under
/disdukcapil; only users of the `disdukcapil` role may open it, and they may open nothing of
the kecamatan office view (server/auth.py OFFICE_ROLES)."""
import functools

from flask import Blueprint, abort, g, redirect, request, url_for

from sync.registry import RegistryActor

bp = Blueprint("registry", __name__, url_prefix="/disdukcapil")
REGISTRY_ROLES = ("disdukcapil",)


def registry_login_required(view):
    """Only a logged-in, active Disdukcapil user of a kabupaten may open the page."""

    @functools.wraps(view)
    def wrapped(**kwargs):
        if g.user is None:
            return redirect(url_for("auth.login", next=request.path))
        if g.user.role not in REGISTRY_ROLES or not g.user.kabupaten_code:
            abort(403)
        return view(**kwargs)

    return wrapped


def registry_actor():
    """The logged-in Disdukcapil user as sync.registry's RegistryActor."""
    return RegistryActor(user_id=g.user.id, kabupaten_code=g.user.kabupaten_code)


@bp.after_request
def no_store(response):
    """Pages with names and NIKs: no browser or proxy cache keeps a copy (as the office view)."""
    response.headers.setdefault("Cache-Control", "no-store")
    return response


# One module per page area; each registers its routes on `bp` when imported (add new ones here).
from . import (  # noqa: E402,F401
    batches,  # /disdukcapil/berkas…: receipt and print marks
    dashboard,  # /disdukcapil/: the kabupaten recap and its XLSX
)
