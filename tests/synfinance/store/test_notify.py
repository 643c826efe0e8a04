"""ReferenceFeed on a real PostgreSQL: the reference rows at start, again after every committed change to the
customers or merchants (migration 0010's triggers), and after a lost listening connection."""

from __future__ import annotations

import queue
from collections.abc import Callable
from typing import Any

import pytest
from pg_schemas import execute

from synfinance.settings.models import DatabaseConfig
from synfinance.store.connect import Database
from synfinance.store.notify import APPLICATION, ReferenceFeed

pytestmark = pytest.mark.postgres
Read = tuple[list[dict[str, Any]], list[dict[str, Any]]]
ADD = ("INSERT INTO merchants SELECT (jsonb_populate_record(NULL::merchants, to_jsonb(m) || "
       "jsonb_build_object('merchant_id', $1::text, 'reputation', 0.125))).* FROM merchants m LIMIT 1")


def next_read(reads: queue.Queue[Read], holds: Callable[[Read], bool], timeout_s: float = 30) -> Read:
    """The first read (from now on) that satisfies `holds`; queue.Empty if none arrives in time."""
    while True:
        read = reads.get(timeout=timeout_s)
        if holds(read):
            return read


def merchant_ids(read: Read) -> set[str]:
    return {m["merchant_id"] for m in read[1]}


def test_the_feed_hands_over_the_reference_and_every_change(loaded_db: Database) -> None:
    reads: queue.Queue[Read] = queue.Queue()
    config = DatabaseConfig(enabled=True, url=loaded_db.url, schema_name=loaded_db.schema)
    feed = ReferenceFeed(config, lambda c, m: reads.put((c, m)), quiet_s=0.05, retry_s=0.1)
    try:
        assert feed.start(wait_s=30)
        customers, merchants = reads.get(timeout=1)
        assert customers and merchants
        assert {"customer_id", "city", "home_latitude", "home_longitude"} <= set(customers[0])
        execute(loaded_db, ADD, "MER_FEED_1")
        added = next_read(reads, lambda r: "MER_FEED_1" in merchant_ids(r))
        assert next(m for m in added[1] if m["merchant_id"] == "MER_FEED_1")["reputation"] == 0.125
        assert len(added[1]) == len(merchants) + 1
        execute(loaded_db, "DELETE FROM merchants WHERE merchant_id = $1", "MER_FEED_1")
        assert len(next_read(reads, lambda r: "MER_FEED_1" not in merchant_ids(r))[1]) == len(merchants)
        # the listening connection is killed: the feed connects again, and reads what changed meanwhile
        execute(loaded_db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                APPLICATION)
        execute(loaded_db, ADD, "MER_FEED_2")
        next_read(reads, lambda r: "MER_FEED_2" in merchant_ids(r))
        execute(loaded_db, "DELETE FROM merchants WHERE merchant_id = $1", "MER_FEED_2")
        next_read(reads, lambda r: "MER_FEED_2" not in merchant_ids(r))
    finally:
        feed.stop()
    assert not feed._thread.is_alive()
