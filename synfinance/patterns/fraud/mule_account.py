"""Money mules: networks of accounts pass money on in AMLSim's typologies (fan-in, fan-out, cycle, scatter-gather)."""

from __future__ import annotations

import numpy as np

from synfinance.patterns.base import Injection, Pattern
from synfinance.patterns.context import TRANSFERS, PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.population import payments as pay
from synfinance.sampling import format_ids
from synfinance.world.frame import Frame
from synfinance.world.networks import TYPOLOGIES

ROLES = ("sender", "hop", "hub")


class MuleAccountPattern(Pattern):
    kind = "fraud"
    name = "mule_account"
    summary = "Accounts of a mule network move money on by UPI/IMPS transfers in a laundering typology."
    signals = "person-to-person transfers of similar, structured amounts hopping through the same accounts"
    rows_per_case = 8.0
    from_network = True

    def _apply(self, frame: Frame, ctx: PatternContext, budget_rows: int) -> Injection | None:
        edges = ctx.plan.networks.edges
        mine = np.flatnonzero((edges.sender >= ctx.lo) & (edges.sender < ctx.hi))
        mine = mine[np.lexsort((edges.ts[mine], edges.sender[mine]))]  # by sender, then time
        senders, per_sender = np.unique(edges.sender[mine], return_counts=True)
        rows, owner = ctx.take_rows(frame, senders, per_sender)
        if not len(rows):
            return None
        first_edge = np.concatenate([[0], np.cumsum(per_sender)[:-1]])
        edge = mine[first_edge[owner] + ctx.position(owner)]  # the i-th row of a sender carries its i-th transfer
        n = len(rows)
        cust = frame["cust"][rows]
        frame["ts"][rows] = edges.ts[edge]
        ctx.set_merchant(frame, rows, ctx.merchant_in(ctx.customers.city[cust], TRANSFERS, chains_only=True))
        ctx.set_amount(frame, rows, edges.paise[edge])
        ctx.set_payment(frame, rows, pay.UPI, online=True)
        ctx.place(frame, rows)
        ev = evidence(
            n, network=format_ids("N-", edges.network[edge], 4),
            typology=np.array(TYPOLOGIES, dtype=object)[edges.typology[edge]].astype(str),
            role=np.array(ROLES, dtype=object)[edges.role[edge]].astype(str), to=ctx.customer_ids(edges.receiver[edge]),
        )
        return Injection(rows, ctx.severity(frame["paise"][rows], floor=2), ctx.confidence(n), ev)
