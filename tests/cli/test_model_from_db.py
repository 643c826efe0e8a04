"""`model train --from-db`: a model trained on what the service stored sees only the labels fed back by its cut-off
(a label that had not arrived is not known: its transaction is left out), in its window; the registry says so."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from click.testing import CliRunner

from synfinance.cli import main
from synfinance.generation import GenerationParams
from synfinance.model import registry
from synfinance.output.dataset import read_dataset
from synfinance.runner import write_dataset
from synfinance.schema import PREDICTION_SCHEMA
from synfinance.store.connect import Database
from synfinance.store.feedback import FeedbackRepository
from synfinance.store.load import load_dataset, load_part

pytestmark = pytest.mark.postgres
LATE = "late_chargeback"  # the fraud type every late label carries: a model that saw one would show it


def run(db: Database, *args: str) -> tuple[int, str, str]:
    env = {"SYNFINANCE_DATABASE__URL": db.url, "SYNFINANCE_DATABASE__SCHEMA_NAME": db.schema}
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def predictions(txns: pa.Table) -> pa.Table:
    """One stored prediction per transaction (feedback is joined to the prediction it was scored with)."""
    n = txns.num_rows
    return pa.table({"transaction_id": txns["transaction_id"], "fraud_probability": np.zeros(n),
                     "decision": pa.array(["approve"] * n), "reasons": pa.array([[]] * n, PREDICTION_SCHEMA.field(
                         "reasons").type), "anomaly_score": np.zeros(n), "model_version": pa.array(["v0000"] * n),
                     "scored_at": txns["timestamp"]}, schema=PREDICTION_SCHEMA)


@pytest.mark.slow
def test_training_from_the_database_sees_only_labels_fed_back_by_the_cut_off(db: Database, tmp_path: Path) -> None:
    # setup: a dataset stored with its features and a prediction per row; 70 % of the labels fed back, then the
    # cut-off, then the rest (every one of them saying "fraud", of a type no dataset has)
    out = write_dataset(GenerationParams(count=20_000, seed=4, fraud_rate=0.05, customers=400), tmp_path / "ds",
                        features=True).parent
    txns = read_dataset(out)["transactions"]
    ids = np.array(txns["transaction_id"].to_pylist(), dtype=object)
    truth = txns["is_fraud"].to_numpy(zero_copy_only=False)
    types = txns["fraud_type"].to_pylist()
    early = np.random.default_rng(1).random(len(ids)) < 0.7

    async def store() -> str:
        await load_dataset(db, out, workers=1)
        conn = await db.connect(bulk=True)
        try:
            await load_part(conn, txns, None, predictions(txns))
            feedback = FeedbackRepository(conn)
            await feedback.record(list(ids[early]), [bool(t) for t in truth[early]],
                                  [t for t, e in zip(types, early, strict=True) if e])
            # the late labels' now() is their own transaction's start: after this instant
            cutoff = await conn.fetchval("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', "
                                         "'YYYY-MM-DD\"T\"HH24:MI:SS.US')")
            await feedback.record(list(ids[~early]), [True] * int((~early).sum()), [LATE] * int((~early).sum()))
            return str(cutoff)
        finally:
            await conn.close()

    cutoff = asyncio.run(store())
    models = tmp_path / "models"
    # run
    code, _, err = run(db, "model", "train", "--from-db", "--labels-until", cutoff, "--models", str(models),
                       "--no-deploy", "--json")
    # check: exactly the early labels, none of the late ones
    assert code == 0, err
    version = registry.versions(models)[-1]
    trained = json.loads((models / version / "metadata.json").read_text())["training_data"]
    assert trained["source"] == "database" and trained["labelled_rows"] == int(early.sum())
    assert trained["labels_until"] == cutoff + "+00:00"
    scores = registry.stored_scores(models, version)
    assert LATE not in set(scores["fraud_type"].drop_null().to_pylist())
    frauds_used = trained["frauds"] + int(pc.sum(scores["is_fraud"]).as_py())
    assert frauds_used == int(truth[early].sum())
    # and with every label known (no cut-off: now), the late ones are used
    code, _, err = run(db, "model", "train", "--from-db", "--models", str(models), "--no-deploy", "--json")
    assert code == 0, err
    everything = json.loads((models / registry.versions(models)[-1] / "metadata.json").read_text())["training_data"]
    assert everything["labelled_rows"] == len(ids)


def test_from_db_and_data_are_one_or_the_other(db: Database, tmp_path: Path) -> None:
    code, _, err = run(db, "model", "train", "--models", str(tmp_path))
    assert code == 2 and "--data DIR or --from-db" in err
    code, _, err = run(db, "model", "train", "--data", str(tmp_path), "--since", "2025-10-01", "--models",
                       str(tmp_path))
    assert code == 2 and "since" in err and "only with --from-db" in err
    code, _, err = run(db, "model", "train", "--from-db", "--since", "2025-10-09", "--until", "2025-10-02")
    assert code == 2 and "a date after --since" in err


def test_an_empty_window_is_refused_with_what_it_held(db: Database, tmp_path: Path) -> None:
    code, _, err = run(db, "model", "train", "--from-db", "--models", str(tmp_path))
    assert code != 0 and "0 labelled rows" in err
