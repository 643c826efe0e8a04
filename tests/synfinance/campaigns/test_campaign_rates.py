"""Each shipped campaign, generated: its types' realised rates per week match what its file asks (within ±15 %
in every week with enough cases), the types it does not name keep their stationary rates, labels and evidence
name the campaign and its entry, and each entry's target and adaptation show in the rows."""

from __future__ import annotations

import datetime as dt
import json
import math
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import synfinance
from synfinance.analytics.timeline import timeline
from synfinance.patterns.registry import pattern_class
from synfinance.schema import EPOCH_DATE
from synfinance.world.campaign import Campaign, load_campaign, shipped_campaigns
from synfinance.world.catalogue import type_shares
from synfinance.world.plan import GenerationParams, GenerationPlan

COUNT, FRAUD_RATE, SEED = 1_000_000, 0.05, 5
# A week is judged when it expects at least this many cases of the type: placed at random, their count would
# spread by 10 % (one standard deviation); a campaign places them in proportion to each day's transactions, and
# its realised rates spread less (types that keep their rows' times excepted).
MIN_CASES = 100
TOLERANCE = 0.15
SCENARIOS = ("compromised_merchant", "novel_collect_request", "festive_surge", "adaptive_fraudsters")


@cache
def scenario(name: str) -> tuple[Campaign, pa.Table]:
    campaign = load_campaign(shipped_campaigns()[name])
    return campaign, synfinance.generate(count=COUNT, seed=SEED, fraud_rate=FRAUD_RATE, campaign=campaign)


@cache
def stationary() -> pa.Table:
    return synfinance.generate(count=COUNT, seed=SEED, fraud_rate=FRAUD_RATE)


def params(campaign: Campaign | None) -> GenerationParams:
    return GenerationParams(count=COUNT, seed=SEED, fraud_rate=FRAUD_RATE, campaign=campaign)


def evidence_of(table: pa.Table, fraud_type: str) -> list[dict[str, object]]:
    rows = table.filter(pc.equal(table["fraud_type"], fraud_type))
    return [json.loads(e) for e in rows["fraud_evidence"].to_pylist()]


def test_every_scenario_is_shipped() -> None:
    assert set(SCENARIOS) <= set(shipped_campaigns())


@pytest.mark.slow
@pytest.mark.parametrize("name", SCENARIOS)
def test_weekly_rates_match_the_file(name: str) -> None:
    # setup
    campaign, table = scenario(name)
    # run
    rows = [r for r in timeline(table, params(campaign), "week") if r["type"] in campaign.fraud_types]
    # check: every whole week with enough cases, except the last days in which a pattern starts no case
    end = params(campaign).start + dt.timedelta(days=params(campaign).days)
    judged = 0
    for r in rows:
        cls = pattern_class("fraud", r["type"])
        week_end = dt.date.fromisoformat(r["period"]) + dt.timedelta(days=7)
        no_starts_from = end - dt.timedelta(days=math.ceil(cls.tail_days))
        if r["expected_rows"] / cls.rows_per_case < MIN_CASES or week_end > no_starts_from:
            continue
        judged += 1
        assert abs(r["rate"] / r["expected_rate"] - 1) <= TOLERANCE, r
    assert judged >= 4  # the check means something: the campaign's weeks are judged
    in_entries = [r for r in rows if r["entry"]]
    assert in_entries and all(r["expected_rate"] > 0 for r in in_entries)


@pytest.mark.slow
@pytest.mark.parametrize("name", SCENARIOS)
def test_types_the_campaign_does_not_name_keep_their_rates(name: str) -> None:
    campaign, table = scenario(name)
    counts = {r["values"]: r["counts"] for r in pc.value_counts(table["fraud_type"]).to_pylist()}
    plain = {r["values"]: r["counts"] for r in pc.value_counts(stationary()["fraud_type"]).to_pylist()}
    for fraud_type, share in type_shares("fraud").items():
        if fraud_type in campaign.fraud_types:
            continue
        expected = COUNT * FRAUD_RATE * share
        # the same budget as without the campaign: only the rounding of cases and the victims drawn differ
        assert abs(counts.get(fraud_type, 0) - plain.get(fraud_type, 0)) <= 4 * np.sqrt(expected) + 20, fraud_type


@pytest.mark.slow
@pytest.mark.parametrize("name", SCENARIOS)
def test_campaign_rows_name_their_campaign_and_entry(name: str) -> None:
    campaign, table = scenario(name)
    plan = GenerationPlan(params(campaign))
    local_day = (table["local_date"].combine_chunks().cast(pa.int32()).to_numpy(zero_copy_only=False)
                 - (plan.params.start - EPOCH_DATE).days)
    for fraud_type in campaign.fraud_types:
        mine = pc.equal(table["fraud_type"], fraud_type).fill_null(False).to_numpy(zero_copy_only=False)
        found = [json.loads(e) for e in table["fraud_evidence"].filter(pa.array(mine)).to_pylist()]
        tagged = np.array([e.get("entry") for e in found], dtype=object)
        assert all(e.get("campaign") in (None, campaign.name) for e in found)
        for s in campaign.entries_for(fraud_type, plan.params.start):
            days = local_day[mine][tagged == s.entry.name]
            assert len(days) > 0, s.entry.name
            # a case starts inside its entry's days (and may run on a few hours, or its pattern's tail, after)
            assert days.min() >= s.first_day and np.median(days) < s.end_day, s.entry.name


def _entry_rows(table: pa.Table, entry: str) -> pa.Table:
    tagged = pc.match_substring(table["fraud_evidence"].fill_null(""), f'"entry":"{entry}"')
    return table.filter(tagged)


@pytest.mark.slow
def test_adaptive_takeovers_move_under_the_review_limit_from_their_date() -> None:
    # setup: from day 46, 85 % of the entry's rows that were at or above ₹1,000 move under it
    campaign, table = scenario("adaptive_fraudsters")
    s = campaign.entries_for("account_takeover", params(campaign).start)[0]
    adapt = s.entry.adapt
    assert adapt is not None and adapt.below_inr == 1_000 and s.adapt_day == 46
    rows = _entry_rows(table, s.entry.name)
    day = (rows["local_date"].combine_chunks().cast(pa.int32()).to_numpy(zero_copy_only=False)
           - (params(campaign).start - EPOCH_DATE).days)
    above = rows["amount_inr"].combine_chunks().cast(pa.float64()).to_numpy(zero_copy_only=False) >= adapt.below_inr
    # run
    before, after = above[day < s.adapt_day].mean(), above[day >= s.adapt_day].mean()
    n_after = int((day >= s.adapt_day).sum())
    # check: after = before x (1 - share), within 4 binomial standard deviations
    expected = before * (1 - adapt.share)
    assert before > 0.2  # there was something to adapt
    assert abs(after - expected) <= 4 * np.sqrt(expected * (1 - expected) / n_after) + 0.01, (before, after)
    adapted = [json.loads(e).get("adapted", False) for e in rows["fraud_evidence"].to_pylist()]
    assert not any(a for a, d in zip(adapted, day, strict=True) if d < s.adapt_day)


@pytest.mark.slow
def test_adaptive_card_testers_move_to_food_and_dining() -> None:
    campaign, table = scenario("adaptive_fraudsters")
    s = campaign.entries_for("card_testing", params(campaign).start)[0]
    assert s.entry.adapt is not None and s.entry.adapt.category == "Food & Dining"
    rows = _entry_rows(table, s.entry.name)
    day = (rows["local_date"].combine_chunks().cast(pa.int32()).to_numpy(zero_copy_only=False)
           - (params(campaign).start - EPOCH_DATE).days)
    food = (rows["category"].combine_chunks().cast(pa.string()).to_numpy(zero_copy_only=False) == "Food & Dining")
    assert food[day < s.adapt_day].mean() < 0.05
    assert food[day >= s.adapt_day + 1].mean() > 0.95  # share 1: every row, bar a case that began the day before


@pytest.mark.slow
def test_compromised_merchant_burst_goes_through_one_merchant_and_clones_mumbai_cards() -> None:
    campaign, table = scenario("compromised_merchant")
    burst = _entry_rows(table, "testing_burst")
    assert len(burst) > 1000
    assert pc.count_distinct(burst["merchant_id"]).as_py() == 1
    assert set(burst["merchant_city"].to_pylist()) == {"Bengaluru"}
    cloned = _entry_rows(table, "cloned_mumbai_cards")
    customers = GenerationPlan(params(campaign)).customers.table
    home = dict(zip(customers["customer_id"].to_pylist(), customers["city"].to_pylist(), strict=True))
    assert len(cloned) > 500 and {home[c] for c in cloned["customer_id"].to_pylist()} == {"Mumbai"}
    assert "Mumbai" not in set(cloned["city"].to_pylist())  # swiped far from home
