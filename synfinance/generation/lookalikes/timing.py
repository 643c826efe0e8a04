"""When payments bunch up: sprees (a festival mall visit, a sale-day checkout: imitates velocity abuse and
bursts), retried bookings (a declined ticket payment tried again minutes later: imitates replays and card
testing) and refunds that are not fraud (imitates refund fraud)."""

from __future__ import annotations

import numpy as np

from synfinance.generation.lookalikes.base import LookAlike, Shard
from synfinance.population import payments as pay
from synfinance.population.categories import category_index
from synfinance.schema import US_PER_S
from synfinance.world.frame import PAYMENT_COLUMNS, Frame
from synfinance.world.running import running_group_sum

SPREE_SIZE = (3, 9)  # purchases in a spree, the first included
SPREE_GAP_S = (60, 900)
RETRY_BEFORE_S = (30, 300)
REFUNDED = np.array([category_index("Fashion"), category_index("Electronics")])


class Spree(LookAlike):
    name = "sprees"
    imitates = "velocity_abuse, burst (many payments in an hour)"
    summary = "A customer's next 2-8 purchases follow the first within minutes: a mall visit, a sale-day checkout."
    order = 40

    def _apply(self, frame: Frame, shard: Shard, rate: float) -> None:
        offset = frame.block_offset()
        remaining = np.repeat(frame.counts, frame.counts) - offset  # rows left in the block from this one
        anchors = shard.chosen(remaining >= SPREE_SIZE[0], rate)
        size = np.minimum(shard.rng.integers(*SPREE_SIZE, len(anchors)), remaining[anchors])
        owner = np.repeat(np.arange(len(anchors)), size)
        step = np.arange(len(owner)) - np.repeat(np.cumsum(size) - size, size)
        rows = anchors[owner] + step
        gap = np.where(step > 0, shard.rng.uniform(*SPREE_GAP_S, len(rows)), 0.0)
        after_s = running_group_sum(gap, step == 0)
        ts = frame["ts"][anchors][owner] + (after_s * US_PER_S).astype(np.int64)
        frame["ts"][rows] = np.minimum(ts, shard.plan.end_us - 1)


class RetriedBooking(LookAlike):
    name = "retries"
    imitates = "transaction_replay, card_testing (the same charge again minutes later)"
    summary = "An online booking is declined and tried again 30 s-5 min later: same merchant, amount, card, device."
    order = 41

    def _apply(self, frame: Frame, shard: Shard, rate: float) -> None:
        offset = frame.block_offset()
        rows = shard.chosen(frame["online"] & (offset % 2 == 1), rate)  # odd rows: pairs never overlap
        tried = rows - 1  # the same customer's row before it becomes the declined first attempt
        for column in PAYMENT_COLUMNS:
            frame[column][tried] = frame[column][rows]
        frame["status"][tried] = pay.DECLINED
        frame["status"][rows] = pay.APPROVED
        before = (shard.rng.uniform(*RETRY_BEFORE_S, len(rows)) * US_PER_S).astype(np.int64)
        frame["ts"][tried] = np.maximum(frame["ts"][rows] - before, shard.plan.first_us)


class Refund(LookAlike):
    name = "refunds"
    imitates = "refund_fraud, friendly_fraud (a reversed online purchase)"
    summary = "An online fashion or electronics purchase is returned and refunded: reversed, not fraud."
    order = 42

    def _apply(self, frame: Frame, shard: Shard, rate: float) -> None:
        rows = shard.chosen(frame["online"] & np.isin(frame["category"], REFUNDED), rate)
        frame["status"][rows] = pay.REVERSED
