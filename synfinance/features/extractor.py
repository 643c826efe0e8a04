"""FeatureExtractor: 69 features per transaction, the same code for a batch and for one transaction.

    extractor = FeatureExtractor()                # or FeatureExtractor(FeatureState.restore(path))
    features = extractor.extract(transactions)    # time-ordered table in, FEATURE_TABLE_SCHEMA out
    one = extractor.extract_one(transaction_dict) # the same computation on a batch of one
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from synfinance.errors import SchemaError
from synfinance.features.customer import customer_features
from synfinance.features.inputs import Checked, Rows, check_input, row_from_mapping, to_rows
from synfinance.features.state import FeatureState, Keyed
from synfinance.features.windows import CustomerWindows, device_features, merchant_features
from synfinance.schema import FEATURE_NAMES, FEATURE_TABLE_SCHEMA

CHUNK_ROWS = 32_768  # rows per step: bounds the (rows x ring) working matrices (~8 MB each)


def interactions(f: dict[str, np.ndarray], amount: np.ndarray) -> None:
    """Products and combinations of the other features (filled in place)."""
    z = f["amount_log_z_abs"]
    ratio = np.where(np.isnan(f["amount_to_mean_ratio"]), 1.0, f["amount_to_mean_ratio"])
    speed = np.where(np.isnan(f["speed_from_prev_kmh"]), 0.0, f["speed_from_prev_kmh"])
    home = np.log1p(f["distance_from_home_km"])
    f["velocity_x_amount_dev"] = f["txn_count_1h"] * z
    f["new_merchant_night_high_amount"] = f["is_new_merchant"] * f["is_night"] * (ratio > 3)
    f["geo_risk_x_speed"] = home * np.log1p(speed)
    f["new_device_x_amount_ratio"] = f["is_new_device"] * ratio
    f["merchant_velocity_x_low_reputation"] = f["merchant_customers_1h"] * (1.0 - f["merchant_reputation"])
    f["micro_burst_x_amount"] = f["micro_count_1h"] * np.log1p(amount)
    f["declined_x_velocity"] = f["declined_share_7d"] * f["txn_count_24h"]
    f["shared_device_x_new_device"] = f["device_customers_shared"] * f["is_new_device"]
    f["round_amount_x_new_merchant"] = ((amount % 1000 == 0) & (amount >= 1000)) * f["is_new_merchant"]
    f["distance_x_new_merchant"] = home * f["is_new_merchant"]
    f["risk_score"] = (
        0.15 * np.minimum(f["txn_count_1h"] / 5, 1) + 0.15 * np.minimum(z / 3, 1) + 0.1 * f["is_new_device"]
        + 0.1 * f["is_new_merchant"] + 0.1 * np.minimum(speed / 800, 1) + 0.1 * f["is_night"]
        + 0.1 * np.minimum(f["merchant_customers_1h"] / 10, 1) + 0.1 * f["declined_share_7d"]
        + 0.1 * f["anomaly_score"]
    )


class FeatureExtractor:
    def __init__(self, state: FeatureState | None = None, chunk_rows: int = CHUNK_ROWS) -> None:
        self.state = state if state is not None else FeatureState()
        self.chunk_rows = chunk_rows

    def extract(self, table: pa.Table, where: str = "input") -> pa.Table:
        """Features of every row of a time-ordered table; the state advances past it."""
        columns = self._extracted(table, where)
        ids = table.column("transaction_id").combine_chunks()
        return pa.Table.from_arrays([ids, *(pa.array(c, from_pandas=True) for c in columns)],  # NaN -> null
                                    schema=FEATURE_TABLE_SCHEMA)

    def matrix(self, table: pa.Table, where: str = "input") -> np.ndarray:
        """extract's features as a (rows, 69) float matrix in FEATURE_NAMES order (NaN = missing), without the
        round trip through Arrow (what scoring takes)."""
        return np.column_stack(self._extracted(table, where)).astype(np.float64, copy=False)  # no rows: (0, 69)

    def _extracted(self, table: pa.Table, where: str) -> list[np.ndarray]:
        check_input(table, where)
        parts = []
        for i in range(0, table.num_rows, self.chunk_rows):
            chunk = table.slice(i, self.chunk_rows)
            slots = {key: kind.slots(chunk.column(col)) for key, kind, col in self.keyed()}
            parts.append(self._columns(to_rows(chunk), slots))
        return [np.concatenate([p[name] for p in parts]) if parts else np.zeros(0) for name in FEATURE_NAMES]

    def extract_one(self, transaction: Mapping[str, Any]) -> dict[str, float | None]:
        """The 69 features of one transaction, no earlier than any seen before for its customer."""
        (found,) = self.extract_rows([transaction])
        if isinstance(found, SchemaError):
            raise found
        return {name: (None if v != v else v) for name, v in zip(FEATURE_NAMES, found.tolist(), strict=True)}

    def extract_rows(self, transactions: Sequence[Mapping[str, Any]]) -> list[np.ndarray | SchemaError]:
        """Feature vectors of transactions taken in the order given, as one extract_one after another would give
        them (to 1e-9), in one vectorised pass: a malformed transaction, or one earlier than its customer's last
        (seen before or earlier in the list), gets its SchemaError instead and leaves the state as it was."""
        found: list[np.ndarray | SchemaError] = []
        taken: list[tuple[int, Checked, dict[str, str | None]]] = []
        last: dict[str, int] = {}  # the customers' latest times, this list's accepted rows included
        customers = self.state.customers
        for i, transaction in enumerate(transactions):
            try:
                checked, keys = row_from_mapping(transaction)
            except SchemaError as exc:
                found.append(exc)
                continue
            customer_id, ts = keys["customer_id"] or "", checked.ts
            if customer_id not in last and (slot := customers.index.get(customer_id)) is not None:
                last[customer_id] = int(customers["t_last"][slot])
            if ts < last.get(customer_id, ts):
                found.append(SchemaError(f"transaction: timestamp is earlier than customer {customer_id}'s last one"))
                continue
            last[customer_id] = ts
            found.append(np.empty(0))  # its place; filled below
            taken.append((i, checked, keys))
        if taken:
            slots = {key: np.array([kind.slot(keys[col]) for _, _, keys in taken], dtype=np.int64)
                     for key, kind, col in self.keyed()}
            values = self._columns(Rows.of([checked for _, checked, _ in taken]), slots)
            matrix = np.column_stack([values[name] for name in FEATURE_NAMES]).astype(np.float64)
            for j, (i, _, _) in enumerate(taken):
                found[i] = matrix[j]
        return found

    def keyed(self) -> tuple[tuple[str, Keyed, str], ...]:
        st = self.state
        return (("customer", st.customers, "customer_id"), ("merchant", st.merchants, "merchant_id"),
                ("device", st.devices, "device_id"), ("city", st.cities, "city"))

    def _columns(self, rows: Rows, slots: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        st = self.state
        customer, merchant, device, city = slots["customer"], slots["merchant"], slots["device"], slots["city"]
        out: dict[str, np.ndarray] = {}
        # merchants and devices see rows in time order, across customers
        merchant_features(rows, merchant, customer, st.merchants, out)
        device_features(device, customer, st.devices, out)
        # customers see their own rows in time order (already so when sorted by customer, e.g. one row)
        order = np.argsort(customer, kind="stable")
        identity = bool((order == np.arange(len(order))).all())
        mine: dict[str, np.ndarray] = {}
        by_customer = rows if identity else rows.take(order)
        cust, merch, dev, place = ((customer, merchant, device, city) if identity else
                                   (customer[order], merchant[order], device[order], city[order]))
        windows = CustomerWindows(by_customer, cust, merch, dev, place, st.customers)
        windows.features(by_customer, merch, dev, place, mine)
        flags = customer_features(by_customer, cust, windows.seq.start, windows.seq.count, mine, st.customers)
        windows.deviations(flags, st.customers, mine)
        if identity:
            out.update(mine)
        else:
            for name, values in mine.items():
                column = np.empty(len(order))
                column[order] = values
                out[name] = column
        out["distance_from_home_km"] = rows.home_km
        out["hour_of_day"] = rows.hour.astype(float)
        out["is_weekend"] = rows.weekend.astype(float)
        out["is_holiday_or_festival"] = rows.holiday.astype(float)
        out["is_night"] = (rows.hour < 6).astype(float)
        out["merchant_reputation"] = rows.reputation
        for name in ("category_unseen", "mode_unseen"):
            out[name] = out[name].astype(float)
        interactions(out, rows.amount)
        return out
