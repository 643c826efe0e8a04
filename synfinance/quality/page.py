"""The quality report as one self-contained HTML page: tables of gates, validators and violations, and charts
(Vega-Lite through Altair, drawn to PNG by vl-convert and inlined) of the report's chart data."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import altair as alt

from synfinance.output.charts import figure, html_page, html_table, png
from synfinance.output.files import atomic_path

WIDTH, HEIGHT = 560, 260
AGAINST = alt.Scale(domain=["dataset", "baseline"], range=["#1f77b4", "#ff7f0e"])
SHARES = alt.Scale(domain=["requested", "realised"], range=["#7f7f7f", "#1f77b4"])


def _against(rows: list[dict[str, Any]], x: alt.X, title: str) -> alt.Chart:
    return alt.Chart(alt.Data(values=rows)).mark_line(point=True).encode(
        x=x, y=alt.Y("share:Q", title="share of rows"), color=alt.Color("series:N", scale=AGAINST),
    ).properties(title=title, width=WIDTH, height=HEIGHT)


def amounts_chart(amounts: dict[str, Any]) -> alt.Chart:
    edges = amounts["edges"]
    rows = [{"log10_inr": round((edges[i] + edges[i + 1]) / 2, 3), "share": share, "series": series}
            for series in ("dataset", "baseline") if series in amounts for i, share in enumerate(amounts[series])]
    return _against(rows, alt.X("log10_inr:Q", title="amount, log10 INR (2 = ₹100, 4 = ₹10,000)"),
                    "Amounts against the baseline")


def hours_chart(hours: dict[str, Any]) -> alt.Chart:
    rows = [{"hour": h, "share": share, "series": series}
            for series in ("dataset", "baseline") if series in hours for h, share in enumerate(hours[series])]
    return _against(rows, alt.X("hour:O", title="hour of day, IST"), "Hour of day against the baseline")


def daily_chart(daily: dict[str, Any]) -> alt.Chart:
    rows = [{"date": d, "rate": daily[label][i], "what": label} for label in ("fraud", "anomaly", "declined")
            if label in daily for i, d in enumerate(daily["dates"])]
    return alt.Chart(alt.Data(values=rows)).mark_line().encode(
        x=alt.X("date:T", title=None), y=alt.Y("rate:Q", title="share of the day's rows", axis=alt.Axis(format="%")),
        color=alt.Color("what:N", title=None),
    ).properties(title="Fraud, anomaly and decline rates per day", width=WIDTH, height=HEIGHT)


def missing_chart(missing: dict[str, float]) -> alt.Chart:
    rows = [{"field": k, "missing": v} for k, v in missing.items()]
    return alt.Chart(alt.Data(values=rows)).mark_bar().encode(
        x=alt.X("missing:Q", title="share empty", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("field:N", sort=None, title=None),
    ).properties(title="Empty values per field (optional fields may be empty)", width=WIDTH,
                 height=12 * max(len(rows), 1))


def shares_chart(kind: str, shares: dict[str, dict[str, float]]) -> alt.Chart:
    rows = [{"type": name, "share": value[series], "series": series}
            for name, value in shares.items() for series in ("requested", "realised")]
    return alt.Chart(alt.Data(values=rows)).mark_bar().encode(
        x=alt.X("share:Q", title=f"share of {kind} rows", axis=alt.Axis(format="%")),
        y=alt.Y("type:N", title=None), yOffset="series:N", color=alt.Color("series:N", scale=SHARES),
    ).properties(title=f"{kind.capitalize()} types: requested against realised", width=WIDTH,
                 height=22 * max(len(shares), 1))


def charts(data: dict[str, Any]) -> dict[str, alt.Chart]:
    """Every chart the report's data allows, by the id it gets on the page."""
    out: dict[str, alt.Chart] = {}
    if "amounts" in data:
        out["amounts"] = amounts_chart(data["amounts"])
    if "hours" in data:
        out["hours"] = hours_chart(data["hours"])
    if "daily" in data:
        out["daily-rates"] = daily_chart(data["daily"])
    if data.get("missing"):
        out["missing"] = missing_chart(data["missing"])
    for kind, shares in (data.get("type_shares") or {}).items():
        out[f"{kind}-shares"] = shares_chart(kind, shares)
    return out


def write_page(out: Path, report: dict[str, Any]) -> Path:
    """out/index.html from a report's JSON; returns the page's path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figures = "".join(figure(name, png(chart)) for name, chart in charts(report["charts"]).items())
    verdict = "passed" if report["passed"] else "FAILED"
    gates = html_table(("gate", "metric", "value", "min", "max", "blocking", "status"),
                   [(g["name"], g["metric"], "—" if g["value"] is None else f"{g['value']:.6g}",
                     "" if g["min"] is None else g["min"], "" if g["max"] is None else g["max"],
                     "yes" if g["blocking"] else "no", g["status"]) for g in report["gates"]])
    validators = html_table(("validator", "violations", "seconds", "what it checks"),
                        [(v["validator"], f"skipped: {v['skipped']}" if v["skipped"] else len(v["violations"]),
                          f"{v['seconds']:.3f}", v["summary"]) for v in report["validators"]])
    violations = html_table(("severity", "validator", "what", "rows", "recommendation"),
                        [(v["severity"], v["validator"], v["message"], f"{v['rows']:,}", v["recommendation"])
                         for f in report["validators"] for v in f["violations"]])
    regression = report.get("regression")
    compared = "" if regression is None else (
        f"<h2>Regression against the baseline: {'passed' if regression['passed'] else 'FAILED'}</h2>"
        + (html_table(("kind", "name", "test", "statistic", "p", "effect", "floor"),
                  [(c["kind"], c["name"], c["test"], c["statistic"], c["p_value"], c["effect"], c["floor"])
                   for c in regression["failed"]]) if regression["failed"] else
           f"<p>No shift: {len(regression['comparisons'])} comparisons, each under its significance level or its "
           "effect-size floor.</p>"))
    trend = ", ".join(f"{t['score']:.1f}" for t in report.get("trend", [])) or "no earlier runs"
    title = f"Data quality: {report['dataset']}"
    page = html_page(title, f"<p>Score <b>{report['score']:.1f}</b> / 100 over {report['rows']:,} "
                     f"transactions: <b>{verdict}</b>. Earlier runs, newest first: {html.escape(trend)}.</p>"
                     f"<h2>Gates</h2>{gates}{compared}<h2>Charts</h2>{figures}<h2>Validators</h2>{validators}"
                     "<h2>Violations</h2>"
                     f"{violations if any(f['violations'] for f in report['validators']) else '<p>None.'}")
    with atomic_path(out / "index.html") as tmp:
        tmp.write_text(page)
    return out / "index.html"
