"""Which feature shard holds a customer: crc32 of the id modulo the shard count, the same for a batch and for one
id, and no hashing at all with one shard."""

from __future__ import annotations

import zlib

import numpy as np
import pyarrow as pa
import pytest

from synfinance.features.online import shard_of, shard_of_one


@pytest.mark.parametrize("shards", [1, 2, 3, 7])
def test_a_batch_is_routed_as_each_of_its_ids_alone(shards: int) -> None:
    ids = [f"CUST-{i:06d}" for i in range(200)] + ["CUST-000003", "कस्टमर-१"]  # repeats and non-ASCII text
    for given in (ids, pa.array(ids), pa.chunked_array([ids[:50], ids[50:]])):
        routed = shard_of(given, shards)
        assert routed.dtype == np.int64 and len(routed) == len(ids)
        assert routed.tolist() == [shard_of_one(i, shards) for i in ids]
        assert routed.tolist() == [zlib.crc32(i.encode()) % shards for i in ids]
    if shards > 1:
        assert len(set(shard_of(ids, shards).tolist())) == shards  # 200 ids reach every shard
