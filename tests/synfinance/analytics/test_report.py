"""`generate report`: the dataset summary agrees with the rows counted another way, and its page is drawn in a real
browser, every chart inked."""

from __future__ import annotations

import collections
import datetime as dt
from pathlib import Path

import pytest
from browser import page_images

from synfinance.analytics.page import charts, sections, to_html, to_markdown
from synfinance.analytics.summary import summarise
from synfinance.generation import GenerationParams
from synfinance.output.dataset import read_dataset
from synfinance.runner import write_dataset
from synfinance.world.campaign import load_campaign, shipped_campaigns


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "ds"
    # October to December: Durga Puja, Diwali and Christmas fall inside
    write_dataset(GenerationParams(count=30_000, seed=11, customers=300, merchants=800,
                                   start=dt.date(2025, 10, 1), days=92), out)
    return out


def test_the_summary_counts_what_the_rows_hold(dataset: Path) -> None:
    rows = read_dataset(dataset)["transactions"].to_pylist()
    s = summarise(dataset)
    assert s["totals"]["transactions"] == len(rows)
    assert s["totals"]["customers"] == len({r["customer_id"] for r in rows})
    for key, field in (("by_category", "category"), ("by_segment", "customer_segment"), ("by_hour", "local_hour")):
        counted = collections.Counter(r[field] for r in rows)
        assert {r[field]: r["transactions"] for r in s[key]} == dict(counted), key
    frauds = collections.Counter((r["fraud_type"], r["fraud_severity"]) for r in rows if r["is_fraud"])
    assert {(r["type"], r["severity"]): r["transactions"] for r in s["fraud"]} == dict(frauds)
    anomalies = collections.Counter((r["anomaly_type"], r["anomaly_severity"]) for r in rows if r["is_anomaly"])
    assert {(r["type"], r["severity"]): r["transactions"] for r in s["anomalies"]} == dict(anomalies)
    assert sum(r["transactions"] for r in s["by_city"]) == len(rows)
    # festival lift: that festival's days' mean count over the mean count of days without a festival
    per_day = collections.Counter((r["local_date"], r["festival"]) for r in rows)
    ordinary = [n for (_, f), n in per_day.items() if f is None]
    diwali = [n for (_, f), n in per_day.items() if f == "Diwali"]
    lift = {r["festival"]: r["lift_transactions"] for r in s["festival_lift"]}
    assert lift["Diwali"] == pytest.approx((sum(diwali) / len(diwali)) / (sum(ordinary) / len(ordinary)))
    assert lift["Diwali"] > 1  # the festival shows


def test_the_page_draws_every_chart_and_the_markdown_has_every_table(dataset: Path, tmp_path: Path) -> None:
    s = summarise(dataset)
    page = tmp_path / "report.html"
    page.write_text(to_html(s))
    images = page_images(page)
    assert {i["id"] for i in images} == set(charts(s)) >= {"hours", "daily", "segments", "categories", "cities",
                                                            "festivals", "fraud", "anomalies",
                                                            "fraud_over_time"}
    for image in images:
        assert image["complete"] and image["width"] > 300 and image["height"] > 100, image
        assert image["inked"] > 0.01, image
    markdown = to_markdown(s)
    for title, _, rows in sections(s):
        assert f"## {title}" in markdown
        assert all(str(row[0]) in markdown for row in rows)


def test_a_campaign_s_weeks_are_counted_for_its_types_only(tmp_path: Path) -> None:
    # setup: the scam from day 42 on
    campaign = load_campaign(shipped_campaigns()["novel_collect_request"])
    params = GenerationParams(count=30_000, seed=11, customers=300, merchants=800, campaign=campaign)
    write_dataset(params, tmp_path / "ds")
    # run
    s = summarise(tmp_path / "ds")
    # check: one row per whole week of the campaign's one type, its rows counted as the raw rows say
    assert s["campaign"] == "novel_collect_request"
    assert {r["type"] for r in s["fraud_by_week"]} == {"collect_request"} and len(s["fraud_by_week"]) == 92 // 7
    rows = read_dataset(tmp_path / "ds")["transactions"].to_pylist()
    week = collections.Counter((r["local_date"] - params.start).days // 7 for r in rows
                               if r["fraud_type"] == "collect_request")
    assert [r["fraud_rows"] for r in s["fraud_by_week"]] == [week.get(i, 0) for i in range(92 // 7)]
    assert all(r["expected_rate"] == 0 for r in s["fraud_by_week"][:6]) and s["fraud_by_week"][7]["expected_rate"] > 0
    assert "fraud_over_time" in charts(s)
