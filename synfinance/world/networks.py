"""Fraud networks decided with the population, so every shard sees the same rings whatever runs it.

- collusion rings: a few colluding merchants and many victim customers (R-0001, ...)
- money-mule networks with the AMLSim typologies fan_in, fan_out, cycle, scatter_gather (N-0001, ...)
- coordinated attacks: one fraudster device hitting many customers at one merchant in a window (A-0001, ...)
- synthetic identities: customers who build credit and then bust out
Sizes follow the rows each pattern should contribute: count x fraud rate x the pattern's share.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from synfinance.population import geography as geo
from synfinance.population.categories import category_index
from synfinance.sampling import STREAM_NETWORKS, rng_for
from synfinance.schema import US_PER_DAY
from synfinance.world.catalogue import type_shares
from synfinance.world.running import running_group_sum

if TYPE_CHECKING:
    from synfinance.world.plan import GenerationPlan

TYPOLOGIES = ("fan_in", "fan_out", "cycle", "scatter_gather")
_ONLINE_RISKY = (category_index("Electronics"), category_index("Fashion"), category_index("Entertainment"))


@dataclass(frozen=True)
class Edges:
    """Money-mule transfers: one row each, paid by sender."""

    sender: np.ndarray
    receiver: np.ndarray
    ts: np.ndarray
    paise: np.ndarray
    network: np.ndarray
    typology: np.ndarray  # index into TYPOLOGIES
    role: np.ndarray  # 0 source/sender, 1 hop, 2 hub


@dataclass(frozen=True)
class Networks:
    ring_of: np.ndarray  # per customer: collusion ring victimising them, -1 none
    ring_merchants: np.ndarray  # (rings, 2): colluding merchants
    edges: Edges
    attack_of: np.ndarray  # per customer: coordinated attack, -1 none
    attack_device: np.ndarray
    attack_merchant: np.ndarray
    attack_start: np.ndarray
    attack_size: np.ndarray
    synthetic: np.ndarray  # per customer: synthetic identity


def _target_rows(plan: GenerationPlan, name: str) -> float:
    if not plan.params.patterns:
        return 0.0
    p = plan.params
    return p.count * p.fraud_rate * type_shares("fraud", p.fraud_types, p.fraud_weights).get(name, 0.0)


def build_networks(plan: GenerationPlan) -> Networks:
    rng = rng_for(plan.params.seed, STREAM_NETWORKS)
    customers, merchants = plan.customers, plan.merchants
    n = len(customers)
    taken = plan.counts < 3  # customers with too few transactions cannot carry a network's rows

    def members(k: int, extra: np.ndarray | None = None) -> np.ndarray:
        pool = np.flatnonzero(~taken & (True if extra is None else extra))
        chosen = rng.choice(pool, size=min(k, len(pool)), replace=False) if k > 0 and len(pool) else pool[:0]
        taken[chosen] = True
        return np.asarray(chosen, dtype=np.int64)

    # collusion rings: ~1.5 rows per victim, ~40 victims per ring
    victims = members(round(_target_rows(plan, "merchant_collusion") / 1.5))
    n_rings = max(1, len(victims) // 40) if len(victims) else 0
    ring_of = np.full(n, -1, dtype=np.int64)
    ring_of[victims] = rng.integers(0, max(n_rings, 1), len(victims))
    ring_city = rng.choice(len(geo.CITIES), size=n_rings, p=geo.CITY_WEIGHT)
    ring_cat = rng.choice(np.array(_ONLINE_RISKY), size=n_rings)
    # two colluding local shops per ring (locals follow the chains in a pool)
    chains = merchants.pool_chains[ring_city, ring_cat]
    local = np.maximum(merchants.pool_size[ring_city, ring_cat] - chains, 1)
    first_local = np.minimum(merchants.pool_start[ring_city, ring_cat] + chains,
                             merchants.pool_start[ring_city, ring_cat] + merchants.pool_size[ring_city, ring_cat] - 1)
    ring_merchants = first_local[:, None] + rng.integers(0, local[:, None], size=(n_rings, 2)) % local[:, None]

    edges = _mule_edges(plan, rng, members)

    # coordinated attacks: ~20 victims, one row each
    attack_victims = members(round(_target_rows(plan, "coordinated_attack")))
    n_attacks = max(1, len(attack_victims) // 20) if len(attack_victims) else 0
    attack_of = np.full(n, -1, dtype=np.int64)
    attack_of[attack_victims] = rng.integers(0, max(n_attacks, 1), len(attack_victims))
    hub = rng.choice(np.array(geo.ONLINE_HUBS), size=n_attacks)
    cat = rng.choice(np.array(_ONLINE_RISKY), size=n_attacks)
    attack_merchant = merchants.pool_start[hub, cat] + rng.integers(0, np.maximum(merchants.pool_chains[hub, cat], 1))
    attack_device = plan.devices.fraud_device(rng.integers(0, 2**62, n_attacks))
    span = plan.params.days * US_PER_DAY
    attack_start = plan.first_us + (rng.random(n_attacks) * max(span - US_PER_DAY // 8, 1)).astype(np.int64)
    attack_size = np.bincount(attack_of[attack_of >= 0], minlength=n_attacks)

    # synthetic identities: credit-card holders who bust out with ~4.5 large purchases
    synthetic = np.zeros(n, dtype=bool)
    able = customers.has_credit_card & (plan.counts >= 8)
    synthetic[members(round(_target_rows(plan, "synthetic_identity") / 4.5), able)] = True

    return Networks(ring_of, ring_merchants, edges, attack_of, attack_device, attack_merchant, attack_start,
                    attack_size, synthetic)


def _mule_edges(plan: GenerationPlan, rng: np.random.Generator, pick: Callable[[int], np.ndarray]) -> Edges:
    """Transfers of every mule network; each network uses one typology and ~8 transfers."""
    n_networks = round(_target_rows(plan, "mule_account") / 8)
    span = plan.params.days * US_PER_DAY
    first_us = plan.first_us
    edges: list[tuple[int, int, int, int, int, int]] = []  # sender, receiver, paise, network, typology, role
    for net in range(n_networks):
        typology = int(rng.integers(0, len(TYPOLOGIES)))
        width = int(rng.integers(4, 9))
        amount = int(rng.integers(20_000, 95_000)) * 100
        chosen = pick(width + (1 if typology in (0, 1) else 0 if typology == 2 else 2)).tolist()
        if len(chosen) < width:  # the population has no customers left to carry another network
            break
        if typology == 0:  # fan_in: many senders pay one hub
            hub, *senders = chosen
            edges += [(s, hub, amount * int(rng.integers(30, 60)) // 10_000 * 100, net, 0, 0) for s in senders]
        elif typology == 1:  # fan_out: a hub pays many receivers
            hub, *receivers = chosen
            edges += [(hub, r, amount // max(len(receivers), 1) // 100 * 100, net, 1, 2) for r in receivers]
        elif typology == 2:  # cycle: money goes round and comes back, less a 2 % cut per hop
            ring = chosen
            edges += [(s, ring[(i + 1) % len(ring)], amount * 98**i // 100**i, net, 2, 1) for i, s in enumerate(ring)]
        else:  # scatter_gather: a source splits, intermediates pass it on to one sink
            source, sink, *middle = chosen
            part = amount // max(len(middle), 1) // 100 * 100
            edges += [(source, r, part, net, 3, 0) for r in middle]
            edges += [(s, sink, part * 97 // 100, net, 3, 1) for s in middle]
    table = np.array(edges, dtype=np.int64).reshape(-1, 6)
    network = table[:, 3]
    # hops follow each other 20 minutes to 4 hours apart, from a start fixed per network
    start = first_us + (rng.random(max(n_networks, 1)) * max(span - 3 * US_PER_DAY, 1)).astype(np.int64)
    gaps = rng.integers(20, 240, len(table)) * 60_000_000
    first = np.ones(len(table), dtype=bool)
    first[1:] = network[1:] != network[:-1]
    ts = start[network] + running_group_sum(gaps, first)
    return Edges(table[:, 0], table[:, 1], ts, table[:, 2], network, table[:, 4], table[:, 5])
