"""The summary of a dataset as a self-contained HTML page with charts, or as Markdown."""

from __future__ import annotations

import html
from typing import Any

import altair as alt

from synfinance.output.charts import figure, html_page, html_table, png

WIDTH = 640


def _bars(rows: list[dict[str, Any]], key: str, title: str, value: str = "transactions") -> alt.Chart:
    return alt.Chart(alt.Data(values=rows), title=title, width=WIDTH).mark_bar().encode(
        x=alt.X(f"{value}:Q", title=value.replace("_", " ")), y=alt.Y(f"{key}:N", sort="-x", title=None))


def _stacked(rows: list[dict[str, Any]], title: str) -> alt.Chart:
    return alt.Chart(alt.Data(values=rows), title=title, width=WIDTH).mark_bar().encode(
        x=alt.X("transactions:Q"), y=alt.Y("type:N", sort="-x", title=None),
        color=alt.Color("severity:N", scale=alt.Scale(domain=["low", "medium", "high", "critical"])))


def charts(s: dict[str, Any]) -> dict[str, alt.Chart]:
    """The page's charts by name (only those with data)."""
    found = {
        "hours": alt.Chart(alt.Data(values=s["by_hour"]), title="Transactions by IST hour", width=WIDTH).mark_bar()
        .encode(x=alt.X("local_hour:O", title="hour"), y=alt.Y("transactions:Q")),
        "daily": alt.Chart(alt.Data(values=s["daily"]), title="Transactions per day (festivals and paydays show)",
                           width=WIDTH).mark_line().encode(x=alt.X("local_date:T", title=None),
                                                           y=alt.Y("transactions:Q")),
        "segments": _bars(s["by_segment"], "customer_segment", "Amount by customer segment (INR)", "amount_inr"),
        "categories": _bars(s["by_category"], "category", "Transactions by category"),
        "cities": _bars(s["by_city"], "city", "Transactions by city"),
    }
    if s["festival_lift"]:
        found["festivals"] = _bars(s["festival_lift"], "festival", "Festival lift: transactions per day over an "
                                                                   "ordinary day", "lift_transactions")
    if s["fraud"]:
        found["fraud"] = _stacked(s["fraud"], "Fraud by type and severity")
    if s["anomalies"]:
        found["anomalies"] = _stacked(s["anomalies"], "Anomalies by type and severity")
    if s["fraud_by_week"]:
        found["fraud_over_time"] = _over_time(s["fraud_by_week"], s["campaign"])
    return found


def _over_time(rows: list[dict[str, Any]], campaign: str | None) -> alt.TopLevelMixin:
    """Each type's fraud rate per week (solid) and the rate asked for (dashed)."""
    title = "Fraud rate per week by type, realised (solid) and asked (dashed)" + (
        f": campaign {campaign}" if campaign else "")
    base = alt.Chart(alt.Data(values=rows), title=title, width=WIDTH)
    x = alt.X("period:T", title="week from")
    color = alt.Color("type:N", title="fraud type")
    realised = base.mark_line(point=True).encode(x=x, y=alt.Y("rate:Q", title="share of the week's transactions",
                                                              axis=alt.Axis(format="%")), color=color)
    asked = base.mark_line(strokeDash=[4, 3]).encode(x=x, y="expected_rate:Q", color=color)
    return alt.layer(realised, asked)


def _volume_rows(rows: list[dict[str, Any]], key: str) -> list[tuple[Any, ...]]:
    return [(r[key], f"{r['transactions']:,}", f"{r['share']:.1%}", f"{r['amount_inr']:,.0f}", f"{r['mean_inr']:,.0f}",
             f"{r['fraud_rate']:.2%}", f"{r['anomaly_rate']:.2%}") for r in rows]


VOLUME_HEADERS = ("", "transactions", "share", "amount ₹", "mean ₹", "fraud", "anomalies")


def sections(s: dict[str, Any]) -> list[tuple[str, tuple[str, ...], list[tuple[Any, ...]]]]:
    """The page's tables: (title, headers, rows), shared by the HTML and the Markdown."""
    t = s["totals"]
    return [
        ("Totals", ("measure", "value"), [
            ("transactions", f"{t['transactions']:,}"), ("customers", f"{t['customers']:,}"),
            ("merchants", f"{t['merchants']:,}"), ("amount ₹", f"{t['amount_inr']:,.2f}"),
            ("dates", f"{t['first_date']} to {t['last_date']}"), ("fraud", f"{t['fraud_rate']:.2%}"),
            ("anomalies", f"{t['anomaly_rate']:.2%}"), ("declined", f"{t['decline_rate']:.2%}")]),
        ("By customer segment", VOLUME_HEADERS, _volume_rows(s["by_segment"], "customer_segment")),
        ("By category", VOLUME_HEADERS, _volume_rows(s["by_category"], "category")),
        ("By payment mode", VOLUME_HEADERS, _volume_rows(s["by_payment_mode"], "payment_mode")),
        ("By city", VOLUME_HEADERS, _volume_rows(s["by_city"], "city")),
        ("By day of the week", VOLUME_HEADERS, _volume_rows(s["by_day_of_week"], "day")),
        ("By hour (IST)", VOLUME_HEADERS, _volume_rows(s["by_hour"], "local_hour")),
        ("Festival lift (per day, over an ordinary day)",
         ("festival", "days", "transactions/day", "lift", "amount lift"),
         [(r["festival"], r["days"], f"{r['transactions_per_day']:,.0f}", f"{r['lift_transactions']:.2f}x",
           f"{r['lift_amount']:.2f}x") for r in s["festival_lift"]]),
        ("Fraud by type and severity", ("type", "severity", "transactions", "amount ₹"),
         [(r["type"], r["severity"], f"{r['transactions']:,}", f"{r['amount_inr']:,.0f}") for r in s["fraud"]]),
        ("Anomalies by type and severity", ("type", "severity", "transactions", "amount ₹"),
         [(r["type"], r["severity"], f"{r['transactions']:,}", f"{r['amount_inr']:,.0f}") for r in s["anomalies"]]),
        ("Fraud per week" + (f" (campaign {s['campaign']})" if s["campaign"] else ""),
         ("week from", "type", "rows", "rate", "asked", "entry"),
         [(r["period"], r["type"], f"{r['fraud_rows']:,}", f"{r['rate']:.3%}", f"{r['expected_rate']:.3%}", r["entry"])
          for r in s["fraud_by_week"]]),
    ]


def title(s: dict[str, Any]) -> str:
    return f"SynFinance dataset: {s['dataset']}" + (f" (seed {s['seed']})" if s.get("seed") is not None else "")


def to_html(s: dict[str, Any]) -> str:
    figures = "".join(figure(name, png(chart)) for name, chart in charts(s).items())
    tables = "".join(f"<h2>{html.escape(name)}</h2>{html_table(headers, rows)}" for name, headers, rows in sections(s))
    return html_page(title(s), f"<h2>Charts</h2>{figures}{tables}")


def to_markdown(s: dict[str, Any]) -> str:
    def table(headers: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
        if not rows:
            return "None.\n"
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
        return "\n".join(lines) + "\n"

    return f"# {title(s)}\n\n" + "\n".join(f"## {name}\n\n{table(headers, rows)}"
                                           for name, headers, rows in sections(s))
