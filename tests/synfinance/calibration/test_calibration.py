"""The calibration table: the default million against every published figure, the measures on hand-built rows,
a broken table refused with the field named, and the prevalence a user can choose."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import yaml

import synfinance
from synfinance.calibration.report import Result, compare
from synfinance.errors import ConfigError, ParameterError
from synfinance.population.calibration import calibration, load
from synfinance.quality.separability import REFERENCE
from synfinance.world.plan import GenerationParams

TABLE = Path(__file__).resolve().parents[3] / "config" / "calibration.yaml"


@pytest.fixture(scope="module")
def measured(million: pa.Table) -> dict[str, Result]:
    """The default million (tests/synfinance/conftest.py; docs/generation.md measures the same rows) measured."""
    assert {"count": million.num_rows, "seed": 42} == REFERENCE
    return {r.figure.id: r for r in compare(million, fraud_rate=0.02)}


@pytest.mark.parametrize("figure", [f.id for f in calibration().figures])
def test_the_default_million_meets_every_published_figure(measured: dict[str, Result], figure: str) -> None:
    result = measured[figure]
    if result.figure.prevalence:  # fraud is oversampled by default: the report says so instead of judging
        assert result.status.startswith("not judged: fraud oversampled ×2,353"), result.status
        return
    lo, hi = result.figure.tolerance
    assert result.status == "inside", f"{figure}: {result.ours} outside {lo}..{hi}"


def rows(**columns: object) -> pa.Table:
    """A transactions-shaped table with only the columns the figures read."""
    n = len(next(iter(columns.values())))  # type: ignore[arg-type]
    base: dict[str, object] = {
        "payment_mode": ["UPI"] * n, "amount_inr": [100.0] * n, "merchant_type": ["local"] * n,
        "is_fraud": [False] * n, "local_hour": [12] * n, "local_date": [dt.date(2025, 10, 12)] * n,
        "festival": [None] * n, "category": ["Groceries"] * n, "is_online": [False] * n,
    }
    base.update(columns)
    types = {"local_hour": pa.int8(), "festival": pa.string()}
    return pa.table({k: pa.array(v, types.get(k)) for k, v in base.items()})


def figures(table: pa.Table, fraud_rate: float | None = None) -> dict[str, float | None]:
    return {r.figure.id: r.ours for r in compare(table, fraud_rate)}


def test_shares_leave_out_cash_and_fraud_and_count_emi_as_credit() -> None:
    t = rows(payment_mode=["UPI", "UPI", "Credit Card", "EMI", "Cash", "UPI"],
             is_fraud=[False, False, False, False, False, True])
    got = figures(t)
    assert got["upi_share"] == pytest.approx(2 / 4)  # the cash row and the fraud row are out
    assert got["credit_card_share"] == pytest.approx(2 / 4)
    assert got["debit_card_share"] == 0.0


def test_tickets_split_person_to_person_from_merchant_payments() -> None:
    t = rows(amount_inr=[100.0, 300.0, 2000.0, 6000.0], merchant_type=["local", "chain", "person", "person"])
    got = figures(t)
    assert got["p2m_share_of_upi"] == pytest.approx(0.5)
    assert got["upi_p2m_average_ticket"] == pytest.approx(200.0)
    assert got["upi_p2p_average_ticket"] == pytest.approx(4000.0)
    assert got["small_upi_p2m_share"] == 1.0 and got["large_upi_p2p_share"] == pytest.approx(0.5)


def test_month_start_and_festival_and_peak_hour() -> None:
    # days 1-5 of October: 3 rows each of ₹200; days 11-25: 1 row each of ₹100; Diwali days: 2 rows each
    dates, amounts, festivals = [], [], []
    for day in range(1, 6):
        dates += [dt.date(2025, 10, day)] * 3
        amounts += [200.0] * 3
        festivals += [None] * 3
    for day in range(11, 26):
        diwali = day >= 15 and day <= 20
        k = 2 if diwali else 1
        dates += [dt.date(2025, 10, day)] * k
        amounts += [100.0] * k
        festivals += ["Diwali" if diwali else None] * k
    hours = [19] * len(dates)
    hours[0] = 3
    got = figures(rows(local_date=dates, amount_inr=amounts, festival=festivals, local_hour=hours))
    mid_per_day = (9 * 1 + 6 * 2) / 15
    assert got["month_start_count"] == pytest.approx(3 / mid_per_day)
    assert got["month_start_value"] == pytest.approx(600 / (100 * mid_per_day))
    ordinary = (5 * 3 + 9 * 1) / 14  # days without a festival: 1-5 and 11-14, 21-25
    assert got["diwali_lift"] == pytest.approx(2 / ordinary)
    assert got["peak_hour"] == 19


def test_prevalence_is_judged_only_at_published_rates() -> None:
    # a table whose published rate is 1,000 per million: 40,000 rows expect 40 fraud rows, enough to judge
    real = calibration()
    figures = tuple(f.model_copy(update={"published": 1000.0, "tolerance": (500.0, 1500.0)}) if f.prevalence else f
                    for f in real.figures)
    table = real.model_copy(update={"figures": figures,
                                    "model": real.model.model_copy(update={"published_fraud_rate": 1e-3})})
    n = 40_000
    t = rows(is_fraud=np.arange(n) < 48, amount_inr=np.full(n, 100.0), payment_mode=["UPI"] * n)
    by_id = {r.figure.id: r for r in compare(t, fraud_rate=1e-3, table=table)}
    assert by_id["fraud_prevalence_upi"].ours == pytest.approx(1200.0)
    assert by_id["fraud_prevalence_upi"].status == "inside"
    oversampled = {r.figure.id: r for r in compare(t, fraud_rate=0.02, table=table)}["fraud_prevalence_upi"]
    assert oversampled.status == "not judged: fraud oversampled ×20"
    few = {r.figure.id: r for r in compare(t.slice(0, 20_000), fraud_rate=1e-3, table=table)}["fraud_prevalence_upi"]
    assert few.status == "not judged: 20,000 rows expect under 30 fraud rows"
    assert compare(t, fraud_rate=0.02)[-1].status == "not judged: fraud oversampled ×2,353"  # the real table


@pytest.mark.parametrize(
    ("change", "named"),
    [
        pytest.param(lambda d: d["figures"][0].update(sources=["nobody"]), "nobody", id="uncited-source"),
        pytest.param(lambda d: d["figures"][1].update(tolerance=[0.5, 0.1]), "figures.1", id="tolerance-reversed"),
        pytest.param(lambda d: d["figures"][2].update(modes=["Cheque"]), "Cheque", id="unknown-mode"),
        pytest.param(lambda d: d["model"]["online_modes"].pop(), "online_modes", id="bands-missing-a-row"),
        pytest.param(lambda d: d["sources"]["paytm-2022"].pop("date"), "date", id="source-undated"),
    ],
)
def test_a_broken_table_is_refused_naming_the_field(tmp_path: Path, change: object, named: str) -> None:
    doc = yaml.safe_load(TABLE.read_text())
    change(doc)  # type: ignore[operator]
    path = tmp_path / "calibration.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError) as raised:
        load(path)
    assert named in str(raised.value) and str(path) in str(raised.value)


@pytest.mark.parametrize("rate", [1e-6, 8.5e-6, 0.2])
def test_fraud_rate_accepts_real_world_prevalence_and_oversampling(rate: float) -> None:
    params = GenerationParams(count=50_000, seed=3, fraud_rate=rate).resolved()
    assert params.prevalence()["oversampling"] == pytest.approx(rate / 8.5e-6, rel=1e-3)


@pytest.mark.parametrize("rate", [0.0, 5e-7, 0.25])
def test_fraud_rate_outside_the_range_is_refused(rate: float) -> None:
    with pytest.raises(ParameterError) as raised:
        GenerationParams(count=1000, fraud_rate=rate).resolved()
    assert "fraud_rate" in str(raised.value) and "one per million" in str(raised.value)


def test_one_per_million_on_a_small_count_generates_what_it_says() -> None:
    table = synfinance.generate(count=20_000, seed=5, fraud_rate=1e-6)
    frauds = int(np.asarray(table.column("is_fraud")).sum())
    assert table.num_rows == 20_000 and frauds <= 1  # 0.02 rows expected: none, or at most one by chance
