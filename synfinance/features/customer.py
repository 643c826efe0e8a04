"""Features that depend on a customer's decayed history.

The history is a recursion (fade the sums by the time since the last transaction, then add
this one), run rank by rank: every customer's first row of the batch, then every second row,
each step vectorised across customers. The loop only records each row's prior state; every
feature is then computed once over all rows. A batch of one transaction takes exactly the
same steps, which is why online and offline features agree.
"""

from __future__ import annotations

import numpy as np

from synfinance.features.inputs import Rows
from synfinance.features.state import DECAYED, HIST_OFFSET, TAU_S, Keyed
from synfinance.population.geography import haversine_km

PRIOR_VAR = 0.25  # prior variance of log amounts and log gaps, shrinking early estimates
DEV_FLAG = 0.9  # a transaction "deviates" when its largest normalised deviation reaches this
DEV_FLAG_HISTORY = 5
_I = {name: i for i, name in enumerate(DECAYED)}
_BIN_COUNTS = np.array([24.0, 14.0, 8.0, 6.0])  # hour, category, mode, channel
_STATEFUL = [_I[name] for name in ("location_dev", "gaps", "log_gap", "log_gap_sq")]  # what a row adds from the state


def _shrunk_z(value: np.ndarray, total: np.ndarray, total_sq: np.ndarray, weight: np.ndarray) -> np.ndarray:
    safe = np.maximum(weight, 1e-12)
    mean = total / safe
    var = np.maximum(total_sq / safe - mean**2, 0.0)
    shrunk = (var * weight + PRIOR_VAR) / (weight + 1.0)
    return np.where(weight > 1e-12, (value - mean) / np.sqrt(shrunk), 0.0)


def _replay_history(rows: Rows, slot: np.ndarray, start: np.ndarray, count: np.ndarray, bins: np.ndarray,
                    state: Keyed) -> dict[str, np.ndarray]:
    """Each row's prior state (decayed sums at its time, histogram cells, previous place), updating state.

    The rows are laid out rank by rank (every customer's first row, then every second ...), so each step reads
    a slice; what a row adds that does not depend on the state is computed once for all rows."""
    s = state.arrays
    n = len(slot)
    rank = np.arange(n) - np.repeat(start, count)
    order = np.argsort(rank, kind="stable")  # within a rank, customers in batch order
    bounds = [0, *np.cumsum(np.bincount(rank)).tolist()]
    c_all, ts_all, x_all, bins_all = slot[order], rows.ts[order], rows.amount[order], bins[order]
    lat_all, lon_all = rows.lat[order], rows.lon[order]
    lat_before, lon_before = s["lat_last"][slot], s["lon_last"][slot]  # read before the state moves
    log_x, angle = np.log1p(x_all), 2 * np.pi * rows.hour[order] / 24
    added = np.stack([np.ones(n), x_all, np.ones(n), x_all, x_all * x_all, log_x, log_x * log_x, np.sin(angle),
                      np.cos(angle), rows.online[order], lat_all, lon_all, *np.zeros((4, n))], axis=1)
    d_all, in_bin_all = np.empty((n, len(DECAYED))), np.empty((n, bins.shape[1]))
    n_all, gap_all = np.empty(n, np.int64), np.empty(n)
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        c, ts, lat, lon = c_all[lo:hi], ts_all[lo:hi], lat_all[lo:hi], lon_all[lo:hi]
        seen_before = s["n"][c]
        has = seen_before > 0
        gap_s = np.where(has, (ts - s["t_last"][c]) / 1e6, 0.0)
        d = d_all[lo:hi] = s["decayed"][c] * np.exp(-gap_s[:, None] / TAU_S)
        # a row touches 4 histogram cells: fade just those, from when each was last touched
        cells = c[:, None], bins_all[lo:hi]
        in_bin = in_bin_all[lo:hi] = s["hist"][cells] * np.exp(-((ts[:, None] - s["hist_t"][cells]) / 1e6) / TAU_S[-1])
        n_all[lo:hi], gap_all[lo:hi] = seen_before, gap_s
        w = d[:, _I["count"]]
        safe_w = np.maximum(w, 1e-12)
        log_gap = np.log1p(gap_s)
        step = added[lo:hi]
        step[:, _STATEFUL] = np.stack(
            [np.where(w > 1e-12, haversine_km(d[:, _I["lat"]] / safe_w, d[:, _I["lon"]] / safe_w, lat, lon), 0.0),
             has, has * log_gap, has * log_gap * log_gap], axis=1)
        s["decayed"][c] = d + step
        s["hist"][cells] = in_bin + 1.0
        s["hist_t"][cells] = ts[:, None]
        s["n"][c] = seen_before + 1
        s["t_last"][c] = ts
    # the previous place: the state's for a customer's first row of the batch, else the row before it
    first, before = rank == 0, np.maximum(np.arange(n) - 1, 0)
    lat_last = np.where(first, lat_before, rows.lat[before])
    lon_last = np.where(first, lon_before, rows.lon[before])
    if n:
        last = start + count - 1
        s["lat_last"][slot[last]], s["lon_last"][slot[last]] = rows.lat[last], rows.lon[last]
    back = np.empty(n, np.int64)
    back[order] = np.arange(n)
    return {"d": d_all[back], "in_bin": in_bin_all[back], "n": n_all[back], "gap_s": gap_all[back],
            "lat_last": lat_last, "lon_last": lon_last}


def customer_features(rows: Rows, slot: np.ndarray, start: np.ndarray, count: np.ndarray,
                      out: dict[str, np.ndarray], state: Keyed) -> np.ndarray:
    """Fill out[...] for rows in customer order, update the customers' state; returns deviation flags.

    slot: customer slot per row; start/count: each customer's rows in the batch (sorted by customer, time).
    out must already hold the ring-window features txn_count_24h and amount_sum_1h of the same rows.
    """
    bins = np.stack([rows.hour + HIST_OFFSET["hour"], rows.category + HIST_OFFSET["category"],
                     rows.mode + HIST_OFFSET["mode"], rows.channel + HIST_OFFSET["channel"]], axis=1)
    streak_before = state["streak"][slot[start]] if len(start) else np.zeros(0, np.int64)
    p = _replay_history(rows, slot, start, count, bins, state)
    d, prior, gap_s = p["d"], p["n"], p["gap_s"]
    x, lat, lon = rows.amount, rows.lat, rows.lon
    has = prior > 0
    w = d[:, _I["count"]]
    seen = w > 1e-12
    safe_w = np.maximum(w, 1e-12)

    # fraud signals from the decayed history
    mean = np.where(seen, d[:, _I["amount"]] / safe_w, np.nan)
    var = np.maximum(d[:, _I["amount_sq"]] / safe_w - mean**2, 0.0)
    prev_km = np.where(has, haversine_km(p["lat_last"], p["lon_last"], lat, lon), np.nan)
    out["txn_count_7d"], out["amount_sum_7d"] = d[:, _I["count_7d"]], d[:, _I["amount_7d"]]
    out["txn_count_30d"], out["amount_sum_30d"] = w, d[:, _I["amount"]]
    out["amount_velocity_1h"] = (x + out["amount_sum_1h"]) / (d[:, _I["amount"]] / (30 * 24) + 1.0)
    out["amount_to_mean_ratio"] = x / mean
    out["amount_zscore"] = (x - mean) / np.sqrt(var + 1.0)
    out["distance_from_prev_km"] = prev_km
    out["speed_from_prev_kmh"] = prev_km / np.maximum(gap_s / 3600.0, 1.0 / 60.0)
    out["time_since_last_s"] = np.where(has, gap_s, np.nan)

    # anomaly signals: deviation from the customer's own decayed profile
    amount_z = _shrunk_z(np.log1p(x), d[:, _I["log_amount"]], d[:, _I["log_amount_sq"]], w)
    angle = 2 * np.pi * rows.hour / 24
    sin_sum, cos_sum = d[:, _I["hour_sin"]], d[:, _I["hour_cos"]]
    turn = np.abs((angle - np.arctan2(sin_sum, cos_sum) + np.pi) % (2 * np.pi) - np.pi)
    hour_dev = np.where(np.hypot(sin_sum, cos_sum) > 1e-9, turn * 24 / (2 * np.pi), 0.0)
    in_bin = p["in_bin"]
    rarity = 1.0 - (in_bin + 1.0 / _BIN_COUNTS) / (w + 1.0)[:, None]
    p_online = (d[:, _I["online"]] + 0.5) / (w + 1.0)
    loc_dev = np.where(seen, haversine_km(d[:, _I["lat"]] / safe_w, d[:, _I["lon"]] / safe_w, lat, lon), 0.0)
    loc_z = loc_dev / (d[:, _I["location_dev"]] / safe_w + 5.0)
    gap_z = np.where(has, _shrunk_z(np.log1p(gap_s), d[:, _I["log_gap"]], d[:, _I["log_gap_sq"]], d[:, _I["gaps"]]),
                     0.0)
    devs = np.stack([np.minimum(np.abs(amount_z) / 3, 1.0), rarity[:, 0], rarity[:, 1], rarity[:, 2],
                     np.minimum(loc_z / 3, 1.0), np.minimum(np.abs(gap_z) / 3, 1.0)], axis=1)
    max_dev, mean_dev = devs.max(axis=1), devs.mean(axis=1)
    n_devs = np.count_nonzero(devs > 0.8, axis=1).astype(float)
    flag = (max_dev >= DEV_FLAG) & (prior >= DEV_FLAG_HISTORY)
    streak = _streaks(flag, start, count, streak_before)
    if len(start):
        state["streak"][slot[start + count - 1]] = streak[start + count - 1]
    out["amount_log_z"], out["amount_log_z_abs"] = amount_z, np.abs(amount_z)
    out["hour_rarity"], out["hour_circular_dev"] = rarity[:, 0], hour_dev
    out["category_rarity"], out["mode_rarity"] = rarity[:, 1], rarity[:, 2]
    out["category_unseen"] = (seen & (in_bin[:, 1] <= 1e-12)).astype(float)
    out["mode_unseen"] = (seen & (in_bin[:, 2] <= 1e-12)).astype(float)
    out["location_dev_km"], out["location_z"] = loc_dev, loc_z
    out["gap_log_z"] = gap_z
    out["frequency_ratio_24h"] = (out["txn_count_24h"] + 1.0) / (w / 30.0 + 1.0)
    out["online_rarity"] = 1.0 - np.where(rows.online, p_online, 1.0 - p_online)
    out["channel_rarity"] = rarity[:, 3]
    out["max_dev"], out["mean_dev"], out["n_devs"] = max_dev, mean_dev, n_devs
    out["amount_x_hour_dev"] = devs[:, 0] * devs[:, 1]
    out["location_x_gap_dev"] = devs[:, 4] * devs[:, 5]
    out["category_x_mode_dev"] = devs[:, 2] * devs[:, 3]
    out["dev_streak"] = streak.astype(float)
    out["history_depth"] = np.log1p(prior)
    depth = 1.0 - np.exp(-prior / 10.0)
    out["anomaly_score"] = (0.5 * mean_dev + 0.3 * max_dev + 0.2 * np.minimum(n_devs / 6, 1.0)) * depth
    return flag


def _streaks(flag: np.ndarray, start: np.ndarray, count: np.ndarray, before: np.ndarray) -> np.ndarray:
    """Consecutive flagged rows ending at each row, continuing each customer's streak from before the batch."""
    n = len(flag)
    if n == 0:
        return np.zeros(0, np.int64)
    idx = np.arange(n)
    group_start = np.repeat(start, count)
    last_unflagged = np.maximum.accumulate(np.where(~flag, idx, -1))
    inside = last_unflagged >= group_start  # an unflagged row earlier in this customer's batch rows
    run = np.where(inside, idx - last_unflagged, np.repeat(before, count) + idx - group_start + 1)
    return np.where(flag, run, 0)
