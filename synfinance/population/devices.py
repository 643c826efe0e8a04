"""Every device that can appear on a transaction: two per customer, plus fraudsters' own."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from synfinance.population import payments as pay
from synfinance.population.customers import Customers
from synfinance.sampling import format_ids, mix64, rng_for

STREAM_DEVICES = 5


@dataclass(frozen=True)
class Devices:
    """Device d of customer c is row 2c + d; fraudster devices follow the customers' rows."""

    ids: pa.Array
    device_type: np.ndarray  # index into DEVICE_TYPES
    os: np.ndarray  # index into OS_NAMES
    app_version: np.ndarray  # index into APP_VERSIONS
    first_fraud: int  # row of the first fraudster device
    n_fraud: int

    def fraud_device(self, key: np.ndarray) -> np.ndarray:
        """A fraudster device chosen by key; the same key always gives the same device."""
        return self.first_fraud + (mix64(key) % np.uint64(self.n_fraud)).astype(np.int64)


def build_devices(seed: int, c: Customers) -> Devices:
    n = len(c)
    n_fraud = max(64, n // 200)  # fraudsters reuse a small pool of devices across victims
    rng = rng_for(seed, STREAM_DEVICES)
    desktop_os = np.where(c.desktop_os >= 0, c.desktop_os, 2)
    device_type = np.stack([c.mobile_type, np.full(n, 1)], axis=1).ravel()
    os = np.stack([c.mobile_os, desktop_os], axis=1).ravel()
    app = np.stack([c.app_version, c.app_version], axis=1).ravel()
    fraud_type = np.where(rng.random(n_fraud) < 0.85, 0, 1)
    fraud_os = np.where(fraud_type == 0, (rng.random(n_fraud) < 0.2).astype(np.int64), 2)
    fraud_app = rng.integers(0, len(pay.APP_VERSIONS), n_fraud)
    # Fraudster ids look exactly like customers' mobile/desktop ids: the id itself must not give them away.
    prefixes = pa.array(np.where(fraud_type == 0, "DEV-M-", "DEV-D-"))
    fraud_ids = format_ids(prefixes, mix64(np.full(n_fraud, seed + 2), np.arange(n_fraud)) % np.uint64(10**12), 12)
    return Devices(
        ids=pa.concat_arrays([c.device_ids, fraud_ids]),
        device_type=np.concatenate([device_type, fraud_type]),
        os=np.concatenate([os, fraud_os]),
        app_version=np.concatenate([app, fraud_app]),
        first_fraud=2 * n,
        n_fraud=n_fraud,
    )
