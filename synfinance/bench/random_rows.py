"""Random rows of any SynFinance schema: the raw material of a benchmark floor."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from synfinance.sampling import format_ids
from synfinance.schema import amounts_from_paise

VOCABULARY_SIZE = 64  # distinct values in a random text column that is not an id


def random_column(rng: np.random.Generator, field: pa.Field, n: int) -> pa.Array:
    t = field.type
    if pa.types.is_string(t):
        if field.name.endswith("_id"):
            return format_ids(field.name[:3].upper() + "-", rng.integers(0, 10**12, n), 12)
        vocab = pa.array([f"value-{i:03d}-{rng.integers(10**6)}" for i in range(VOCABULARY_SIZE)])
        return vocab.take(pa.array(rng.integers(0, VOCABULARY_SIZE, n)))
    if pa.types.is_boolean(t):
        return pa.array(rng.random(n) < 0.5)
    if pa.types.is_integer(t):
        return pa.array(rng.integers(0, min(np.iinfo(t.to_pandas_dtype()).max, 10**6), n), t)
    if pa.types.is_floating(t):
        return pa.array(rng.random(n) * 1000)
    if pa.types.is_decimal(t):
        return amounts_from_paise(rng.integers(100, 10**7, n))
    if pa.types.is_timestamp(t):
        return pa.array(1_750_000_000_000_000 + np.sort(rng.integers(0, 10**13, n)), t)
    if pa.types.is_date(t):
        return pa.array(rng.integers(20_000, 20_100, n).astype(np.int32), t)
    raise TypeError(f"no random generator for {field.name}: {t}")


def random_table(schema: pa.Schema, n: int, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.Table.from_arrays([random_column(rng, f, n) for f in schema], schema=schema)
