"""A dataset's analytics summary as plain data, computed with Arrow group-bys over the whole table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synfinance.analytics.timeline import timeline
from synfinance.output.dataset import read_dataset, read_manifest
from synfinance.world.plan import GenerationParams

TOP_CITIES = 15
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
COLUMNS = ("transaction_id", "customer_id", "merchant_id", "local_date", "local_hour", "day_of_week", "festival",
           "amount_inr", "category", "payment_mode", "status", "city", "customer_segment", "is_fraud", "fraud_type",
           "fraud_severity", "is_anomaly", "anomaly_type", "anomaly_severity")


def _volumes(t: pa.Table, key: str) -> list[dict[str, Any]]:
    """Per value of `key`: transactions, share, amount (INR), mean amount, fraud and anomaly rates; largest first."""
    g = t.group_by(key).aggregate([("amount", "sum"), ("amount", "count"), ("fraud", "sum"), ("anomaly", "sum")])
    n = g.column("amount_count").to_numpy().astype(np.int64)
    amount = g.column("amount_sum").to_numpy()
    rows = [{key: k, "transactions": int(c), "share": float(c / t.num_rows), "amount_inr": float(a),
             "mean_inr": float(a / c), "fraud_rate": float(f / c), "anomaly_rate": float(an / c)}
            for k, c, a, f, an in zip(g.column(key).to_pylist(), n, amount, g.column("fraud_sum").to_numpy(),
                                      g.column("anomaly_sum").to_numpy(), strict=True)]
    return sorted(rows, key=lambda r: (-r["transactions"], str(r[key])))


def _labels(t: pa.Table, flag: str, kind: str, severity: str) -> list[dict[str, Any]]:
    """Labelled rows by type and severity, most frequent type first."""
    flagged = t.filter(pc.field(flag))
    if not flagged.num_rows:
        return []
    g = flagged.group_by([kind, severity]).aggregate([("amount", "count"), ("amount", "sum")])
    rows = [{"type": k, "severity": s, "transactions": int(c), "amount_inr": float(a)}
            for k, s, c, a in zip(g.column(kind).to_pylist(), g.column(severity).to_pylist(),
                                  g.column("amount_count").to_pylist(), g.column("amount_sum").to_pylist(),
                                  strict=True)]
    totals: dict[str, int] = {}
    for r in rows:
        totals[r["type"]] = totals.get(r["type"], 0) + r["transactions"]
    return sorted(rows, key=lambda r: (-totals[r["type"]], r["type"], str(r["severity"])))


def _festival_lift(t: pa.Table) -> list[dict[str, Any]]:
    """Per festival: transactions and amount per day on its days over the same per ordinary (no-festival) day."""
    daily = t.group_by(["local_date", "festival"]).aggregate([("amount", "count"), ("amount", "sum")])
    festival = daily.column("festival").to_pylist()
    count = daily.column("amount_count").to_numpy().astype(np.float64)
    amount = daily.column("amount_sum").to_numpy()
    ordinary = np.array([f is None for f in festival])
    if not ordinary.any():
        return []
    base_n, base_a = count[ordinary].mean(), amount[ordinary].mean()
    rows = []
    for name in sorted({f for f in festival if f is not None}):
        on = np.array([f == name for f in festival])
        rows.append({"festival": name, "days": int(on.sum()), "transactions_per_day": float(count[on].mean()),
                     "lift_transactions": float(count[on].mean() / base_n),
                     "lift_amount": float(amount[on].mean() / base_a)})
    return sorted(rows, key=lambda r: -r["lift_transactions"])


def summarise(directory: Path) -> dict[str, Any]:
    """The summary of a dataset directory (`synfinance generate transactions --out DIR`)."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    txns = read_dataset(directory, only=("transactions",))["transactions"]
    t = txns.select(list(COLUMNS))
    t = t.append_column("amount", pc.cast(t.column("amount_inr"), pa.float64()))
    t = t.append_column("fraud", pc.cast(t.column("is_fraud"), pa.int64()))
    t = t.append_column("anomaly", pc.cast(t.column("is_anomaly"), pa.int64()))
    dates = t.column("local_date")
    cities = _volumes(t, "city")
    top, rest = cities[:TOP_CITIES], cities[TOP_CITIES:]
    if rest:
        n = sum(r["transactions"] for r in rest)
        amount = sum(r["amount_inr"] for r in rest)
        top.append({"city": f"{len(rest)} others", "transactions": n, "share": n / t.num_rows, "amount_inr": amount,
                    "mean_inr": amount / n, "fraud_rate": sum(r["fraud_rate"] * r["transactions"] for r in rest) / n,
                    "anomaly_rate": sum(r["anomaly_rate"] * r["transactions"] for r in rest) / n})
    by_day = _volumes(t, "day_of_week")
    for r in by_day:
        r["day"] = DAYS[int(r.pop("day_of_week"))]
    daily = sorted(_volumes(t, "local_date"), key=lambda r: r["local_date"])
    return {
        "dataset": str(directory), "seed": manifest.get("seed"),
        "totals": {"transactions": t.num_rows, "customers": pc.count_distinct(t.column("customer_id")).as_py(),
                   "merchants": pc.count_distinct(t.column("merchant_id")).as_py(),
                   "amount_inr": float(pc.sum(t.column("amount")).as_py() or 0.0),
                   "first_date": pc.min(dates).as_py().isoformat(), "last_date": pc.max(dates).as_py().isoformat(),
                   "fraud_rate": float(pc.mean(t.column("fraud")).as_py() or 0.0),
                   "anomaly_rate": float(pc.mean(t.column("anomaly")).as_py() or 0.0),
                   "decline_rate": float(pc.mean(pc.cast(pc.equal(t.column("status"), "declined"),
                                                         pa.int64())).as_py() or 0.0)},
        "by_segment": _volumes(t, "customer_segment"), "by_category": _volumes(t, "category"),
        "by_payment_mode": _volumes(t, "payment_mode"), "by_city": top,
        "by_hour": sorted(_volumes(t, "local_hour"), key=lambda r: r["local_hour"]),
        "by_day_of_week": sorted(by_day, key=lambda r: DAYS.index(r["day"])),
        "daily": [{**r, "local_date": r["local_date"].isoformat()} for r in daily],
        "festival_lift": _festival_lift(t),
        "fraud": _labels(t, "is_fraud", "fraud_type", "fraud_severity"),
        "anomalies": _labels(t, "is_anomaly", "anomaly_type", "anomaly_severity"),
        **_over_time(t, manifest),
    }


def _over_time(t: pa.Table, manifest: dict[str, Any]) -> dict[str, Any]:
    """Fraud per week by type, against what was asked: the campaign's types if it has one, else every type."""
    if not manifest.get("parameters", {}).get("patterns", False):
        return {"campaign": None, "fraud_by_week": []}
    params = GenerationParams.from_json(manifest["parameters"])
    rows = timeline(t, params, "week")
    if params.campaign is not None:
        rows = [r for r in rows if r["type"] in params.campaign.fraud_types]
    return {"campaign": None if params.campaign is None else params.campaign.name, "fraud_by_week": rows}
