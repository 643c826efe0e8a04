"""Transaction replay: a captured payment is submitted again, several times, minutes apart."""

from __future__ import annotations

import numpy as np

from synfinance.patterns.base import Cases, Injection, VictimPattern
from synfinance.patterns.context import PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.world.frame import PAYMENT_COLUMNS, Frame
from synfinance.world.running import running_group_sum


class TransactionReplayPattern(VictimPattern):
    kind = "fraud"
    name = "transaction_replay"
    summary = "A genuine payment's message is captured and replayed: the same charge repeats within minutes."
    signals = "same merchant, amount, card and device as an earlier payment, seconds to minutes later"
    rows_per_case = 3.0  # 3-5 rows taken, the first stays genuine
    keeps_time = True
    need = 5
    per_victim = (3, 6)

    def _rewrite(self, frame: Frame, ctx: PatternContext, cases: Cases) -> Injection:
        step = ctx.position(cases.owner)
        original = cases.rows[np.searchsorted(cases.owner, cases.owner)]  # each case's first row is the genuine payment
        replay = step > 0  # the replayed rows: every row of a case but its first
        rows, original, owner, step = cases.rows[replay], original[replay], cases.owner[replay], step[replay]
        ctx.reserve(original)  # later patterns must not change what the evidence points at
        for column in PAYMENT_COLUMNS:
            frame[column][rows] = frame[column][original]
        starts = np.ones(len(rows), dtype=bool)
        starts[1:] = owner[1:] != owner[:-1]
        after_s = running_group_sum(ctx.rng.uniform(20, 600, len(rows)), starts)
        frame["ts"][rows] = np.minimum(frame["ts"][original] + (after_s * 1e6).astype(np.int64), ctx.t1 - 1)
        n = len(rows)
        ev = evidence(n, replay=step,
                      merchant=ctx.merchants.table.column("merchant_id").take(frame["merchant"][rows]),
                      seconds_after_original=(frame["ts"][rows] - frame["ts"][original]) / 1e6)
        return Injection(rows, ctx.severity(frame["paise"][rows]), ctx.confidence(n), ev)
