"""The kinds of fraud and anomaly a dataset can hold, with each one's default share of its kind's rate.

This is the label vocabulary (the values of fraud_type and anomaly_type), known to the plan before any
pattern runs; each name is implemented by one class in synfinance/patterns/fraud or .../anomaly, and the
pattern registry refuses to load when the two disagree.
"""

from __future__ import annotations

SHARES: dict[str, dict[str, float]] = {
    "fraud": {
        "account_takeover": 0.08, "amount_manipulation": 0.05, "card_cloning": 0.07, "card_testing": 0.08,
        "chained_attack": 0.04, "collect_request": 0.06,  # held out (below): its share when a dataset holds it
        "coordinated_attack": 0.04, "first_party_fraud": 0.05, "friendly_fraud": 0.06,
        "loyalty_abuse": 0.04, "merchant_collusion": 0.06, "mule_account": 0.07, "progressive_escalation": 0.04,
        "refund_fraud": 0.05, "shipping_fraud": 0.04, "stolen_card": 0.07, "synthetic_identity": 0.05,
        "transaction_replay": 0.05, "velocity_abuse": 0.06,
    },
    "anomaly": {
        "amount_spike": 0.08, "burst": 0.10, "category_deviation": 0.10, "impossible_travel": 0.10,
        "location_jump": 0.10, "micro_amount": 0.08, "payment_mode_switch": 0.10, "round_amount": 0.08,
        "spending_spike": 0.12, "unusual_hour": 0.10,
    },
}
# In the vocabulary, never in a dataset unless a campaign or fraud_types asks for it: the type no model has seen.
HELD_OUT: dict[str, tuple[str, ...]] = {"fraud": ("collect_request",), "anomaly": ()}
# Cases fixed with the population's networks (rings, mules, coordinated attacks), not drawn to fill a row budget.
NETWORK_TYPES = ("coordinated_attack", "merchant_collusion", "mule_account", "synthetic_identity")
KINDS = tuple(SHARES)
FRAUD_NAMES = tuple(sorted(SHARES["fraud"]))
ANOMALY_NAMES = tuple(sorted(SHARES["anomaly"]))
NAMES = {"fraud": FRAUD_NAMES, "anomaly": ANOMALY_NAMES}


def type_shares(
    kind: str, enabled: tuple[str, ...] | None = None, weights: tuple[tuple[str, float], ...] | None = None
) -> dict[str, float]:
    """Share of the kind's rate per type, summing to 1 over the enabled types (by default all but the held-out).

    weights replaces the default shares for the types it names (relative weights).
    """
    names = (tuple(n for n in NAMES[kind] if n not in HELD_OUT[kind]) if enabled is None
             else tuple(n for n in NAMES[kind] if n in enabled))
    given = dict(weights or ())
    raw = {n: given.get(n, SHARES[kind][n]) for n in names}
    total = sum(raw.values())
    return {n: w / total for n, w in raw.items() if w > 0} if total else {}


def unknown_types(kind: str, names: tuple[str, ...]) -> list[str]:
    return [n for n in names if n not in SHARES[kind]]
