"""Features that depend on a customer's decayed history, computed as that history's recursion.

Rows are processed rank by rank (every customer's first row of the batch, then every second
row, ...), each step vectorised across customers. A batch of one transaction takes exactly the
same steps, which is why online and offline features agree.
"""

from __future__ import annotations

import numpy as np

from synfinance.features.inputs import Rows
from synfinance.features.state import CATEGORY_BINS, CHANNEL_BINS, DECAY_30D, HOURS, MODE_BINS, Keyed
from synfinance.population.geography import haversine_km

TAU_7D_S = 7 * 86_400.0
TAU_30D_S = 30 * 86_400.0
PRIOR_VAR = 0.25  # prior variance of log amounts and log gaps, shrinking early estimates
DEV_FLAG = 0.9  # a transaction "deviates" when its largest normalised deviation reaches this
DEV_FLAG_HISTORY = 5
_I = {name: i for i, name in enumerate(DECAY_30D)}


def _shrunk_z(value: np.ndarray, total: np.ndarray, total_sq: np.ndarray, weight: np.ndarray) -> np.ndarray:
    safe = np.maximum(weight, 1e-12)
    mean = total / safe
    var = np.maximum(total_sq / safe - mean**2, 0.0)
    shrunk = (var * weight + PRIOR_VAR) / (weight + 1.0)
    return np.where(weight > 1e-12, (value - mean) / np.sqrt(shrunk), 0.0)


def _rarity(hist: np.ndarray, index: np.ndarray, weight: np.ndarray, bins: int) -> np.ndarray:
    share = (hist[np.arange(len(index)), index] + 1.0 / bins) / (weight + 1.0)
    return 1.0 - share


def customer_features(rows: Rows, slot: np.ndarray, start: np.ndarray, count: np.ndarray,
                      windows: dict[str, np.ndarray], state: Keyed, out: dict[str, np.ndarray]) -> np.ndarray:
    """Fill out[...] (rows in customer order) and update the customers' state; returns deviation flags.

    slot: customer slot per row; start/count: each customer's rows in the batch (sorted by customer, time).
    windows: ring-window features already computed for the same rows (txn_count_24h, amount_sum_1h).
    """
    s = state.arrays
    n = len(slot)
    flags = np.zeros(n, dtype=bool)
    for rank in range(int(count.max()) if n else 0):
        r = start[count > rank] + rank
        c = slot[r]
        prior = s["n"][c]
        has = prior > 0
        ts, x = rows.ts[r], rows.amount[r]
        gap_s = np.where(has, (ts - s["t_last"][c]) / 1e6, 0.0)
        d7 = s["d7"][c] * np.exp(-gap_s / TAU_7D_S)[:, None]
        fade = np.exp(-gap_s / TAU_30D_S)[:, None]
        d30 = s["d30"][c] * fade
        hist_hour, hist_cat = s["hist_hour"][c] * fade, s["hist_category"][c] * fade
        hist_mode, hist_channel = s["hist_mode"][c] * fade, s["hist_channel"][c] * fade
        w = d30[:, _I["count"]]
        seen = w > 1e-12
        safe_w = np.maximum(w, 1e-12)

        # fraud signals from the decayed history
        mean = np.where(seen, d30[:, _I["amount"]] / safe_w, np.nan)
        var = np.maximum(d30[:, _I["amount_sq"]] / safe_w - mean**2, 0.0)
        prev_km = np.where(has, haversine_km(s["lat_last"][c], s["lon_last"][c], rows.lat[r], rows.lon[r]), np.nan)
        out["txn_count_7d"][r], out["amount_sum_7d"][r] = d7[:, 0], d7[:, 1]
        out["txn_count_30d"][r], out["amount_sum_30d"][r] = w, d30[:, _I["amount"]]
        out["amount_velocity_1h"][r] = (x + windows["amount_sum_1h"][r]) / (d30[:, _I["amount"]] / (30 * 24) + 1.0)
        out["amount_to_mean_ratio"][r] = x / mean
        out["amount_zscore"][r] = (x - mean) / np.sqrt(var + 1.0)
        out["distance_from_prev_km"][r] = prev_km
        out["speed_from_prev_kmh"][r] = prev_km / np.maximum(gap_s / 3600.0, 1.0 / 60.0)
        out["time_since_last_s"][r] = np.where(has, gap_s, np.nan)

        # anomaly signals: deviation from the customer's own decayed profile
        log_x = np.log1p(x)
        amount_z = _shrunk_z(log_x, d30[:, _I["log_amount"]], d30[:, _I["log_amount_sq"]], w)
        hour = rows.hour[r]
        angle = 2 * np.pi * hour / 24
        mean_angle = np.arctan2(d30[:, _I["hour_sin"]], d30[:, _I["hour_cos"]])
        turn = np.abs((angle - mean_angle + np.pi) % (2 * np.pi) - np.pi)
        resultant = np.hypot(d30[:, _I["hour_sin"]], d30[:, _I["hour_cos"]])
        hour_dev = np.where(resultant > 1e-9, turn * 24 / (2 * np.pi), 0.0)
        category, mode, channel = rows.category[r], rows.mode[r], rows.channel[r]
        cat_rarity = _rarity(hist_cat, category, w, CATEGORY_BINS)
        mode_rarity = _rarity(hist_mode, mode, w, MODE_BINS)
        online = rows.online[r]
        p_online = (d30[:, _I["online"]] + 0.5) / (w + 1.0)
        mean_lat, mean_lon = d30[:, _I["lat"]] / safe_w, d30[:, _I["lon"]] / safe_w
        loc_dev = np.where(seen, haversine_km(mean_lat, mean_lon, rows.lat[r], rows.lon[r]), 0.0)
        loc_z = loc_dev / (d30[:, _I["location_dev"]] / safe_w + 5.0)
        log_gap = np.log1p(gap_s)
        gap_z = np.where(has, _shrunk_z(log_gap, d30[:, _I["log_gap"]], d30[:, _I["log_gap_sq"]], d30[:, _I["gaps"]]),
                         0.0)
        hour_rarity = _rarity(hist_hour, hour, w, HOURS)
        devs = np.stack([np.minimum(np.abs(amount_z) / 3, 1.0), hour_rarity, cat_rarity, mode_rarity,
                         np.minimum(loc_z / 3, 1.0), np.minimum(np.abs(gap_z) / 3, 1.0)], axis=1)
        max_dev, mean_dev, n_devs = devs.max(axis=1), devs.mean(axis=1), (devs > 0.8).sum(axis=1).astype(float)
        flag = (max_dev >= DEV_FLAG) & (prior >= DEV_FLAG_HISTORY)
        streak = np.where(flag, s["streak"][c] + 1, 0)
        out["amount_log_z"][r], out["amount_log_z_abs"][r] = amount_z, np.abs(amount_z)
        out["hour_rarity"][r], out["hour_circular_dev"][r] = hour_rarity, hour_dev
        out["category_rarity"][r] = cat_rarity
        out["category_unseen"][r] = seen & (hist_cat[np.arange(len(r)), category] <= 1e-12)
        out["mode_rarity"][r] = mode_rarity
        out["mode_unseen"][r] = seen & (hist_mode[np.arange(len(r)), mode] <= 1e-12)
        out["location_dev_km"][r], out["location_z"][r] = loc_dev, loc_z
        out["gap_log_z"][r] = gap_z
        out["frequency_ratio_24h"][r] = (windows["txn_count_24h"][r] + 1.0) / (w / 30.0 + 1.0)
        out["online_rarity"][r] = 1.0 - np.where(online, p_online, 1.0 - p_online)
        out["channel_rarity"][r] = _rarity(hist_channel, channel, w, CHANNEL_BINS)
        out["max_dev"][r], out["mean_dev"][r], out["n_devs"][r] = max_dev, mean_dev, n_devs
        out["amount_x_hour_dev"][r] = devs[:, 0] * devs[:, 1]
        out["location_x_gap_dev"][r] = devs[:, 4] * devs[:, 5]
        out["category_x_mode_dev"][r] = devs[:, 2] * devs[:, 3]
        out["dev_streak"][r] = streak
        out["history_depth"][r] = np.log1p(prior)
        depth = 1.0 - np.exp(-prior / 10.0)
        out["anomaly_score"][r] = (0.5 * mean_dev + 0.3 * max_dev + 0.2 * np.minimum(n_devs / 6, 1.0)) * depth
        flags[r] = flag

        # fold this transaction into the history
        add = np.zeros((len(r), len(DECAY_30D)))
        add[:, _I["count"]], add[:, _I["amount"]], add[:, _I["amount_sq"]] = 1.0, x, x * x
        add[:, _I["log_amount"]], add[:, _I["log_amount_sq"]] = log_x, log_x * log_x
        add[:, _I["hour_sin"]], add[:, _I["hour_cos"]] = np.sin(angle), np.cos(angle)
        add[:, _I["online"]], add[:, _I["lat"]], add[:, _I["lon"]] = online, rows.lat[r], rows.lon[r]
        add[:, _I["location_dev"]] = loc_dev
        add[:, _I["gaps"]] = has
        add[:, _I["log_gap"]], add[:, _I["log_gap_sq"]] = has * log_gap, has * log_gap * log_gap
        s["d7"][c] = d7 + np.stack([np.ones(len(r)), x], axis=1)
        s["d30"][c] = d30 + add
        for name, hist, index in (("hist_hour", hist_hour, hour), ("hist_category", hist_cat, category),
                                  ("hist_mode", hist_mode, mode), ("hist_channel", hist_channel, channel)):
            hist[np.arange(len(r)), index] += 1.0
            s[name][c] = hist
        s["n"][c] = prior + 1
        s["t_last"][c], s["lat_last"][c], s["lon_last"][c] = ts, rows.lat[r], rows.lon[r]
        s["streak"][c] = streak
    return flags
