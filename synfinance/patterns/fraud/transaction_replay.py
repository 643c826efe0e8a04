"""Transaction replay: a captured payment is submitted again, several times, minutes apart."""

from __future__ import annotations

import numpy as np

from synfinance.generate.context import running_group_sum
from synfinance.generate.frame import Frame
from synfinance.patterns.base import Injection, Pattern
from synfinance.patterns.context import PatternContext
from synfinance.patterns.evidence import evidence

COPIED = ("merchant", "category", "merchant_city", "paise", "mode", "channel", "device", "instrument",
          "card_network", "online", "city", "lat", "lon")


class TransactionReplay(Pattern):
    kind = "fraud"
    name = "transaction_replay"
    summary = "A genuine payment's message is captured and replayed: the same charge repeats within minutes."
    signals = "same merchant, amount, card and device as an earlier payment, seconds to minutes later"
    share = 0.05
    rows_per_case = 3.0  # 3-5 rows taken, the first stays genuine

    def _apply(self, frame: Frame, ctx: PatternContext, budget_rows: int) -> Injection | None:
        cases = self.take_cases(frame, ctx, budget_rows, need=5, k=(3, 6))
        if cases is None:
            return None
        rows, owner = cases.rows, cases.owner
        step = ctx.position(owner)
        original = rows[np.searchsorted(owner, owner)]  # each case's first row is the genuine payment
        replay = step > 0
        rows, original, owner, step = rows[replay], original[replay], owner[replay], step[replay]
        ctx.reserve(original)  # later patterns must not change what the evidence points at
        for column in COPIED:
            frame[column][rows] = frame[column][original]
        starts = np.ones(len(rows), dtype=bool)
        starts[1:] = owner[1:] != owner[:-1]
        after_s = running_group_sum(ctx.rng.uniform(20, 600, len(rows)), starts)
        frame["ts"][rows] = np.minimum(frame["ts"][original] + (after_s * 1e6).astype(np.int64), ctx.t1 - 1)
        n = len(rows)
        ev = evidence(n, replay=step, merchant=ctx.m.table.column("merchant_id").take(frame["merchant"][rows]),
                      seconds_after_original=(frame["ts"][rows] - frame["ts"][original]) / 1e6)
        return Injection(rows, ctx.severity(frame["paise"][rows]), ctx.confidence(n), ev)
