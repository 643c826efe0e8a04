"""Fraud over time: each type's realised rate per day or week beside the rate its parameters and campaign ask for.

    rows = timeline(transactions, GenerationParams.from_json(manifest["parameters"]), by="week")
    # [{"period": "2025-10-22", "type": "card_testing", "fraud_rows": 812, "transactions": 76_914,
    #   "rate": 0.01056, "expected_rate": 0.0102, "entry": "testing_burst"}, ...]

Periods are counted from the dataset's first day (a week is days 0-6, 7-13, ...), so a campaign written in days
from the start lines up with them; a last, shorter week is left out. The expected rate of a period weighs each
day's asked rate by its transactions.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synfinance.errors import ParameterError, Problem
from synfinance.output.dataset import read_dataset, read_manifest
from synfinance.schema import EPOCH_DATE
from synfinance.world.campaign import Campaign
from synfinance.world.catalogue import type_shares
from synfinance.world.plan import GenerationParams, GenerationPlan

PERIOD_DAYS = {"day": 1, "week": 7}


def asked_rates(params: GenerationParams, day_rows: np.ndarray) -> dict[str, tuple[np.ndarray, list[str]]]:
    """Per fraud type: the rate asked for on each day, and the campaign entry running that day ("" if none)."""
    plan = GenerationPlan(params)
    shares = type_shares("fraud", params.fraud_types, params.fraud_weights)
    out: dict[str, tuple[np.ndarray, list[str]]] = {}
    for name in plan.fraud_types_present:
        rate = np.full(params.days, params.fraud_rate * shares.get(name, 0.0))
        entry = [""] * params.days
        if params.campaign is not None:
            base = params.fraud_rate * plan.campaign_share(name)
            for s in params.campaign.entries_for(name, params.start):
                days = slice(s.first_day, s.end_day)
                e = s.entry
                if e.multiplier is not None:
                    rate[days] = base * e.multiplier
                else:
                    rate[days] = (e.count or 0) / max(float(day_rows[days].sum()), 1.0)
                entry[days] = [e.name] * (s.end_day - s.first_day)
        out[name] = (rate, entry)
    return out


def timeline(transactions: pa.Table, params: GenerationParams, by: str = "week") -> list[dict[str, Any]]:
    """Per period and fraud type present in the dataset's parameters: rows, rate, expected rate (see the module)."""
    if by not in PERIOD_DAYS:
        raise ParameterError([Problem("by", by, f"one of {', '.join(PERIOD_DAYS)}")])
    date = transactions.column("local_date").combine_chunks().cast(pa.int32()).to_numpy(zero_copy_only=False)
    day = date - (params.start - EPOCH_DATE).days
    day_rows = np.bincount(day, minlength=params.days)[: params.days].astype(np.float64)
    fraud = transactions.column("fraud_type").combine_chunks()
    width = PERIOD_DAYS[by]
    period_of_day = np.arange(params.days) // width
    n_periods = params.days // width  # whole periods only: a last, shorter one would not compare
    period_rows = np.bincount(period_of_day, weights=day_rows, minlength=n_periods)
    rows: list[dict[str, Any]] = []
    for name, (rate, entry) in sorted(asked_rates(params, day_rows).items()):
        mine = day[pc.equal(fraud, name).fill_null(False).to_numpy(zero_copy_only=False)]
        counted = np.bincount(mine // width, minlength=n_periods)[:n_periods]
        expected = np.bincount(period_of_day, weights=day_rows * rate, minlength=n_periods)
        for p in range(n_periods):
            first = p * width
            entries = sorted({e for e in entry[first : first + width] if e})
            rows.append({
                "period": (params.start + dt.timedelta(days=first)).isoformat(), "type": name,
                "fraud_rows": int(counted[p]),
                "transactions": int(period_rows[p]), "rate": float(counted[p] / max(period_rows[p], 1)),
                "expected_rows": float(expected[p]), "expected_rate": float(expected[p] / max(period_rows[p], 1)),
                "entry": ",".join(entries),
            })
    return rows


def read_timeline(directory: Path, by: str = "week") -> tuple[list[dict[str, Any]], Campaign | None]:
    """The timeline of a dataset directory (its transactions and manifest), and its campaign if it has one."""
    manifest = read_manifest(directory)
    params = GenerationParams.from_json(manifest["parameters"])
    table = read_dataset(directory, verify=False, only=("transactions",))["transactions"]
    return timeline(table.select(["local_date", "fraud_type"]), params, by), params.campaign
