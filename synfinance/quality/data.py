"""What the validators look at: a dataset's tables, the parameters it was generated with, and cached columns.

Columns are converted to numpy once and shared by every validator; strings are dictionary-encoded once.
Counts and rates are taken over every row; distribution statistics (drift, correlation, outliers by
category) over a fixed random sample of `sample_rows` rows, the same for the same data.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from synfinance.errors import SchemaError
from synfinance.output.dataset import FEATURES, PARTS, read_manifest
from synfinance.output.formats import read_table
from synfinance.schema import SCHEMAS, paise_from_amounts
from synfinance.settings.quality import QualityConfig

T = TypeVar("T")
SAMPLE_SEED = 20_251_001  # the sample is a property of the data, not of a run


def _read(path: Path, fmt: str, name: str) -> pa.Table:
    # Parquet as written, so a drifted schema is reported by the schema validator rather than refused on read
    return pq.read_table(path) if fmt == "parquet" else read_table(path, fmt, SCHEMAS[name])


class Dataset:
    def __init__(self, transactions: pa.Table, features: pa.Table | None = None, customers: pa.Table | None = None,
                 merchants: pa.Table | None = None, parameters: dict[str, Any] | None = None,
                 first_part_rows: int | None = None, baseline: dict[str, Any] | None = None,
                 config: QualityConfig | None = None) -> None:
        self.transactions, self.features = transactions, features
        self.customers, self.merchants = customers, merchants
        self.parameters = parameters or {}
        self.rows = transactions.num_rows
        self.first_part_rows = self.rows if first_part_rows is None else first_part_rows
        self.baseline = baseline
        self.config = config or QualityConfig()
        self._columns: dict[tuple[str, str], np.ndarray] = {}
        self._codes: dict[tuple[str, str], tuple[np.ndarray, list[Any]]] = {}
        self._sample: np.ndarray | None = None
        self._memo: dict[str, Any] = {}

    @classmethod
    def read(cls, directory: Path, baseline: dict[str, Any] | None = None,
             config: QualityConfig | None = None) -> Dataset:
        """A complete dataset directory (its manifest lists the files); features when it has them."""
        directory = Path(directory)
        manifest = read_manifest(directory)
        fmt = manifest["format"]
        parts: dict[str, list[pa.Table]] = {PARTS: [], FEATURES: []}
        population: dict[str, pa.Table] = {}
        for entry in sorted(manifest["files"], key=lambda e: e["path"]):
            folder, stem = entry["path"].split("/")[0], Path(entry["path"]).stem
            if folder in parts:
                parts[folder].append(_read(directory / entry["path"], fmt, folder))
            elif stem in ("customers", "merchants"):
                population[stem] = _read(directory / entry["path"], fmt, stem)
        if not parts[PARTS]:
            raise SchemaError(f"{directory}: the manifest lists no transaction parts")
        try:
            transactions = pa.concat_tables(parts[PARTS], promote_options="permissive")
            features = pa.concat_tables(parts[FEATURES], promote_options="permissive") if parts[FEATURES] else None
        except pa.ArrowInvalid as exc:
            raise SchemaError(f"{directory}: part files disagree on their schema: {exc}") from exc
        return cls(transactions, features, population.get("customers"), population.get("merchants"),
                   manifest.get("parameters", {}), parts[PARTS][0].num_rows, baseline, config)

    def has(self, need: str) -> bool:
        return {"features": self.features is not None, "baseline": self.baseline is not None,
                "population": self.customers is not None and self.merchants is not None,
                "parameters": bool(self.parameters)}[need]

    # cached columns ------------------------------------------------------------------------------------------------
    def table(self, name: str) -> pa.Table:
        table = {"transactions": self.transactions, "features": self.features, "customers": self.customers,
                 "merchants": self.merchants}[name]
        if table is None:
            raise SchemaError(f"the dataset has no {name}")
        return table

    def column(self, name: str, table: str = "transactions") -> np.ndarray:
        """A column as numpy: timestamps as int64 microseconds, INR amounts as float, nulls as NaN (floats)."""
        key = (table, name)
        if key not in self._columns:
            col = self.table(table).column(name)
            if pa.types.is_timestamp(col.type) or pa.types.is_date(col.type):
                values = col.cast(pa.int64() if pa.types.is_timestamp(col.type) else pa.int32()).to_numpy()
            elif pa.types.is_decimal(col.type):
                values = pc.cast(col, pa.float64()).to_numpy()
            elif pa.types.is_boolean(col.type):
                values = col.fill_null(False).to_numpy()
            elif pa.types.is_integer(col.type) and col.null_count:
                values = pc.cast(col, pa.float64()).to_numpy()
            else:
                values = col.to_numpy(zero_copy_only=False)
            self._columns[key] = values
        return self._columns[key]

    def sampled(self, name: str, table: str = "transactions") -> np.ndarray:
        """A numeric column's values at the sample's rows, as float64 (empty: NaN); taken before conversion, so
        a million-row column costs what the sample does."""
        key = (table, f"@sampled:{name}")
        if key not in self._columns:
            if self.rows <= self.config.sample_rows and (table, name) in self._columns:
                values = self._columns[(table, name)]
            else:
                col = self.table(table).column(name).take(pa.array(self.sample()))
                if pa.types.is_decimal(col.type) or pa.types.is_integer(col.type) or pa.types.is_boolean(col.type):
                    col = pc.cast(col, pa.float64())
                values = pc.fill_null(col, float("nan")).to_numpy() if col.null_count else col.to_numpy()
            self._columns[key] = np.asarray(values, dtype=np.float64)
        return self._columns[key]

    def paise(self) -> np.ndarray:
        """amount_inr as integer paise (exact); only for a decimal(·, 2) column."""
        key = ("transactions", "@paise")
        if key not in self._columns:
            self._columns[key] = paise_from_amounts(self.transactions.column("amount_inr"))
        return self._columns[key]

    def codes(self, name: str, table: str = "transactions") -> tuple[np.ndarray, list[Any]]:
        """(index per row, the distinct values) of a column; a null's index is -1."""
        key = (table, name)
        if key not in self._codes:
            col = self.table(table).column(name)
            encoded = pc.dictionary_encode(col).combine_chunks()
            indices = encoded.indices.fill_null(-1).to_numpy().astype(np.int64, copy=False)
            self._codes[key] = (indices, encoded.dictionary.to_pylist())
        return self._codes[key]

    def sample(self) -> np.ndarray:
        """Sorted row indices of the distribution sample (every row when there are fewer than sample_rows)."""
        if self._sample is None:
            n = self.config.sample_rows
            if self.rows <= n:
                self._sample = np.arange(self.rows)
            else:
                rng = np.random.default_rng(SAMPLE_SEED)
                self._sample = np.sort(rng.choice(self.rows, n, replace=False))
        return self._sample

    def memo(self, key: str, build: Callable[[], T]) -> T:
        """A value derived from the data, built once (e.g. the sampled feature matrix several checks read)."""
        if key not in self._memo:
            self._memo[key] = build()
        return cast(T, self._memo[key])

    def outside(self, name: str, domain: tuple[str, ...]) -> np.ndarray:
        """Rows whose value of a column is not in `domain`; an empty value is not outside (missing is its own
        check)."""
        column = self.transactions.column(name)
        outside = pc.and_(pc.invert(pc.is_in(column, value_set=pa.array(domain))), column.is_valid())
        return np.asarray(outside.to_numpy(zero_copy_only=False))

    def transaction_ids(self, index: np.ndarray) -> tuple[str, ...]:
        if not len(index) or "transaction_id" not in self.transactions.column_names:
            return ()
        return tuple(str(v) for v in self.transactions.column("transaction_id").take(pa.array(index)).to_pylist())
