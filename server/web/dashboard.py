"""The dashboard of one operation: funnel, Rekapitulasi per Desa, per officer, SOP time
compliance, stuck cases, phones not synced, open conflicts. Charts are server-side SVG."""
from flask import current_app, g, render_template, request
from sqlalchemy import func, select

from sync.models import Batch, Conflict, Resident, utcnow
from sync.resolutions import conflict_in_kecamatan
from sync.stages import STAGE_LABELS

from ..auth import audit, office_login_required
from ..charts import bar_svg, funnel_svg
from ..extensions import db
from ..formatting import MONTHS, angka, to_wita
from ..models import Wilayah
from ..operations import operations_of
from ..statistics import (
    CASES_LABEL,
    CONFLICT_LABELS,
    MEASURED_LABEL,
    OFFICER_LABELS,
    RECAP_LABELS,
    WAITING_RECEIPT_DAYS,
    desa_recap,
    difference_rows,
    funnel,
    officer_recap,
    open_conflicts,
    stale_devices,
    waiting_for_receipt,
)
from ..timings import clock_fixed, event_times, sop_compliance, stuck_cases
from . import bp

STUCK_DAYS = 7
SYNC_DAYS = 3
LIST_LIMIT = 50
STAGE_NAMES = {"listed": "Belum Ditemukan", **STAGE_LABELS}  # "listed" is in the table once sync has it


@bp.app_template_filter("persen")
def persen(value):
    """85.5 → '85,5%'; None → '—'."""
    if value is None:
        return "—"
    return angka(float(value)) + "%"


@bp.app_template_filter("tanggal_surat")
def tanggal_surat(value):
    """'28 November 2026' (the date line of a letter or report)."""
    if hasattr(value, "hour"):
        value = to_wita(value).date()
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


@bp.app_template_filter("menit")
def menit(value):
    """Minutes as '45 menit', '3 jam 5 menit' or '2 hari 4 jam'."""
    if value is None:
        return "—"
    minutes = int(round(value))
    if minutes < 60:
        return f"{minutes} menit"
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} jam {rest} menit" if rest else f"{hours} jam"
    days, hours = divmod(hours, 24)
    return f"{angka(days)} hari {hours} jam" if hours else f"{angka(days)} hari"


@bp.app_context_processor
def office_helpers():
    """has_page(endpoint): link to pages of other modules only when they exist; the count
    labels of server/statistics.py (one meaning per label on every page)."""
    return {"has_page": lambda endpoint: endpoint in current_app.view_functions,
            "stage_names": STAGE_NAMES, "recap_labels": RECAP_LABELS,
            "officer_labels": OFFICER_LABELS, "cases_label": CASES_LABEL,
            "measured_label": MEASURED_LABEL}


def _days_arg(name, default):
    value = request.args.get(name, default, type=int)
    return min(max(value if value is not None else default, 1), 365)


def pick_operation(ops):
    """The operation asked for (?operation=id), else the newest active one, else the newest."""
    wanted = request.args.get("operation", type=int)
    for op in ops:
        if op.id == wanted:
            return op
    for op in ops:
        if op.active:
            return op
    return ops[0] if ops else None


@bp.get("/dashboard")
@office_login_required
def dashboard():
    """Progress of one operation against its targets."""
    kecamatan = db.session.get(Wilayah, g.user.kecamatan_code)
    ops = operations_of(db.session, g.user.kecamatan_code)
    op = pick_operation(ops)
    stuck_days, sync_days = _days_arg("stuck_days", STUCK_DAYS), _days_arg("sync_days", SYNC_DAYS)
    now = utcnow()
    context = {"kecamatan": kecamatan, "operations": ops, "op": op, "stuck_days": stuck_days,
               "sync_days": sync_days, "now": now, "conflict_labels": CONFLICT_LABELS}
    context["stale"] = stale_devices(db.session, g.user.kecamatan_code, now, sync_days)
    # Disdukcapil exceptions (issue #13): kecamatan-wide, a batch is not tied to an operation.
    context.update(
        receipt_days=WAITING_RECEIPT_DAYS,
        differences_total=len(difference_rows(db.session, g.user.kecamatan_code)),
        waiting_receipt=db.session.execute(select(func.count()).select_from(Batch).where(
            *waiting_for_receipt(g.user.kecamatan_code, now))).scalar_one())
    if op is None:
        context["kecamatan_conflicts"] = db.session.execute(
            select(func.count()).select_from(Conflict).where(
                conflict_in_kecamatan(g.user.kecamatan_code), Conflict.status == "open")
        ).scalar_one()
        audit("view_dashboard")
        db.session.commit()
        return render_template("dashboard.html", **context)

    rows, total = desa_recap(db.session, op)
    events = event_times(db.session, op)
    stuck = stuck_cases(db.session, op, now, stuck_days, events=events)
    compliance = sop_compliance(db.session, op, events=events)
    conflicts = open_conflicts(db.session, op)
    context.update(
        rows=rows, total=total, officers=officer_recap(db.session, op),
        compliance=compliance, stuck=stuck[:LIST_LIMIT], stuck_total=len(stuck),
        clock_fixed=clock_fixed(events),
        conflicts=conflicts[:LIST_LIMIT], conflicts_total=len(conflicts),
        desa_names={r.code: r.name for r in rows},
        funnel_chart=funnel_svg(funnel(total), chart_id="chart-funnel",
                                title=f"Corong tahapan {op.name}"),
        desa_chart=bar_svg([(r.name, r.capaian) for r in rows], chart_id="chart-desa",
                           title="Capaian (%) per desa: KTP-el diserahkan dibanding target",
                           reference_label="Target 100%"),
        compliance_chart=bar_svg(
            [(f"Langkah {c.step}", c.share) for c in compliance if c.step != 7],
            chart_id="chart-sop", title="Kasus yang selesai dalam waktu baku SOP (%)",
            reference_label="100%"),
        unassigned_residents=_without_operation(),
    )
    audit("view_dashboard", target=f"operation:{op.id}")
    db.session.commit()
    return render_template("dashboard.html", **context)


def _without_operation():
    """Cases of the kecamatan that belong to no operation (registered outside any aksi)."""
    return db.session.execute(
        select(func.count()).select_from(Resident).where(
            Resident.desa_code.like(g.user.kecamatan_code + "%"), Resident.operation_id.is_(None))
    ).scalar_one()

