"""Guarded promotion: `model guard` rolls a newly promoted champion back when label feedback shows it clearly worse
than the one it replaced (a challenger trained on shuffled labels), and leaves a sound one in place."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from click.testing import CliRunner

from synfinance.cli import main
from synfinance.generation import GenerationParams
from synfinance.model import promotion, registry
from synfinance.model.data import Labelled, load_labelled
from synfinance.model.fitting import fit_model
from synfinance.model.guard import Figures, judge
from synfinance.output.dataset import read_dataset
from synfinance.runner import write_dataset
from synfinance.schema import PREDICTION_SCHEMA
from synfinance.settings.models import GuardConfig
from synfinance.store.connect import Database
from synfinance.store.feedback import FeedbackRepository
from synfinance.store.load import load_dataset, load_part

GUARD = GuardConfig()


@pytest.mark.parametrize(("before", "after", "rolls_back", "says"), [
    pytest.param(Figures("v1", 100, 60, 10_000, 50), Figures("v2", 100, 40, 10_000, 50), True, "precision",
                 id="precision-fell"),
    pytest.param(Figures("v1", 100, 60, 10_000, 50), Figures("v2", 100, 55, 10_000, 50), False, "holds up",
                 id="within-margin"),
    pytest.param(Figures("v1", 100, 60, 10_000, 50), Figures("v2", 10, 0, 10_000, 50), False, "not judged yet",
                 id="too-few-flags"),
    pytest.param(Figures("v1", 100, 60, 10_000, 50), Figures("v2", 100, 60, 10_000, 300), True, "decline rate",
                 id="declines-jumped"),
    pytest.param(Figures("v1", 100, 60, 10_000, 50), Figures("v2", 100, 60, 100, 30), False, "not judged yet",
                 id="too-few-decisions"),
])
def test_the_guard_judges_on_enough_evidence(before: Figures, after: Figures, rolls_back: bool, says: str) -> None:
    verdict = judge(before, after, GUARD)
    assert verdict.roll_back == rolls_back and says in verdict.reason


def run(db: Database, *args: str) -> tuple[int, str, str]:
    env = {"SYNFINANCE_DATABASE__URL": db.url, "SYNFINANCE_DATABASE__SCHEMA_NAME": db.schema}
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def shuffled(data: Labelled) -> Labelled:
    return Labelled(data.x, np.random.default_rng(0).permutation(data.y), data.ts, data.fraud_type, data.amount_inr,
                    data.ids)


async def decide_and_feed_back(db: Database, models: Path, version: str, txns: pa.Table, x: np.ndarray) -> None:
    """`version` scores the rows as the API would store them, and every label is fed back."""
    model = registry.load(models, version)
    n = txns.num_rows
    predictions = pa.table({
        "transaction_id": txns["transaction_id"], "fraud_probability": model.predict(x),
        "decision": pa.array(model.policy.decide(model.predict(x)).tolist()),
        "reasons": pa.array([[]] * n, PREDICTION_SCHEMA.field("reasons").type), "anomaly_score": np.zeros(n),
        "model_version": pa.array([version] * n),
        "scored_at": pa.array([dt.datetime.now(dt.UTC)] * n, PREDICTION_SCHEMA.field("scored_at").type)},
        schema=PREDICTION_SCHEMA)
    conn = await db.connect(bulk=True)
    try:
        await load_part(conn, txns, None, predictions)
        await FeedbackRepository(conn).record(txns["transaction_id"].to_pylist(), txns["is_fraud"].to_pylist(),
                                              txns["fraud_type"].to_pylist())
    finally:
        await conn.close()


@pytest.mark.postgres
@pytest.mark.slow
def test_a_bad_champion_is_rolled_back_within_the_window_and_a_sound_one_kept(db: Database, tmp_path: Path) -> None:
    # setup: v0001 sound, v0002 trained on shuffled labels, v0003 sound; the data stored, v0001 deciding first
    out = write_dataset(GenerationParams(count=40_000, seed=9, fraud_rate=0.05), tmp_path / "ds",
                        features=True).parent
    data, models = load_labelled(out), tmp_path / "models"
    for seed, labelled in ((1, data), (2, shuffled(data)), (3, data)):
        fit_model(out, models, seed=seed, num_threads=2, data=labelled)
    registry.deploy(models, "v0001")
    asyncio.run(load_dataset(db, out, workers=1))
    tables = read_dataset(out)
    txns = tables["transactions"]
    x = np.column_stack([tables["features"][n].to_numpy() for n in registry.load(models).metadata["feature_names"]])
    thirds = np.array_split(np.arange(txns.num_rows), 3)
    asyncio.run(decide_and_feed_back(db, models, "v0001", txns.take(thirds[0]), x[thirds[0]]))
    # run: the bad one promoted, deciding and fed back, then the guard
    promotion.promote(models, "v0002", "to be caught")
    asyncio.run(decide_and_feed_back(db, models, "v0002", txns.take(thirds[1]), x[thirds[1]]))
    code, out_text, err = run(db, "model", "guard", "--json", "--models", str(models))
    # check
    assert code == 0, err
    doc = json.loads(out_text)
    assert doc["rolled_back"] and "precision of v0002" in doc["verdict"], doc
    assert registry.active_version(models) == "v0001"
    assert promotion.history(models)[-1]["action"] == "rollback"
    assert promotion.history(models)[-1]["reason"].startswith("guard: ")
    code, out_text, _ = run(db, "model", "guard", "--json", "--models", str(models))
    assert not json.loads(out_text)["rolled_back"]  # a rollback is not judged again
    # and a sound champion stays
    promotion.promote(models, "v0003", "sound")
    asyncio.run(decide_and_feed_back(db, models, "v0003", txns.take(thirds[2]), x[thirds[2]]))
    code, out_text, err = run(db, "model", "guard", "--json", "--models", str(models))
    assert code == 0 and not json.loads(out_text)["rolled_back"], out_text + err
    assert registry.active_version(models) == "v0003"
