"""An evaluation people can look at: one self-contained HTML page with the charts as embedded PNGs.

The charts are Vega-Lite specifications built with Altair and rendered to PNG by vl-convert (no browser,
no network): the precision-recall curve with the policy's operating point, the score distribution by
label, recall per fraud type at the policy, and the confusion of decisions against the truth.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import altair as alt
import numpy as np

from synfinance.model.policy import DECISIONS, Policy
from synfinance.output.charts import figure, html_page, png
from synfinance.output.files import atomic_path

CURVE_POINTS = 400  # the PR curve is drawn from this many cut points (a page stays small for any row count)
WIDTH, HEIGHT = 520, 300


def pr_points(y: np.ndarray, score: np.ndarray) -> list[dict[str, float]]:
    """(recall, precision) at CURVE_POINTS cuts of the ranked scores."""
    order = np.argsort(-score, kind="stable")
    hits = np.cumsum(y[order])
    k = np.arange(1, len(y) + 1)
    cuts = np.unique(np.linspace(0, len(y) - 1, min(CURVE_POINTS, len(y))).astype(np.int64))
    frauds = max(int(y.sum()), 1)
    return [{"recall": float(hits[i] / frauds), "precision": float(hits[i] / k[i])} for i in cuts]


def pr_chart(y: np.ndarray, score: np.ndarray, at_policy: dict[str, Any]) -> Any:
    curve = alt.Chart(alt.Data(values=pr_points(y, score))).mark_line().encode(
        x=alt.X("recall:Q", scale=alt.Scale(domain=[0, 1])), y=alt.Y("precision:Q", scale=alt.Scale(domain=[0, 1])))
    point = alt.Chart(alt.Data(values=[{"recall": at_policy["recall"], "precision": at_policy["precision"],
                                        "label": "the policy (review + decline)"}])).mark_point(
        size=120, filled=True, color="#d62728").encode(x="recall:Q", y="precision:Q", tooltip=["label:N"])
    return (curve + point).properties(title="Precision and recall by threshold", width=WIDTH, height=HEIGHT)


def histogram_chart(y: np.ndarray, score: np.ndarray, policy: Policy) -> Any:
    edges = np.linspace(0, 1, 51)
    rows = []
    for label, mask in (("fraud", y == 1), ("genuine", y == 0)):
        counts, _ = np.histogram(score[mask], bins=edges)
        share = counts / max(int(mask.sum()), 1)
        rows += [{"score": float(edges[i]), "share": float(share[i]), "label": label} for i in range(len(counts))]
    bars = alt.Chart(alt.Data(values=rows)).mark_bar(opacity=0.6, binSpacing=0).encode(
        x=alt.X("score:Q", bin=alt.Bin(binned=True, step=0.02), title="fraud probability"),
        x2="score_end:Q", y=alt.Y("share:Q", title="share of the label's rows", stack=None),
        color=alt.Color("label:N", scale=alt.Scale(domain=["genuine", "fraud"], range=["#1f77b4", "#d62728"])),
    ).transform_calculate(score_end="datum.score + 0.02")
    cuts = [{"at": policy.review_at, "what": "review"}]
    if policy.decline_at is not None:
        cuts.append({"at": policy.decline_at, "what": "decline"})
    rules = alt.Chart(alt.Data(values=cuts)).mark_rule(strokeDash=[4, 3]).encode(x="at:Q", tooltip=["what:N"])
    return (bars + rules).properties(title="Scores by label (dashed: the policy's thresholds)", width=WIDTH,
                                     height=HEIGHT)


def recall_chart(per_type: dict[str, float]) -> Any:
    rows = [{"type": name, "recall": value} for name, value in sorted(per_type.items())]
    return alt.Chart(alt.Data(values=rows)).mark_bar().encode(
        x=alt.X("recall:Q", scale=alt.Scale(domain=[0, 1])), y=alt.Y("type:N", sort="-x", title=None),
    ).properties(title="Recall per fraud type at the policy", width=WIDTH, height=18 * max(len(rows), 1))


def confusion_chart(y: np.ndarray, codes: np.ndarray) -> Any:
    rows = [{"truth": truth, "decision": DECISIONS[c], "count": int(((y == t) & (codes == c)).sum())}
            for t, truth in ((1, "fraud"), (0, "genuine")) for c in range(len(DECISIONS))]
    base = alt.Chart(alt.Data(values=rows)).encode(
        x=alt.X("decision:N", sort=list(DECISIONS)), y=alt.Y("truth:N", sort=["fraud", "genuine"]))
    cells = base.mark_rect().encode(color=alt.Color("count:Q", scale=alt.Scale(type="symlog"), legend=None))
    text = base.mark_text(fontSize=14).encode(text=alt.Text("count:Q", format=","))
    return (cells + text).properties(title="Decisions against the truth", width=WIDTH // 2, height=120)


def write_report(out: Path, title: str, y: np.ndarray, score: np.ndarray, policy: Policy,
                 metrics: dict[str, Any]) -> Path:
    """out/index.html (self-contained) and one PNG per chart beside it; returns the page's path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    charts = {
        "precision-recall": pr_chart(y, score, metrics),
        "score-histogram": histogram_chart(y, score, policy),
        "recall-by-type": recall_chart(metrics["per_type_recall"]),
        "confusion": confusion_chart(y, policy.codes(score)),
    }
    figures = []
    for name, chart in charts.items():
        image = png(chart)
        with atomic_path(out / f"{name}.png") as tmp:
            tmp.write_bytes(image)
        figures.append(figure(name, image))
    decline = "never" if policy.decline_at is None else f"{policy.decline_at:.4f}"
    facts = [("rows", f"{metrics['rows']:,}"), ("frauds", f"{metrics['frauds']:,}"),
             ("PR-AUC", f"{metrics['pr_auc']:.4f}"), ("ROC-AUC", f"{metrics['roc_auc']:.4f}"),
             ("review at / decline at", f"{policy.review_at:.4f} / {decline}"),
             ("sent to review", f"{metrics['review_rate']:.2%}"), ("declined", f"{metrics['decline_rate']:.2%}"),
             ("precision of flagged", f"{metrics['precision']:.3f}"), ("recall of flagged", f"{metrics['recall']:.3f}")]
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in facts)
    page = html_page(title, f"<table>{rows}</table>{''.join(figures)}",
                     "body{font-family:sans-serif;margin:2em;max-width:60em}th{text-align:left;padding-right:2em}"
                     "figure{margin:1.5em 0}")
    with atomic_path(out / "index.html") as tmp:
        tmp.write_text(page)
    return out / "index.html"
