"""One transaction explained from a dataset: its fields, its label and evidence, its 69 features beside the
customer's usual (the mean over their transactions), and what the model makes of it (probability, decision,
top contributions).

    report = explain(Path("dataset"), "TXN-...", Path("models"))
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from synfinance.errors import NotFound, OutputError
from synfinance.model import registry
from synfinance.model.scoring import score_columns
from synfinance.output.dataset import FEATURES, PARTS, read_manifest
from synfinance.schema import FEATURE_NAMES, LABEL_FIELDS


def _parts(data: Path, folder: str) -> ds.Dataset:
    manifest = read_manifest(data)
    if manifest.get("format", "parquet") != "parquet":
        raise OutputError(f"--data: {data} is {manifest['format']}; inspect reads Parquet datasets")
    return ds.dataset(data / folder, format="parquet")


def explain(data: Path, transaction_id: str, models: Path | None = None, version: str | None = None
            ) -> dict[str, Any]:
    data = Path(data)
    txns = _parts(data, PARTS)
    found = txns.to_table(filter=pc.field("transaction_id") == transaction_id)
    if found.num_rows == 0:
        raise NotFound(f"no transaction {transaction_id!r} in {data}")
    row = {k: v for k, v in found.to_pylist()[0].items()}
    report: dict[str, Any] = {
        "transaction": {k: v for k, v in row.items() if k not in LABEL_FIELDS},
        "label": {k: (json.loads(v) if k.endswith("_evidence") and isinstance(v, str) else v)
                  for k, v in row.items() if k in LABEL_FIELDS},
    }
    if not (data / FEATURES).is_dir():
        report["features"] = None  # generated without --features
        return report
    mine = txns.to_table(columns=["transaction_id"], filter=pc.field("customer_id") == row["customer_id"])
    features = _parts(data, FEATURES).to_table(filter=pc.field("transaction_id").isin(mine["transaction_id"]))
    x_all = np.column_stack([features[n].to_numpy(zero_copy_only=False).astype(np.float64) for n in FEATURE_NAMES])
    at = pc.index(features["transaction_id"], pa.scalar(transaction_id)).as_py()
    x = x_all[at:at + 1]
    with np.errstate(all="ignore"):
        usual = np.nanmean(x_all, axis=0)
    report["features"] = [{"name": n, "value": _num(x[0, i]), "usual": _num(usual[i])}
                          for i, n in enumerate(FEATURE_NAMES)]
    report["customer_transactions"] = len(x_all)
    if models is not None and registry.versions(models):
        model = registry.load(models, version)
        scored = score_columns(model, x, "all").rows()[0]
        report["model"] = {"version": model.version, **scored}
    return report


def _num(v: float) -> float | None:
    return None if np.isnan(v) else round(float(v), 6)
