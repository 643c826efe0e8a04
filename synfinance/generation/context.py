"""Behavioural context computed per customer in time order: gaps, first visits, running daily totals."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synfinance.world.running import running_group_count, running_group_sum


@dataclass(frozen=True)
class Context:
    time_since_last_s: np.ndarray  # float64; NaN for a customer's first transaction
    first_with_merchant: np.ndarray  # bool
    daily_count: np.ndarray  # int32, this transaction included
    daily_paise: np.ndarray  # int64, this transaction included


def customer_context(
    customer: np.ndarray, ts_us: np.ndarray, local_day: np.ndarray, merchant: np.ndarray, paise: np.ndarray
) -> Context:
    """Context of every row; rows must be in time order (ties broken consistently)."""
    n = len(customer)
    by_customer = np.argsort(customer, kind="stable")  # time order kept inside each customer
    c, t, d = customer[by_customer], ts_us[by_customer], local_day[by_customer]
    new_customer = np.ones(n, dtype=bool)
    new_customer[1:] = c[1:] != c[:-1]
    gap = np.empty(n)
    gap[0] = np.nan
    gap[1:] = (t[1:] - t[:-1]) / 1e6
    gap[new_customer] = np.nan
    new_day = new_customer.copy()
    new_day[1:] |= d[1:] != d[:-1]
    pair = c.astype(np.int64) * (int(merchant.max(initial=0)) + 1) + merchant[by_customer]
    _, first_idx = np.unique(pair, return_index=True)
    first = np.zeros(n, dtype=bool)
    first[first_idx] = True  # np.unique returns the first position, i.e. the earliest visit

    out_gap, out_first = np.empty(n), np.empty(n, dtype=bool)
    out_count, out_paise = np.empty(n, dtype=np.int32), np.empty(n, dtype=np.int64)
    out_gap[by_customer] = gap
    out_first[by_customer] = first
    out_count[by_customer] = running_group_count(new_day)
    out_paise[by_customer] = running_group_sum(paise[by_customer], new_day)
    return Context(out_gap, out_first, out_count, out_paise)
