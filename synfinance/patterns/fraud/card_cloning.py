"""Card cloning: a skimmed copy of the card is used in person far from where the customer is."""

from __future__ import annotations

from synfinance.patterns.base import Cases, Injection, VictimPattern
from synfinance.patterns.context import ELECTRONICS, FASHION, FUEL, JEWELLERY, PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.population.geography import haversine_km
from synfinance.world.frame import Frame


class CardCloningPattern(VictimPattern):
    kind = "fraud"
    name = "card_cloning"
    summary = "A skimmed copy of the customer's card is swiped at shops in a distant city within hours."
    signals = "card present at a POS 500+ km from home; the customer's own card token; pricier categories"
    rows_per_case = 3.0
    need = 4
    per_victim = (2, 5)

    def _rewrite(self, frame: Frame, ctx: PatternContext, cases: Cases) -> Injection:
        cust = frame["cust"][cases.rows]
        city = ctx.far_city(ctx.customers.city[cases.victims])[cases.owner]
        anchors = ctx.anchors(len(cases.victims))
        frame["ts"][cases.rows] = ctx.sequence(anchors, cases.owner, ctx.rng.uniform(600, 7200, len(cases.rows)))
        category = ctx.pick((ELECTRONICS, JEWELLERY, FUEL, FASHION), len(cases.rows))
        ctx.set_merchant(frame, cases.rows, ctx.merchant_in(city, category))
        ctx.set_amount(frame, cases.rows, ctx.amounts(cust, 1.5, 4.0))
        ctx.set_payment(frame, cases.rows, ctx.card_mode(cust), online=False)
        ctx.place(frame, cases.rows, city)
        km = haversine_km(frame["lat"][cases.rows], frame["lon"][cases.rows], ctx.customers.home_lat[cust],
                          ctx.customers.home_lon[cust])
        ev = evidence(len(cases.rows), card=ctx.instrument_ids(cases.rows, frame), city=ctx.city_names(city),
                      km_from_home=km)
        return Injection(cases.rows, ctx.severity(frame["paise"][cases.rows], floor=1),
                         ctx.confidence(len(cases.rows)), ev)
