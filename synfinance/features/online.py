"""The online feature store, one shard of it: customers routed by a hash of their id, warmed from a dataset.

    shard = OnlineShard(index=0, shards=2)
    shard.warm(dataset_dir)                  # replays this shard's customers' history, in time order
    row = shard.one(transaction_dict)        # 69 features (NaN = missing); the state advances
    x = shard.many(table)                    # a batch; rows may come in any order, results in input order

Both paths run FeatureExtractor, the code that labels datasets offline, so a transaction gets the
same features online as it would offline after the same history. Merchant and device features see
the transactions routed to this shard (offline, the transactions of one generation shard).
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synfinance.errors import Problem, SchemaError, ValidationError
from synfinance.features.extractor import FeatureExtractor
from synfinance.features.inputs import INPUT_COLUMNS, INPUT_SCHEMA
from synfinance.output.dataset import PARTS, read_manifest
from synfinance.output.formats import read_table
from synfinance.schema import EPOCH, FEATURE_NAMES, TRANSACTION_SCHEMA


def shard_of(customer_ids: Sequence[str] | pa.Array | pa.ChunkedArray, shards: int) -> np.ndarray:
    """Shard of each customer id: crc32 of its UTF-8 bytes modulo the shard count (stable across processes)."""
    if shards == 1:  # one shard holds every customer: no id needs hashing
        return np.zeros(len(customer_ids), np.int64)
    ids = pa.array(customer_ids, pa.string()) if not isinstance(customer_ids, pa.Array | pa.ChunkedArray) \
        else customer_ids
    encoded = pc.dictionary_encode(ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids)
    uniques = encoded.dictionary.to_pylist()
    shard_of_unique = np.fromiter((shard_of_one(u, shards) for u in uniques), np.int64, len(uniques))
    return shard_of_unique[encoded.indices.to_numpy(zero_copy_only=False)]


def shard_of_one(customer_id: str, shards: int) -> int:
    """shard_of for one id, without Arrow (a single score's routing)."""
    return zlib.crc32(customer_id.encode()) % shards


def feature_vector(features: Mapping[str, float | None]) -> np.ndarray:
    return np.array([np.nan if features[n] is None else features[n] for n in FEATURE_NAMES], dtype=np.float64)


class OnlineShard:
    def __init__(self, index: int, shards: int) -> None:
        if not 0 <= index < shards:
            raise ValidationError.single("shard", index, f"an index from 0 to {shards - 1}")
        self.index, self.shards = index, shards
        self.extractor = FeatureExtractor()
        self.warmed_rows = 0
        self.warmed_until: Any = None  # the latest transaction warmed from a dataset (a rebuild replays after it)

    def mine(self, customer_ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Which of these customers this shard holds."""
        return shard_of(customer_ids, self.shards) == self.index

    def warm(self, directory: Path) -> int:
        """Replay the dataset's transactions of this shard's customers, oldest first; returns rows replayed."""
        directory = Path(directory)
        manifest = read_manifest(directory)
        mine = []
        for entry in manifest["files"]:
            if entry["path"].split("/")[0] != PARTS:
                continue
            table = read_table(directory / entry["path"], manifest["format"], TRANSACTION_SCHEMA).select(INPUT_COLUMNS)
            mine.append(table.filter(pa.array(self.mine(table.column("customer_id")))))
        if not mine:
            return 0
        history = pa.concat_tables(mine)
        order = pc.sort_indices(history, [("timestamp", "ascending"), ("transaction_id", "ascending")])
        self.extractor.extract(history.take(order), where=str(directory))
        self.warmed_rows += history.num_rows
        latest = pc.max(history.column("timestamp")).as_py()
        self.warmed_until = latest if self.warmed_until is None else max(latest, self.warmed_until)
        return history.num_rows

    def replay(self, table: pa.Table) -> int:
        """Advance the state with later transactions (INPUT_COLUMNS, any customers: this shard's are taken), oldest
        first; rows not later than their customer's last are skipped. Returns rows replayed."""
        mine = table.filter(pa.array(self.mine(table.column("customer_id"))))
        if not mine.num_rows:
            return 0
        mine = mine.take(pc.sort_indices(mine, [("timestamp", "ascending"), ("transaction_id", "ascending")]))
        replayed = 0
        # a rebuild (a shard recreated, an API restarted): the rows stored since the warm-up, row by row so one that
        # is older than its customer's last (stored with ?score=false) is skipped, not fatal; not a hot path
        for row in mine.to_pylist():
            try:
                self.one(row)
            except ValidationError:
                continue
            replayed += 1
        self.warmed_rows += replayed
        return replayed

    def one(self, transaction: Mapping[str, Any]) -> np.ndarray:
        """Features of one transaction (the state advances); ValidationError if it is older than the customer's last."""
        (x,) = self.ones([transaction])
        if isinstance(x, ValidationError):
            raise x
        return x

    def ones(self, transactions: Sequence[Mapping[str, Any]]) -> list[np.ndarray | ValidationError]:
        """Features of single transactions in the order given, as one() after another would give them, computed in
        one pass; one that is refused (older than its customer's last) gets its ValidationError, the rest go on."""
        return [ValidationError([Problem("timestamp", t.get("timestamp"), str(x))]) if isinstance(x, SchemaError) else x
                for t, x in zip(transactions, self.extractor.extract_rows(transactions), strict=True)]

    def many(self, table: pa.Table, positions: np.ndarray | None = None) -> np.ndarray:
        """Features of a batch, rows in input order; `positions` are the rows' indices in the caller's request
        (named in errors). Every row older than its customer's last transaction is reported, and then none is used."""
        positions = np.arange(table.num_rows) if positions is None else positions
        table = pa.Table.from_arrays([table.column(n) for n in INPUT_COLUMNS], schema=INPUT_SCHEMA)
        ts = table.column("timestamp").cast(pa.int64()).to_numpy()
        self._check_not_older(table, ts, positions)
        order = np.argsort(ts, kind="stable")
        x = self.extractor.matrix(table.take(pa.array(order)), where="transactions")
        out = np.empty_like(x)
        out[order] = x
        return out

    def _check_not_older(self, table: pa.Table, ts: np.ndarray, positions: np.ndarray) -> None:
        customers = self.extractor.state.customers
        uniques = pc.unique(table.column("customer_id"))
        slots = np.array([customers.index.get(c, -1) for c in uniques.to_pylist()], dtype=np.int64)
        known = slots >= 0
        if not known.any():
            return
        row_unique = pc.index_in(table.column("customer_id"), value_set=uniques).to_numpy(zero_copy_only=False)
        last = np.where(known, customers["t_last"][np.maximum(slots, 0)], np.iinfo(np.int64).min)
        bad = np.flatnonzero(ts < last[row_unique])
        if len(bad):
            ids = table.column("transaction_id")
            raise ValidationError([
                Problem(f"transactions[{positions[i]}].timestamp", _when(ts[i]),
                        "a time no earlier than this customer's last scored transaction "
                        f"({_when(last[row_unique[i]])}; transaction {ids[int(i)].as_py()})")
                for i in bad[:20]])

    def knows(self, customer_id: str) -> bool:
        """Whether the shard already holds this customer (a feature-store hit for a single score)."""
        return customer_id in self.extractor.state.customers.index

    def known(self, customer_ids: pa.Array | pa.ChunkedArray) -> int:
        """How many of these rows' customers the shard already holds (feature-store hits of a batch)."""
        counts = pc.value_counts(customer_ids)
        index = self.extractor.state.customers.index
        return sum(n for c, n in zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(),
                                     strict=True) if c in index)

    def customer_count(self) -> int:
        return len(self.extractor.state.customers)

    def stats(self) -> dict[str, int]:
        st = self.extractor.state
        return {"shard": self.index, "customers": len(st.customers), "merchants": len(st.merchants),
                "devices": len(st.devices), "state_bytes": st.nbytes(), "warmed_rows": self.warmed_rows}


def _when(microseconds: Any) -> str:
    """A stored time (microseconds since the epoch) as ISO 8601 in UTC."""
    return (EPOCH + dt.timedelta(microseconds=int(microseconds))).isoformat()
