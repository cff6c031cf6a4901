"""Charts drawn on the server as SVG: no JavaScript library, no network.

Each function takes plain data (labels, series of values, a currency) and
returns safe HTML: a ``<figure>`` holding an ``<svg role="img">`` with a title
and a description, followed by the same numbers as a table in a ``<details>``
block, so a screen reader, a printout and a person on a phone all get them.
The SVG scales to its container (``viewBox``, width 100 %); the drawing is
narrow enough that its text stays readable at phone width.

Money is written with the currency's sign and no minor unit (¥1,234,000); axis
labels abbreviate in the reader's language (¥120万, ₩3.5억, ¥1.2M). ``None``
means "no value" (a rate with a zero denominator) and shows as "n/a".
"""

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

Number = Decimal | int | float

PALETTE = ("#1d5fa8", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#56b4e9", "#6b7785")
WIDTH = 480
FONT = 13
_ids = itertools.count(1)

CURRENCY_SIGNS = {"JPY": "¥", "KRW": "₩", "USD": "$"}


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[Number | None]
    color: str | None = None


def _lang() -> str:
    return (get_language() or "ja")[:2]


def n_a() -> str:
    return _("n/a")


def format_number(value: Number | None, *, places: int = 0) -> str:
    if value is None:
        return n_a()
    return f"{Decimal(str(value)):,.{places}f}"


def format_percent(value: Number | None, *, places: int = 1) -> str:
    """A rate (0.254) as ``25.4%``."""
    if value is None:
        return n_a()
    return f"{Decimal(str(value)) * 100:,.{places}f}%"


def format_money(value: Number | None, currency: str = "JPY") -> str:
    """``¥1,234,000`` / ``₩1,234,000``: JPY and KRW have no minor unit."""
    if value is None:
        return n_a()
    places = 2 if currency == "USD" else 0
    amount = Decimal(str(value))
    sign = "-" if amount < 0 else ""
    return f"{sign}{CURRENCY_SIGNS.get(currency, '')}{abs(amount):,.{places}f}"


def _trim(x: float) -> str:
    text = f"{x:.1f}" if x < 10 else f"{x:.0f}"
    return text[:-2] if text.endswith(".0") else text


def format_short(value: Number | None, currency: str | None = None) -> str:
    """A compact number for axes and bar ends: 万/億 in Japanese, 만/억 in Korean,
    K/M/B otherwise. ``¥1,200,000`` → ``¥120万`` / ``₩120만`` / ``¥1.2M``."""
    if value is None:
        return n_a()
    x = float(value)
    sign = "-" if x < 0 else ""
    x = abs(x)
    lang = _lang()
    if lang in ("ja", "ko"):
        units = [(1e12, "兆" if lang == "ja" else "조"), (1e8, "億" if lang == "ja" else "억")]
        units.append((1e4, "万" if lang == "ja" else "만"))
    else:
        units = [(1e9, "B"), (1e6, "M"), (1e3, "K")]
    text = f"{x:,.0f}"
    for size, unit in units:
        if x >= size:
            text = _trim(x / size) + unit
            break
    return f"{sign}{CURRENCY_SIGNS.get(currency or '', '')}{text}"


def _fmt(value: Number | None, currency: str | None, percent: bool) -> str:
    if percent:
        return format_percent(value)
    if currency:
        return format_money(value, currency)
    return format_number(value)


def _fmt_short(value: Number | None, currency: str | None, percent: bool) -> str:
    if percent:
        return format_percent(value, places=0)
    return format_short(value, currency)


def nice_ticks(top: float, count: int = 4) -> list[float]:
    """Round tick values from 0 up to at least ``top``."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    n = math.ceil(top / step - 1e-9)
    return [i * step for i in range(n + 1)]


def _text(
    x: float, y: float, text: str, *, anchor: str = "start", size: int = FONT, **attrs
) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{escape(v)}"' for k, v in attrs.items())
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}"{extra}>'
        f"{escape(text)}</text>"
    )


def _color(series: Series, i: int) -> str:
    return series.color or PALETTE[i % len(PALETTE)]


def _link(href: str | None, body: str) -> str:
    return f'<a href="{escape(href)}">{body}</a>' if href else body


def _legend(series: Sequence[Series], y: float) -> tuple[str, float]:
    """Legend items flowing over lines; returns the markup and the height used."""
    if len(series) < 2:
        return "", 0
    parts, x, line = [], 0.0, 0
    for i, s in enumerate(series):
        w = 18 + _text_width(s.name) + 14
        if x + w > WIDTH and x > 0:
            x, line = 0, line + 1
        ty = y + line * 20
        parts.append(
            f'<rect x="{x:.1f}" y="{ty:.1f}" width="12" height="12" rx="2" fill="{_color(s, i)}"/>'
            + _text(x + 17, ty + 11, s.name, size=12)
        )
        x += w
    return "".join(parts), (line + 1) * 20 + 4


def _text_width(text: str, size: int = 12) -> float:
    """Rough width: CJK characters are about one em, others about half."""
    return sum(size if ord(c) > 0x2E80 else size * 0.58 for c in text)


def _figure(
    kind: str,
    svg_body: str,
    height: float,
    *,
    title: str,
    description: str,
    table: str,
) -> SafeString:
    uid = f"chart{next(_ids)}"
    return mark_safe(
        f'<figure class="chart chart-{kind}">'
        f'<svg viewBox="0 0 {WIDTH} {height:.0f}" width="100%" role="img" '
        f'aria-labelledby="{uid}-t {uid}-d" preserveAspectRatio="xMidYMin meet" '
        f'style="max-width:{WIDTH * 1.6:.0f}px;height:auto;font-family:inherit">'
        f'<title id="{uid}-t">{escape(title)}</title>'
        f'<desc id="{uid}-d">{escape(description)}</desc>'
        f'<g fill="#1f2933">{svg_body}</g></svg>'
        f'<details class="chart-data"><summary>{escape(_("Data table"))}</summary>{table}</details>'
        "</figure>"
    )


def _table(
    labels: Sequence[str],
    series: Sequence[Series],
    currency: str | None,
    percent: bool,
    *,
    head: str = "",
    links: Sequence[str | None] | None = None,
) -> str:
    cols = "".join(f'<th scope="col">{escape(s.name)}</th>' for s in series)
    rows = []
    for i, label in enumerate(labels):
        href = links[i] if links and i < len(links) else None
        cells = "".join(
            f'<td class="num">{escape(_fmt(s.values[i], currency, percent))}</td>' for s in series
        )
        rows.append(f'<tr><th scope="row">{_link(href, escape(label))}</th>{cells}</tr>')
    return (
        f'<table class="table small"><thead><tr><th scope="col">{escape(head)}</th>{cols}</tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _empty(kind: str, title: str) -> SafeString:
    return mark_safe(
        f'<figure class="chart chart-{kind} chart-empty"><figcaption class="sr-only">'
        f'{escape(title)}</figcaption><div class="empty">{escape(_("No data for this period."))}'
        "</div></figure>"
    )


def _has_data(series: Sequence[Series]) -> bool:
    return any(v is not None and float(v) != 0 for s in series for v in s.values)


def _describe(labels: Sequence[str], series: Sequence[Series], currency, percent) -> str:
    parts = []
    for s in series:
        values = ", ".join(
            f"{label} {_fmt(v, currency, percent)}"
            for label, v in zip(labels, s.values, strict=False)
        )
        parts.append(f"{s.name}: {values}" if len(series) > 1 else values)
    return "; ".join(parts)


# Horizontal bars ----------------------------------------------------------------


def bar_chart(
    labels: Sequence[str],
    series: Sequence[Series] | Series,
    *,
    title: str,
    description: str = "",
    currency: str | None = None,
    percent: bool = False,
    orientation: str = "horizontal",
    stacked: bool = False,
    links: Sequence[str | None] | None = None,
    head: str = "",
) -> SafeString:
    """Bars, one per label; several series are grouped, or stacked with ``stacked``.

    Horizontal bars put each label on its own line above the bar, which keeps
    long Japanese names whole on a phone; vertical bars suit periods.
    """
    if isinstance(series, Series):
        series = [series]
    labels = list(labels)
    if not labels or not _has_data(series):
        return _empty("bar", title)
    description = description or _describe(labels, series, currency, percent)
    table = _table(labels, series, currency, percent, head=head, links=links)
    if orientation == "vertical":
        body, height = _vertical_bars(labels, series, currency, percent, stacked, links)
    else:
        body, height = _horizontal_bars(labels, series, currency, percent, stacked, links)
    kind = "stacked" if stacked else "bar"
    return _figure(kind, body, height, title=title, description=description, table=table)


def stacked_bars(labels, series, **kwargs) -> SafeString:
    """Stacked bars (vertical unless ``orientation="horizontal"``)."""
    kwargs.setdefault("orientation", "vertical")
    return bar_chart(labels, series, stacked=True, **kwargs)


def _totals(series: Sequence[Series], n: int, stacked: bool) -> list[float]:
    if stacked:
        return [sum(float(s.values[i] or 0) for s in series) for i in range(n)]
    return [max(float(s.values[i] or 0) for s in series) for i in range(n)]


def _horizontal_bars(labels, series, currency, percent, stacked, links) -> tuple[str, float]:
    legend, y = _legend(series, 0)
    parts = [legend]
    top = max(_totals(series, len(labels), stacked)) or 1.0
    bar_h = 16 if stacked or len(series) == 1 else 11
    value_room = 96
    scale = (WIDTH - value_room) / top
    for i, label in enumerate(labels):
        row = [_text(0, y + FONT, label)]
        by = y + FONT + 5
        x = 0.0
        if stacked:
            for j, s in enumerate(series):
                w = max(0.0, float(s.values[i] or 0)) * scale
                tip = f"{s.name}: {_fmt(s.values[i], currency, percent)}"
                row.append(
                    f'<rect x="{x:.1f}" y="{by:.1f}" width="{w:.1f}" height="{bar_h}" '
                    f'fill="{_color(s, j)}"><title>{escape(tip)}</title></rect>'
                )
                x += w
            total = sum(float(s.values[i] or 0) for s in series)
            row.append(_text(x + 6, by + bar_h - 3, _fmt_short(total, currency, percent), size=12))
            y = by + bar_h + 10
        else:
            for j, s in enumerate(series):
                v = s.values[i]
                w = max(0.0, float(v or 0)) * scale
                row.append(
                    f'<rect x="0" y="{by:.1f}" width="{max(w, 1.5):.1f}" height="{bar_h}" rx="2" '
                    f'fill="{_color(s, j)}">'
                    f"<title>{escape(_fmt(v, currency, percent))}</title></rect>"
                )
                row.append(_text(w + 6, by + bar_h - 2, _fmt_short(v, currency, percent), size=12))
                by += bar_h + 2
            y = by + 8
        href = links[i] if links and i < len(links) else None
        parts.append(_link(href, "<g>" + "".join(row) + "</g>"))
    return "".join(parts), y


def _axes(ticks, plot_left, plot_top, plot_h, currency, percent) -> tuple[str, float]:
    scale = plot_h / (ticks[-1] or 1)
    parts = []
    for t in ticks:
        ty = plot_top + plot_h - t * scale
        parts.append(
            f'<line x1="{plot_left}" x2="{WIDTH}" y1="{ty:.1f}" y2="{ty:.1f}" '
            f'stroke="#e2e6ea" stroke-width="1"/>'
        )
        parts.append(
            _text(plot_left - 6, ty + 4, _fmt_short(t, currency, percent), anchor="end", size=11)
        )
    return "".join(parts), scale


def _x_labels(labels, plot_left, plot_w, y) -> str:
    n = len(labels)
    step = plot_w / n
    widest = max(_text_width(label, 11) for label in labels)
    every = max(1, math.ceil((widest + 6) / step))
    parts = []
    for i, label in enumerate(labels):
        if i % every and i != n - 1:
            continue
        parts.append(_text(plot_left + step * (i + 0.5), y, label, anchor="middle", size=11))
    return "".join(parts)


def _vertical_bars(labels, series, currency, percent, stacked, links) -> tuple[str, float]:
    legend, top_y = _legend(series, 0)
    plot_left, plot_top, plot_h = 52, top_y + 8, 180
    plot_w = WIDTH - plot_left
    ticks = nice_ticks(max(_totals(series, len(labels), stacked)))
    axes, scale = _axes(ticks, plot_left, plot_top, plot_h, currency, percent)
    parts = [legend, axes]
    base = plot_top + plot_h
    step = plot_w / len(labels)
    group_w = step * 0.7
    for i, label in enumerate(labels):
        x0 = plot_left + step * i + (step - group_w) / 2
        row = []
        if stacked:
            y = base
            for j, s in enumerate(series):
                h = max(0.0, float(s.values[i] or 0)) * scale
                y -= h
                tip = f"{label} {s.name}: {_fmt(s.values[i], currency, percent)}"
                row.append(
                    f'<rect x="{x0:.1f}" y="{y:.1f}" width="{group_w:.1f}" height="{h:.1f}" '
                    f'fill="{_color(s, j)}"><title>{escape(tip)}</title></rect>'
                )
        else:
            w = group_w / len(series)
            for j, s in enumerate(series):
                h = max(0.0, float(s.values[i] or 0)) * scale
                tip = f"{label} {s.name}: {_fmt(s.values[i], currency, percent)}"
                row.append(
                    f'<rect x="{x0 + j * w:.1f}" y="{base - h:.1f}" width="{w:.1f}" '
                    f'height="{h:.1f}" rx="1.5" fill="{_color(s, j)}">'
                    f"<title>{escape(tip)}</title></rect>"
                )
        href = links[i] if links and i < len(links) else None
        parts.append(_link(href, "<g>" + "".join(row) + "</g>"))
    parts.append(f'<line x1="{plot_left}" x2="{WIDTH}" y1="{base}" y2="{base}" stroke="#6b7785"/>')
    parts.append(_x_labels(labels, plot_left, plot_w, base + 16))
    return "".join(parts), base + 24


# Lines over time ---------------------------------------------------------------


def line_chart(
    labels: Sequence[str],
    series: Sequence[Series] | Series,
    *,
    title: str,
    description: str = "",
    currency: str | None = None,
    percent: bool = False,
    head: str = "",
) -> SafeString:
    """Values over periods (labels oldest first); a ``None`` breaks the line."""
    if isinstance(series, Series):
        series = [series]
    labels = list(labels)
    if not labels or not _has_data(series):
        return _empty("line", title)
    description = description or _describe(labels, series, currency, percent)
    legend, top_y = _legend(series, 0)
    plot_left, plot_top, plot_h = 52, top_y + 8, 180
    plot_w = WIDTH - plot_left
    top = max(float(v) for s in series for v in s.values if v is not None)
    ticks = nice_ticks(top)
    axes, scale = _axes(ticks, plot_left, plot_top, plot_h, currency, percent)
    parts = [legend, axes]
    base = plot_top + plot_h
    step = plot_w / len(labels)
    for j, s in enumerate(series):
        color = _color(s, j)
        segment: list[str] = []
        segments = [segment]
        dots = []
        for i, v in enumerate(s.values):
            if v is None:
                segment = []
                segments.append(segment)
                continue
            x = plot_left + step * (i + 0.5)
            y = base - float(v) * scale
            segment.append(f"{x:.1f},{y:.1f}")
            tip = f"{labels[i]} {s.name}: {_fmt(v, currency, percent)}"
            dots.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}">'
                f"<title>{escape(tip)}</title></circle>"
            )
        for seg in segments:
            if len(seg) > 1:
                parts.append(
                    f'<polyline points="{" ".join(seg)}" fill="none" stroke="{color}" '
                    f'stroke-width="2.5" stroke-linejoin="round"/>'
                )
        parts.extend(dots)
    parts.append(f'<line x1="{plot_left}" x2="{WIDTH}" y1="{base}" y2="{base}" stroke="#6b7785"/>')
    parts.append(_x_labels(labels, plot_left, plot_w, base + 16))
    table = _table(labels, series, currency, percent, head=head)
    return _figure(
        "line", "".join(parts), base + 24, title=title, description=description, table=table
    )


# Funnel ---------------------------------------------------------------------------


def funnel(
    labels: Sequence[str],
    values: Sequence[Number | None],
    *,
    title: str,
    description: str = "",
    currency: str | None = None,
    links: Sequence[str | None] | None = None,
    value_name: str = "",
) -> SafeString:
    """Stages from top to bottom, each bar centred and as wide as its value, with the
    share of the previous stage that reached it."""
    labels = list(labels)
    series = Series(value_name or _("Count"), values)
    if not labels or not _has_data([series]):
        return _empty("funnel", title)
    top = max(float(v or 0) for v in values) or 1.0
    parts, y = [], 0.0
    rates: list[float | None] = [None]
    for prev, cur in zip(values, values[1:], strict=False):
        rates.append(float(cur or 0) / float(prev) if prev else None)
    for i, label in enumerate(labels):
        v = values[i]
        caption = f"{label} — {_fmt(v, currency, False)}"
        if i:
            caption += f" ({format_percent(rates[i], places=0)})"
        w = max(2.0, float(v or 0) / top * WIDTH)
        shade = PALETTE[0]
        opacity = 1 - 0.5 * i / max(1, len(labels) - 1)
        row = _text(WIDTH / 2, y + FONT, caption, anchor="middle") + (
            f'<rect x="{(WIDTH - w) / 2:.1f}" y="{y + FONT + 5:.1f}" width="{w:.1f}" height="18" '
            f'rx="3" fill="{shade}" fill-opacity="{opacity:.2f}"/>'
        )
        href = links[i] if links and i < len(links) else None
        parts.append(_link(href, f"<g>{row}</g>"))
        y += FONT + 5 + 18 + 10
    rate_series = Series(_("Share of the previous stage"), rates)
    table = _funnel_table(labels, series, rate_series, currency, links)
    description = description or _describe(labels, [series], currency, False)
    return _figure("funnel", "".join(parts), y, title=title, description=description, table=table)


def _funnel_table(labels, series, rates, currency, links) -> str:
    rows = []
    for i, label in enumerate(labels):
        href = links[i] if links and i < len(links) else None
        rate = format_percent(rates.values[i]) if i else "—"
        rows.append(
            f'<tr><th scope="row">{_link(href, escape(label))}</th>'
            f'<td class="num">{escape(_fmt(series.values[i], currency, False))}</td>'
            f'<td class="num">{escape(rate)}</td></tr>'
        )
    return (
        f'<table class="table small"><thead><tr><th></th><th scope="col">{escape(series.name)}</th>'
        f'<th scope="col">{escape(rates.name)}</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


# Cohort table ------------------------------------------------------------------------


@dataclass(frozen=True)
class CohortRow:
    label: str
    size: int
    values: Sequence[float | None]  # rates 0-1 per period after the start; None: not yet
    link: str = ""


def cohort_table(
    rows: Sequence[CohortRow],
    columns: Sequence[str],
    *,
    title: str,
    size_label: str = "",
) -> SafeString:
    """A cohort table: one row per starting group, its size, and per later period the
    share still there, shaded by value (the number is always written too; a
    period that has not come yet stays blank)."""
    body = [
        {
            "label": r.label,
            "link": r.link,
            "size": format_number(r.size),
            "cells": [
                {
                    "text": "" if v is None else format_percent(v, places=0),
                    "alpha": f"{0.08 + 0.72 * float(v):.2f}" if v is not None else None,
                    "dark": v is not None and float(v) > 0.55,
                }
                for v in r.values
            ],
        }
        for r in rows
    ]
    return mark_safe(
        render_to_string(
            "analytics/charts/cohort.html",
            {
                "title": title,
                "columns": columns,
                "rows": body,
                "size_label": size_label or _("Customers"),
            },
        )
    )
