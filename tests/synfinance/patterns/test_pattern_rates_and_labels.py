"""Realised rates, label consistency, separability and difficulty of injected patterns."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import synfinance
from synfinance.model.metrics import roc_auc
from synfinance.schema import LABEL_FIELDS
from synfinance.world.catalogue import ANOMALY_NAMES, FRAUD_NAMES, HELD_OUT, type_shares

IDENTIFIERS = {"transaction_id"}  # unique per row: trivially "separating" and never a model input


def folded_auc(score: np.ndarray, y: np.ndarray) -> float:
    """ROC-AUC folded so that 0.5 means no separation either way (a field may separate by being low)."""
    auc = roc_auc(y.astype(np.int8), score)
    return max(auc, 1 - auc)


def field_aucs(table: pa.Table, seed: int = 0) -> dict[str, float]:
    """AUC of the best single-field rule per field: the value itself (numbers) or its fraud rate
    learnt on one half and scored on the other (categories), so memorising cannot win."""
    y = table.column("is_fraud").to_numpy(zero_copy_only=False)
    half = np.random.default_rng(seed).random(len(y)) < 0.5
    out = {}
    for field in table.schema:
        if field.name in LABEL_FIELDS or field.name in IDENTIFIERS:
            continue
        col, t = table.column(field.name), field.type
        if (
            pa.types.is_floating(t)
            or pa.types.is_decimal(t)
            or pa.types.is_timestamp(t)
            or (pa.types.is_integer(t) and field.name != "mcc")
        ):
            values = pc.cast(col, pa.int64() if pa.types.is_timestamp(t) else pa.float64())
            v = pc.fill_null(values, -1).to_numpy().astype(float)
            out[field.name] = folded_auc(v[~half], y[~half])
        else:
            codes = pc.dictionary_encode(pc.cast(col, pa.string())).combine_chunks()
            idx = pc.fill_null(codes.indices, -1).to_numpy().astype(np.int64) + 1
            k = idx.max() + 1
            rate = (np.bincount(idx[half], y[half], k) + 0.02) / (np.bincount(idx[half], minlength=k) + 1)
            out[field.name] = folded_auc(rate[idx[~half]], y[~half])
    return out


@pytest.mark.parametrize(("kind", "rate"), [("fraud", 0.02), ("anomaly", 0.05)])
def test_every_type_appears_at_its_rate(million: pa.Table, kind: str, rate: float) -> None:
    n = million.num_rows
    flagged = million.column(f"is_{kind}").to_numpy(zero_copy_only=False)
    assert abs(flagged.mean() / rate - 1) < 0.10
    counts = {r["values"]: r["counts"] for r in pc.value_counts(million.column(f"{kind}_type")).to_pylist()}
    names = FRAUD_NAMES if kind == "fraud" else ANOMALY_NAMES
    for name, share in type_shares(kind).items():
        assert abs(counts.get(name, 0) / (rate * n * share) - 1) < 0.10, (name, counts.get(name, 0))
    assert set(counts) - {None} == set(names) - set(HELD_OUT[kind])  # the held-out type only when asked for


def test_counts_of_every_kind(million: pa.Table) -> None:
    assert len(FRAUD_NAMES) == 19  # 15 fraud types + 3 combined + the held-out collect_request
    assert len(ANOMALY_NAMES) == 10
    both = pc.and_(million.column("is_fraud"), million.column("is_anomaly"))
    assert pc.sum(both).as_py() > 0  # a row can be both


@pytest.mark.parametrize("kind", ["fraud", "anomaly"])
def test_label_fields_are_consistent(million: pa.Table, kind: str) -> None:
    flagged = million.column(f"is_{kind}")
    for field in ("type", "severity", "confidence", "evidence"):
        present = pc.is_valid(million.column(f"{kind}_{field}"))
        assert pc.all(pc.equal(present, flagged)).as_py(), field
    rows = million.filter(flagged)
    assert set(rows.column(f"{kind}_severity").unique().to_pylist()) <= {"low", "medium", "high", "critical"}
    confidence = rows.column(f"{kind}_confidence").to_numpy()
    assert confidence.min() >= 0 and confidence.max() <= 1
    for text in rows.column(f"{kind}_evidence").to_pylist()[::97]:
        assert isinstance(json.loads(text), dict) and len(text) < 300


def test_no_single_raw_field_separates_fraud_at_realistic(million: pa.Table) -> None:
    aucs = field_aucs(million)
    assert len(aucs) == 50 - len(LABEL_FIELDS) - len(IDENTIFIERS)
    worst = max(aucs, key=aucs.__getitem__)
    assert aucs[worst] < 0.9, (worst, aucs[worst])


def test_difficulty_controls_how_far_fraud_departs() -> None:
    def best(difficulty: str) -> float:
        table = synfinance.generate(count=200_000, seed=8, difficulty=difficulty)
        aucs = field_aucs(table)
        return aucs["amount_inr"] + aucs["local_hour"]

    easy, realistic, hard = best("easy"), best("realistic"), best("hard")
    assert easy > realistic > hard


def test_fraud_types_restricts_injection() -> None:
    table = synfinance.generate(count=100_000, seed=4, fraud_types=("card_testing", "stolen_card"))
    kinds = set(table.column("fraud_type").unique().to_pylist()) - {None}
    assert kinds == {"card_testing", "stolen_card"}
    assert abs(pc.mean(table.column("is_fraud")).as_py() / 0.02 - 1) < 0.15


def test_patterns_off_leaves_labels_empty() -> None:
    table = synfinance.generate(count=20_000, seed=4, patterns=False)
    assert pc.sum(table.column("is_fraud")).as_py() == 0 and pc.sum(table.column("is_anomaly")).as_py() == 0
