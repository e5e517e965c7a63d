"""The mirror's HTML page: server-rendered, styled with Airflow 3's own colour tokens.

The page sits in the UI's nav iframe (same origin), so a small script copies the parent's
light/dark class and live ``--chakra-colors-*`` values; the measured values of Airflow 3.3's
theme are the fallbacks when the page is opened on its own. Every value is HTML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from labelbox_provider.ui.status import PageSettings

_LIGHT = {
    "bg": "#ffffff",
    "fg": "oklch(0.23185 0.0323 266.44)",
    "fg-muted": "oklch(0.45 0.055 251)",
    "border": "oklch(0.915 0.01 253)",
    "bg-subtle": "oklch(0.985 0.004 253)",
    "bg-muted": "oklch(0.955 0.006 253)",
    "brand-solid": "oklch(0.469 0.084 257.657)",
    "green-fg": "#15803d",
    "orange-fg": "#c2410c",
    "red-fg": "#b91c1c",
}
_DARK = {
    **_LIGHT,
    "bg": "oklch(0.23185 0.0323 266.44)",
    "fg": "oklch(0.985 0.004 253)",
    "fg-muted": "oklch(0.75 0.025 252)",
    "border": "oklch(0.28 0.035 251)",
    "bg-subtle": "oklch(0.11 0.025 251)",
    "bg-muted": "oklch(0.18 0.03 251)",
    "green-fg": "#4ade80",
    "orange-fg": "#fb923c",
    "red-fg": "#f87171",
}


def _vars(tokens: dict[str, str]) -> str:
    return ";".join(f"--chakra-colors-{k}:{v}" for k, v in tokens.items())


CSS = (
    f":root{{color-scheme:light;{_vars(_LIGHT)}}}"
    f"html.dark{{color-scheme:dark;{_vars(_DARK)}}}"
    f"@media (prefers-color-scheme: dark){{html:not(.light){{color-scheme:dark;{_vars(_DARK)}}}}}"
    """
*{box-sizing:border-box}
body{margin:0;padding:8px;background:var(--chakra-colors-bg);color:var(--chakra-colors-fg);
font-family:Inter,-apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;
font-size:14px;line-height:1.5}
h1{font-size:24px;font-weight:600;margin:0 0 4px}h2{font-size:18px;font-weight:600;margin:0}
h3{font-size:14px;font-weight:600;margin:12px 0 6px;color:var(--chakra-colors-fg-muted)}
p.sub{color:var(--chakra-colors-fg-muted);margin:0 0 16px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85em;
background:var(--chakra-colors-bg-muted);border-radius:4px;padding:1px 4px;word-break:break-all}
.card{border:1px solid var(--chakra-colors-border);border-radius:6px;margin-bottom:16px;
padding:12px}
.head{display:flex;gap:12px;align-items:baseline;flex-wrap:wrap}
.stats{display:flex;gap:24px;flex-wrap:wrap;margin:8px 0}
.stats div{display:flex;flex-direction:column}
.stats span{color:var(--chakra-colors-fg-muted);font-size:12px}.stats b{font-size:16px}
table{width:100%;border-collapse:collapse;border:1px solid var(--chakra-colors-border)}
th{text-align:left;font-weight:600;background:var(--chakra-colors-bg-muted);padding:6px 10px;
border-bottom:1px solid var(--chakra-colors-border)}
td{padding:6px 10px;border-bottom:1px solid var(--chakra-colors-border);vertical-align:top}
tbody tr:hover{background:var(--chakra-colors-bg-subtle)}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;border-radius:4px;padding:0 6px;font-size:12px;font-weight:500}
ul{margin:0;padding-left:18px}a{color:var(--chakra-colors-brand-solid)}
svg text{fill:var(--chakra-colors-fg-muted);font-size:11px}
svg rect.bar{fill:var(--chakra-colors-brand-solid)}
"""
    + "".join(
        f".{name}{{color:var(--chakra-colors-{c}-fg);"
        f"background:color-mix(in srgb,var(--chakra-colors-{c}-fg) 14%,transparent)}}"
        for name, c in (("ok", "green"), ("warn", "orange"), ("bad", "red"))
    )
)

THEME_JS = (
    "(function(){var T=" + str(list(_LIGHT)).replace("'", '"') + ";"
    """function apply(){var h=document.documentElement,p;
try{if(window.parent===window)return;p=window.parent.document.documentElement;}catch(e){return;}
h.classList.remove('dark','light');if(p.classList.contains('dark'))h.classList.add('dark');
else if(p.classList.contains('light'))h.classList.add('light');
var cs=window.parent.getComputedStyle(p);T.forEach(function(t){
var v=cs.getPropertyValue('--chakra-colors-'+t).trim();
if(v)h.style.setProperty('--chakra-colors-'+t,v);
else h.style.removeProperty('--chakra-colors-'+t);});}
apply();try{new MutationObserver(apply).observe(window.parent.document.documentElement,
{attributes:true,attributeFilter:['class','style']});}catch(e){}})();"""
)

ICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="#71717a" '
    'stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><rect x="3" y="3" width="18" '
    'height="18" rx="2"/><path d="M7 16V12M12 16V8M17 16v-6"/></svg>'
)


def esc(value: Any) -> str:
    """Escaped text of ``value`` (``-`` for None)."""
    return html.escape("-" if value is None else str(value))


def when(text: str | None) -> str:
    """An ISO instant as the page prints it: no microseconds, a space for ``T``.

    >>> when("2024-01-01T06:00:00.000000Z")
    '2024-01-01 06:00:00Z'
    """
    if text is None:
        return "-"
    head, _, _ = text.partition(".")
    return esc(head.replace("T", " ") + ("Z" if text.endswith("Z") else ""))


def human_age(seconds: float | None) -> str:
    """A short age: ``3d 4h``, ``2h 5m``, ``40s``.

    >>> human_age(93784), human_age(7500), human_age(40), human_age(None)
    ('1d 2h', '2h 5m', '40s', 'never')
    """
    if seconds is None:
        return "never"
    s = int(seconds)
    if s >= 86_400:
        return f"{s // 86_400}d {s % 86_400 // 3600}h"
    if s >= 3600:
        return f"{s // 3600}h {s % 3600 // 60}m"
    return f"{s // 60}m" if s >= 60 else f"{s}s"


def chart(points: list[dict[str, Any]], testid: str) -> str:
    """A small SVG bar chart of rows per batch, oldest batch on the left."""
    width, height, pad = 640, 90, 14
    if not points:
        return "<p class='sub'>no batches yet</p>"
    top = max(p["rows"] for p in points) or 1
    step = (width - 40) / len(points)
    bars = []
    for i, p in enumerate(points):
        h = max(1.0, (height - pad * 2) * p["rows"] / top) if p["rows"] else 0.0
        bars.append(
            f'<rect class="bar" x="{40 + i * step:.1f}" y="{height - pad - h:.1f}" '
            f'width="{max(1.0, step - 1):.1f}" height="{h:.1f}"><title>{esc(p["at"])}: '
            f"{p['rows']} rows</title></rect>"
        )
    axis = (
        f'<text x="0" y="{pad}">{top}</text><text x="0" y="{height - pad}">0</text>'
        f'<text x="40" y="{height}">{esc(points[0]["at"][:10])}</text>'
        f'<text x="{width}" y="{height}" text-anchor="end">{esc(points[-1]["at"][:10])}</text>'
    )
    return (
        f'<svg role="img" aria-label="rows per batch over time" data-testid="{testid}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f"{axis}{''.join(bars)}</svg>"
    )


def _badge(kind: str, text: str, testid: str = "") -> str:
    attr = f" data-testid='{testid}'" if testid else ""
    return f"<span class='badge {kind}'{attr}>{esc(text)}</span>"


def _span(window: dict[str, str]) -> str:
    return f"{when(window['start'])} &rarr; {when(window['end'])}"


def _table(testid: str, headers: tuple[str, ...], body: str) -> str:
    head = "".join(f"<th>{h}</th>" for h in headers)
    return (
        f"<table data-testid='{testid}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def _or_ok(items: list[dict[str, Any]], empty: str, listing: Callable[[Any], str]) -> str:
    """``listing(items)``, or a green badge saying ``empty`` when there is nothing to list."""
    return listing(items) if items else "<p>" + _badge("ok", empty) + "</p>"


def _gap_list(gaps: list[dict[str, Any]]) -> str:
    return (
        "<ul>"
        + "".join(
            f"<li data-testid='gap'>[{when(g['start'])}, {when(g['end'])}) &mdash; fill with "
            f"<code data-testid='gap-command'>{esc(g['command'])}</code></li>"
            for g in gaps
        )
        + "</ul>"
    )


def _pending_table(exports: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td>{_span(e['window'])}</td><td>{esc(e['mode'])}</td>"
        f"<td>{esc(e['source_format'])}</td><td>{esc(e['export_id'])}</td></tr>"
        for e in exports
    )
    return _table("pending", ("window", "mode", "format", "export id"), rows)


def _batch_row(b: dict[str, Any]) -> str:
    counts = ", ".join(f"{esc(t)}&nbsp;{n}" for t, n in b["counts"].items() if t != "rejects")
    reasons = "".join(f"<li>{esc(r['reason'])} ({r['count']})</li>" for r in b["reject_reasons"])
    rejects = _badge("bad", str(b["rejects"])) + f"<ul>{reasons}</ul>" if b["rejects"] else "0"
    return (
        f"<tr data-testid='batch'><td>{_span(b['window'])}</td>"
        f"<td>{esc(b['mode'])}</td><td>{esc(b['source_format'])}</td>"
        f"<td class='num' data-testid='batch-rows'>{b['rows']}</td><td>{counts or '-'}</td>"
        f"<td>{rejects}</td><td>{when(b['extracted_at'])}</td></tr>"
    )


def _batches(p: dict[str, Any], limit: int, base: str) -> str:
    headers = ("window", "mode", "format", "rows", "rows per table", "rejects", "extracted at")
    body = "".join(_batch_row(b) for b in p["last_batches"])
    first, shown = p["offset"], len(p["last_batches"])
    links = []
    pid = html.escape(quote(p["project_id"], safe=""), quote=True)
    if first > 0:
        links.append(f"<a href='{base}projects/{pid}?offset={max(0, first - limit)}'>newer</a>")
    if first + shown < p["batches"]:
        links.append(f"<a href='{base}projects/{pid}?offset={first + shown}'>older</a>")
    nav = (
        f"<p class='sub' data-testid='batches-shown'>batches {first + 1 if shown else 0}&ndash;"
        f"{first + shown} of {p['batches']} (latest window first) {' '.join(links)}</p>"
    )
    return nav + _table("batch-table", headers, body)


def _stats(p: dict[str, Any]) -> str:
    shown = (
        ("watermark", "watermark", esc(p["watermark"])),
        ("batches", "batches", p["batches"]),
        ("rows", "rows", p["rows"]),
        ("rejects", "rejects", p["rejects"]),
        ("gaps", "gaps", len(p["gaps"])),
        ("pending exports", "pending-count", len(p["pending_exports"])),
    )
    cells = "".join(
        f"<div><span>{label}</span><b data-testid='{testid}'>{value}</b></div>"
        for label, testid, value in shown
    )
    return f"<div class='stats'>{cells}</div>"


def project_card(p: dict[str, Any], settings: PageSettings, base: str) -> str:
    """One project: watermark and freshness, totals, chart, gaps, pending exports, batches."""
    fresh = _badge("warn" if p["stale"] else "ok", human_age(p["freshness_seconds"]), "freshness")
    pid = esc(p["project_id"])
    return (
        f"<section class='card' data-testid='project' data-project='{pid}'>"
        f"<div class='head'><h2>{pid}</h2>{fresh}</div>{_stats(p)}"
        f"<h3>Rows per batch</h3>{chart(p['chart'], 'chart')}"
        f"<h3>Coverage gaps</h3>{_or_ok(p['gaps'], 'no gaps', _gap_list)}"
        f"<p class='sub'>the same list: <code>{esc(p['backfill_cli'])}</code></p>"
        f"<h3>Pending exports</h3>{_or_ok(p['pending_exports'], 'none', _pending_table)}"
        f"<h3>Last batches</h3>{_batches(p, settings.batches_shown, base)}</section>"
    )


def render(
    views: list[dict[str, Any]], settings: PageSettings, user: str, now: datetime, base: str
) -> str:
    """The whole page: a header and one card per project."""
    cards = "".join(project_card(p, settings, base) for p in views) or (
        "<p class='card'>No mirrored project under this root yet.</p>"
    )
    stale = human_age(settings.stale_after.total_seconds())
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>Labelbox mirror</title><script>{THEME_JS}</script><style>{CSS}</style></head>
<body><h1 data-testid="mirror-title">Labelbox mirror</h1>
<p class="sub">Mirror <code data-testid="mirror-root">{esc(settings.location)}</code> &middot;
freshness is now minus watermark, highlighted past {esc(stale)} &middot; as of
{esc(now.strftime("%Y-%m-%d %H:%M:%S UTC"))} &middot; signed in as
<b data-testid="mirror-user">{esc(user)}</b> &middot; JSON: <code>{esc(base)}api/projects</code></p>
{cards}</body></html>"""
