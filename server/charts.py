"""Charts drawn on the server as inline SVG: no JavaScript, no CDN, and they print.

The pages run under ``style-src 'self'``, so nothing here uses a ``style`` attribute or a
``<style>`` element: colours and sizes are SVG presentation attributes (fill, stroke,
font-size, …) and the office stylesheet may refine them through the classes.
"""
from markupsafe import Markup, escape

from .formatting import angka

INK = "#1d2430"
MUTED = "#5b6575"
GRID = "#d5dae2"
BRAND = "#0b5d3b"
LIGHT = "#9cc9b4"
WARN = "#c27c0e"
FONT = 'font-family="system-ui, Segoe UI, Roboto, sans-serif"'


def _pct(value):
    return "—" if value is None else angka(float(value)) + "%"


def _fit(label, limit=30):
    label = str(label)
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _svg(chart_id, title, width, height, body, css_class):
    return Markup(
        f'<svg class="chart {css_class}" id="{escape(chart_id)}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-t" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" preserveAspectRatio="xMinYMin meet" '
        f'xmlns="http://www.w3.org/2000/svg" {FONT} font-size="12">'
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>{body}</svg>')


def funnel_svg(items, *, chart_id="funnel", title="Corong tahapan", width=720):
    """A funnel: one centred bar per stage, width proportional to its value.

    items: [(label, value)]; the first item (the target) is the reference for the shares.
    """
    row, gap, label_w, value_w = 26, 6, 190, 130
    area = width - label_w - value_w
    top = max([v for _l, v in items] + [1])
    reference = items[0][1] if items else 0
    parts = []
    for i, (label, value) in enumerate(items):
        y = i * (row + gap)
        w = max(value / top * area, 0 if value == 0 else 2)
        x = label_w + (area - w) / 2
        fill = MUTED if i == 0 else BRAND
        share = "" if i == 0 or not reference else f" ({_pct(value * 100.0 / reference)})"
        parts.append(
            f'<g class="funnel-row"><text x="{label_w - 8}" y="{y + row * 0.68:.1f}" '
            f'text-anchor="end" fill="{INK}">{escape(_fit(label))}</text>'
            f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row}" rx="3" fill="{fill}" '
            f'fill-opacity="{1 if i else 0.35}"/>'
            f'<text x="{label_w + area + 10}" y="{y + row * 0.68:.1f}" fill="{INK}" '
            f'font-weight="600">{escape(angka(value))}{escape(share)}</text></g>')
    height = max(len(items) * (row + gap) - gap, row)
    return _svg(chart_id, title, width, height, "".join(parts), "chart-funnel")


def bar_svg(rows, *, chart_id="bars", title="", width=720, reference=100.0, reference_label="100%"):
    """Horizontal bars of percentages with a reference line (e.g. 100% of the target).

    rows: [(label, percent or None)]. None draws no bar and writes "—".
    """
    row, gap, label_w, value_w, top_pad = 20, 5, 190, 70, 16
    area = width - label_w - value_w
    scale_max = max([reference] + [v for _l, v in rows if v is not None])
    parts = []
    ref_x = label_w + reference / scale_max * area
    height = top_pad + max(len(rows), 1) * (row + gap)
    for i, (label, value) in enumerate(rows):
        y = top_pad + i * (row + gap)
        parts.append(f'<text x="{label_w - 8}" y="{y + row * 0.72:.1f}" text-anchor="end" '
                     f'fill="{INK}">{escape(_fit(label))}</text>')
        if value is not None:
            w = max(value / scale_max * area, 0 if value == 0 else 2)
            fill = BRAND if value >= reference else (LIGHT if value >= reference / 2 else WARN)
            parts.append(f'<rect class="bar" x="{label_w}" y="{y}" width="{w:.1f}" height="{row}" '
                         f'fill="{fill}"/>')
            tx = label_w + w + 4
        else:
            tx = label_w + 4
        parts.append(f'<text x="{tx:.1f}" y="{y + row * 0.72:.1f}" fill="{INK}" '
                     f'font-weight="600">{escape(_pct(value))}</text>')
    parts.append(f'<line x1="{ref_x:.1f}" y1="{top_pad - 4}" x2="{ref_x:.1f}" y2="{height}" '
                 f'stroke="{INK}" stroke-width="1" stroke-dasharray="4 3"/>'
                 f'<text x="{ref_x:.1f}" y="{top_pad - 6}" text-anchor="middle" fill="{MUTED}" '
                 f'font-size="11">{escape(reference_label)}</text>')
    parts.insert(0, f'<line x1="{label_w}" y1="{top_pad - 4}" x2="{label_w}" y2="{height}" '
                    f'stroke="{GRID}" stroke-width="1"/>')
    return _svg(chart_id, title, width, height, "".join(parts), "chart-bars")
