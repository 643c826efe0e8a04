"""A dashboard without Grafana: each panel's queries run against Prometheus over a time range and drawn as PNG
charts on one self-contained HTML page (plus the PNGs beside it).

    page = snapshot(Prometheus(url), find("api-performance"), since_s=900, out=Path("snap"))
"""

from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import altair as alt

from synfinance.monitor.dashboards import Dashboard, Panel
from synfinance.monitor.prom import Prometheus
from synfinance.output.charts import figure, html_page, png
from synfinance.output.files import atomic_path

POINTS = 120  # samples per series over the range
WIDTH, HEIGHT = 560, 220


@dataclass(frozen=True)
class PanelData:
    panel: Panel
    rows: list[dict[str, Any]]  # {"t": epoch ms, "value": float, "series": legend}

    @property
    def empty(self) -> bool:
        return not self.rows


def legend(template: str, labels: dict[str, str], expr: str) -> str:
    """Grafana's {{label}} legend filled from a series' labels (the query itself when there is no template)."""
    if not template:
        return ",".join(f"{k}={v}" for k, v in sorted(labels.items()) if k != "__name__") or expr[:40]
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), template)


def panel_data(prom: Prometheus, panel: Panel, start: float, end: float) -> PanelData:
    step = max(1.0, (end - start) / POINTS)
    rows = []
    for query in panel.queries:
        for series in prom.query_range(query.expr, start, end, step):
            name = legend(query.legend, series["metric"], query.expr)
            for t, value in series["values"]:
                v = float(value)
                if v == v and abs(v) != float("inf"):  # NaN (0/0 ratios) and infinities are gaps
                    rows.append({"t": int(float(t) * 1000), "value": v, "series": name})
    return PanelData(panel, rows)


def chart(data: PanelData) -> Any:
    return alt.Chart(alt.Data(values=data.rows)).mark_line(point=len(data.rows) < 30).encode(
        x=alt.X("t:T", title=None), y=alt.Y("value:Q", title=data.panel.unit),
        color=alt.Color("series:N", title=None)).properties(title=data.panel.title, width=WIDTH, height=HEIGHT)


def snapshot(prom: Prometheus, board: Dashboard, since_s: float, out: Path, now: float | None = None) -> Path:
    """out/index.html and one PNG per panel with data; panels without data are listed as such."""
    end = time.time() if now is None else now
    start = end - since_s
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    parts = []
    for i, panel in enumerate(board.panels):
        data = panel_data(prom, panel, start, end)
        if data.empty:
            why = f" (shows only under a fault: {panel.fault})" if panel.fault else ""
            parts.append(f"<p class=empty>{html.escape(panel.title)}: no data in this range{html.escape(why)}</p>")
            continue
        image = png(chart(data))
        name = f"panel-{i:02d}"
        with atomic_path(out / f"{name}.png") as tmp:
            tmp.write_bytes(image)
        parts.append(figure(name, image, "; ".join(q.expr for q in panel.queries)))
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(end))
    page = html_page(board.title, f"<p>{html.escape(board.description)} Last {since_s / 60:.0f} minutes to {stamp}, "
                     f"from {html.escape(prom.url)}.</p>{''.join(parts)}",
                     "body{font-family:sans-serif;margin:2em;max-width:64em}figcaption{font:12px monospace;"
                     "color:#555}.empty{color:#777}")
    with atomic_path(out / "index.html") as tmp:
        tmp.write_text(page)
    return out / "index.html"
