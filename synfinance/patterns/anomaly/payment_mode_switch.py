"""Payment-mode switch: the customer pays in a way they have never favoured."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from synfinance.patterns.base import Cases, Injection, VictimPattern
from synfinance.patterns.context import PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.population import payments as pay
from synfinance.world.frame import Frame

_MODES = pa.array(pay.MODES)


class PaymentModeSwitchPattern(VictimPattern):
    kind = "anomaly"
    name = "payment_mode_switch"
    summary = "A customer with a history pays by a mode outside their favourites and rare for their savviness."
    signals = "payment mode the customer does not use; e.g. a senior on a wallet, a student on net banking"
    rows_per_case = 1.0
    min_history = 10
    need = 1
    per_victim = 1

    def _rewrite(self, frame: Frame, ctx: PatternContext, cases: Cases) -> Injection:
        n = len(cases.rows)
        cust = frame["cust"][cases.rows]
        online = frame["online"][cases.rows]
        table = np.where(online[:, None], pay.ONLINE_MODE_WEIGHTS[ctx.customers.savviness[cust]],
                         pay.OFFLINE_MODE_WEIGHTS[ctx.customers.savviness[cust]])
        table = np.where(table > 0, table, np.inf)  # modes impossible in this channel stay out
        table[np.arange(n)[:, None], ctx.customers.pref_modes[cust]] = np.inf
        table[:, pay.EMI] = np.inf
        table[~ctx.customers.has_credit_card[cust], pay.CREDIT] = np.inf
        mode = np.argmin(table, axis=1)
        ctx.set_payment(frame, cases.rows, mode, online)
        ev = evidence(n, mode=_MODES.take(pa.array(frame["mode"][cases.rows])),
                      usual=_MODES.take(pa.array(ctx.customers.pref_modes[cust, 0])))
        return Injection(cases.rows, np.zeros(n, dtype=np.int8), ctx.confidence(n), ev)
