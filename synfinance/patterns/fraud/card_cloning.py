"""Card cloning: a skimmed copy of the card is used in person far from where the customer is."""

from __future__ import annotations

from synfinance.generate.frame import Frame
from synfinance.patterns.base import Injection, Pattern
from synfinance.patterns.context import ELECTRONICS, FASHION, FUEL, JEWELLERY, PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.population.geography import haversine_km


class CardCloning(Pattern):
    kind = "fraud"
    name = "card_cloning"
    summary = "A skimmed copy of the customer's card is swiped at shops in a distant city within hours."
    signals = "card present at a POS 500+ km from home; the customer's own card token; pricier categories"
    share = 0.07
    rows_per_case = 3.0

    def _apply(self, frame: Frame, ctx: PatternContext, budget_rows: int) -> Injection | None:
        cases = self.take_cases(frame, ctx, budget_rows, need=4, k=(2, 5))
        if cases is None:
            return None
        victims, rows, owner = cases.victims, cases.rows, cases.owner
        cust = frame["cust"][rows]
        city = ctx.far_city(ctx.c.city[victims])[owner]
        frame["ts"][rows] = ctx.sequence(ctx.anchors(len(victims)), owner, ctx.rng.uniform(600, 7200, len(rows)))
        category = ctx.pick((ELECTRONICS, JEWELLERY, FUEL, FASHION), len(rows))
        ctx.set_merchant(frame, rows, ctx.merchant_in(city, category))
        ctx.set_amount(frame, rows, ctx.amounts(cust, 1.5, 4.0))
        ctx.set_payment(frame, rows, ctx.card_mode(cust), online=False)
        ctx.place(frame, rows, city)
        km = haversine_km(frame["lat"][rows], frame["lon"][rows], ctx.c.home_lat[cust], ctx.c.home_lon[cust])
        ev = evidence(len(rows), card=ctx.instrument_ids(rows, frame), city=ctx.city_names(city), km_from_home=km)
        return Injection(rows, ctx.severity(frame["paise"][rows], floor=1), ctx.confidence(len(rows)), ev)
