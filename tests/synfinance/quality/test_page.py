"""The HTML report opens in a real browser and every chart on it is drawn."""

from __future__ import annotations

from pathlib import Path

from browser import page_images

from synfinance.quality.data import Dataset
from synfinance.quality.page import charts, write_page
from synfinance.quality.profile import profile
from synfinance.quality.run import assess
from synfinance.settings.models import Settings


def test_every_chart_of_the_report_is_drawn(quality_dir: Path, tmp_path: Path) -> None:
    # setup: a report of the clean dataset against a baseline of itself (every chart has both series)
    clean = Dataset.read(quality_dir)
    data = Dataset.read(quality_dir, baseline={"profile": profile(clean)})
    report = assess(data, Settings(), name="quality test").to_json()
    expected = set(charts(report["charts"]))
    assert {"amounts", "hours", "daily-rates", "missing", "fraud-shares", "anomaly-shares"} <= expected
    # run
    images = page_images(write_page(tmp_path / "report", report))
    # check: one image per chart, loaded, of a real size, with ink on it
    assert {i["id"] for i in images} == expected
    for image in images:
        assert image["complete"] and image["width"] > 300 and image["height"] > 150, image
        assert image["inked"] > 0.01, image
