"""The HTML report of the default dataset opens in a real browser and every chart on it is drawn."""

from __future__ import annotations

from pathlib import Path

from browser import page_images

from synfinance.quality.baseline import read_baseline
from synfinance.quality.data import Dataset
from synfinance.quality.page import charts, write_page
from synfinance.quality.run import assess
from synfinance.quality.separability import reference_dataset
from synfinance.settings.models import Settings

BASELINES = Path(__file__).parents[2] / "regression" / "baselines"


def test_every_chart_of_the_report_of_the_default_dataset_is_drawn(tmp_path: Path) -> None:
    # setup: the default million rows (shared with the docs check) against the committed baseline (both series)
    default = reference_dataset()
    data = Dataset(default.transactions, default.features, default.customers, default.merchants,
                   default.parameters, default.first_part_rows, read_baseline(BASELINES))
    report = assess(data, Settings(), name="the default dataset").to_json()
    expected = set(charts(report["charts"]))
    assert {"amounts", "hours", "daily-rates", "missing", "fraud-shares", "anomaly-shares"} <= expected
    # run
    images = page_images(write_page(tmp_path / "report", report))
    # check: one image per chart, loaded, of a real size, with ink on it
    assert {i["id"] for i in images} == expected
    for image in images:
        assert image["complete"] and image["width"] > 300 and image["height"] > 150, image
        assert image["inked"] > 0.01, image
