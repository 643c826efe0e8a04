"""Build the merchant catalogue: per city and category, national chains first, then local shops."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from synfinance.errors import ParameterError
from synfinance.population import geography as geo
from synfinance.population.categories import CATEGORIES, N_CATEGORIES
from synfinance.population.segments import SEGMENT_CATEGORY_WEIGHTS, SEGMENT_SHARE
from synfinance.sampling import STREAM_MERCHANTS, rng_for
from synfinance.schema import MERCHANT_SCHEMA

N_POOLS = len(geo.CITIES) * N_CATEGORIES
PAYEE_SHARE = 0.2  # of the catalogue: people paid by person-to-person transfers
_INITIALS = "ABDGKMNPRSV"

_LOCAL_NAMES = {
    "North": ("Sharma", "Gupta", "Agarwal", "Singh", "Verma", "Khanna", "Malhotra"),
    "South": ("Sri Lakshmi", "Murugan", "Sri Venkateswara", "Balaji", "Annapoorna", "Sri Sai", "Kaveri"),
    "East": ("Das", "Ghosh", "Maa Tara", "Banerjee", "Mukherjee", "Sen", "Kali Maa"),
    "West": ("Patel", "Shah", "Joshi", "Jain", "Desai", "Mehta", "Shree Ganesh"),
    "Central": ("Mishra", "Tiwari", "Jain", "Dubey", "Shukla", "Maheshwari"),
    "Northeast": ("Baruah", "Bora", "Gogoi", "Das", "Kalita", "Brahmaputra"),
}


@dataclass(frozen=True)
class Merchants:
    """The merchant table plus the pool layout the generator picks from.

    Merchants are stored pool by pool, pool = (city, category) in row-major order; within a
    pool the chains come first, so a "chain only" pick is an offset below pool_chains.
    """

    table: pa.Table
    pool_start: np.ndarray  # (cities, categories)
    pool_size: np.ndarray
    pool_chains: np.ndarray
    city: np.ndarray  # per merchant, index into CITIES
    category: np.ndarray  # per merchant, index into CATEGORIES
    reputation: np.ndarray

    def __len__(self) -> int:
        return self.table.num_rows


def _apportion(total: int, weights: np.ndarray, minimum: int = 1) -> np.ndarray:
    """Integer shares of total proportional to weights, each at least minimum, summing exactly to total."""
    base = np.full(len(weights), minimum)
    spare = total - base.sum()
    ideal = spare * weights / weights.sum()
    extra = np.floor(ideal).astype(np.int64)
    order = np.argsort(-(ideal - extra), kind="stable")
    extra[order[: spare - extra.sum()]] += 1
    return base + extra


def build_merchants(seed: int, n: int) -> Merchants:
    """n merchants spread over every (city, category) pool by city size and category demand."""
    if n < N_POOLS:
        raise ParameterError.single("merchants", n, f"at least {N_POOLS} (one per city and category)")
    rng = rng_for(seed, STREAM_MERCHANTS)
    demand = SEGMENT_SHARE @ SEGMENT_CATEGORY_WEIGHTS
    payees = np.array([c.payees for c in CATEGORIES])
    demand = np.where(payees, PAYEE_SHARE / (1 - PAYEE_SHARE) * demand.sum() / max(payees.sum(), 1), demand)
    weights = np.outer(geo.CITY_WEIGHT**0.8, demand).ravel()
    sizes = _apportion(n, weights).reshape(len(geo.CITIES), N_CATEGORIES)
    columns: dict[str, list[object]] = {name: [] for name in MERCHANT_SCHEMA.names}
    chains = np.zeros_like(sizes)
    for ci, city in enumerate(geo.CITIES):
        local_names = _LOCAL_NAMES[city.region]
        for ki, cat in enumerate(CATEGORIES):
            size = int(sizes[ci, ki])
            chain_share = 0.45 if city.tier < 3 else 0.25
            n_chain = min(len(cat.chains), max(1 if city.tier < 3 else 0, round(size * chain_share)))
            if cat.payees:  # people, not shops
                n_chain = 0
            chains[ci, ki] = n_chain
            sub_names = [s for s, _ in cat.subcategories]
            for j in range(size):
                if j < n_chain:
                    name, sub = cat.chains[(j + ci) % len(cat.chains)]
                    sub_i = sub_names.index(sub)
                    reputation = 0.75 + 0.23 * rng.beta(5, 2)
                elif cat.payees:
                    surname = local_names[rng.integers(len(local_names))].split(" ")[-1]
                    name = f"{_INITIALS[rng.integers(len(_INITIALS))]}. {surname}"
                    sub_i = int(rng.integers(len(sub_names)))
                    reputation = 0.5 + 0.4 * rng.beta(4, 2)
                else:
                    word = cat.local_words[rng.integers(len(cat.local_words))]
                    name = f"{local_names[rng.integers(len(local_names))]} {word}"
                    sub_i = int(rng.integers(len(sub_names)))
                    reputation = 0.3 + 0.7 * rng.beta(6, 2.5)
                columns["merchant_id"].append(f"MER_{cat.code}_{city.code}_{j + 1:03d}")
                columns["name"].append(name)
                columns["category"].append(cat.name)
                columns["subcategory"].append(sub_names[sub_i])
                columns["mcc"].append(cat.subcategories[sub_i][1])
                columns["city"].append(city.name)
                columns["region"].append(city.region)
                columns["city_tier"].append(city.tier)
                columns["merchant_type"].append("person" if cat.payees else "chain" if j < n_chain else "local")
                columns["reputation"].append(round(float(reputation), 4))
    table = pa.Table.from_pydict(columns, schema=MERCHANT_SCHEMA)
    start = np.concatenate([[0], np.cumsum(sizes.ravel())[:-1]]).reshape(sizes.shape)
    city_code = np.repeat(np.arange(len(geo.CITIES)), sizes.sum(axis=1))
    category = np.concatenate([np.repeat(np.arange(N_CATEGORIES), row) for row in sizes])
    reputation = table.column("reputation").to_numpy()
    return Merchants(table, start, sizes, chains, city_code, category, reputation)
