"""Payment-mode switch: the customer pays in a way they have never favoured."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from synfinance.generate.frame import Frame
from synfinance.patterns.base import Injection, Pattern
from synfinance.patterns.context import PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.population import payments as pay

_MODES = pa.array(pay.MODES)


class PaymentModeSwitch(Pattern):
    kind = "anomaly"
    name = "payment_mode_switch"
    summary = "A customer with a history pays by a mode outside their favourites and rare for their savviness."
    signals = "payment mode the customer does not use; e.g. a senior on a wallet, a student on net banking"
    share = 0.10
    rows_per_case = 1.0
    min_history = 10

    def _apply(self, frame: Frame, ctx: PatternContext, budget_rows: int) -> Injection | None:
        cases = self.take_cases(frame, ctx, budget_rows, need=1, k=1)
        if cases is None:
            return None
        rows = cases.rows
        n = len(rows)
        cust = frame["cust"][rows]
        online = frame["online"][rows]
        table = np.where(online[:, None], pay.ONLINE_MODE_WEIGHTS[ctx.c.savviness[cust]],
                         pay.OFFLINE_MODE_WEIGHTS[ctx.c.savviness[cust]])
        table = np.where(table > 0, table, np.inf)  # modes impossible in this channel stay out
        table[np.arange(n)[:, None], ctx.c.pref_modes[cust]] = np.inf
        table[:, pay.EMI] = np.inf
        table[~ctx.c.has_credit_card[cust], pay.CREDIT] = np.inf
        mode = np.argmin(table, axis=1)
        ctx.set_payment(frame, rows, mode, online)
        ev = evidence(n, mode=_MODES.take(pa.array(frame["mode"][rows])),
                      usual=_MODES.take(pa.array(ctx.c.pref_modes[cust, 0])))
        return Injection(rows, np.zeros(n, dtype=np.int8), ctx.confidence(n), ev)
