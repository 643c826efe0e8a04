"""Where a payment happens: in person at the shop's own point, online where the device usually is (imitates a
replay's zero distance: a second coffee at the same cafe has distance 0 too)."""

from __future__ import annotations

import numpy as np

from synfinance.generation.lookalikes.base import LookAlike, Shard
from synfinance.population import geography as geo
from synfinance.sampling import mix64
from synfinance.world.frame import Frame

SHOP_SPREAD_DEG = 0.06  # shops lie within ~7 km of their city's centre
DEVICE_SPREAD_DEG = 0.003  # a device is used within a few hundred metres of where it lives


def _unit(key: np.ndarray, salt: int) -> np.ndarray:
    """A fixed number in [-1, 1) per key."""
    return (mix64(key, np.full(len(key), salt)) >> np.uint64(11)).astype(np.float64) / 2.0**52 - 1.0


class ShopLocation(LookAlike):
    name = "merchant_location"
    imitates = "transaction_replay (distance 0 from the previous payment)"
    summary = "A card-present or QR payment is located at the shop's own coordinates, the same on every visit."
    order = 90  # after everything that changes the merchant

    def _apply(self, frame: Frame, shard: Shard, rate: float) -> None:
        rows = shard.chosen(~frame["online"], rate)
        merchant = frame["merchant"][rows]
        city = shard.plan.merchants.city[merchant]
        frame["lat"][rows] = geo.CITY_LAT[city] + SHOP_SPREAD_DEG * _unit(merchant, 1)
        frame["lon"][rows] = geo.CITY_LON[city] + SHOP_SPREAD_DEG * _unit(merchant, 2)


class DeviceLocation(LookAlike):
    name = "device_location"
    imitates = "transaction_replay (distance 0 from the previous payment)"
    summary = "An online payment from home is located where its device lives: the owner's (or household's) home."
    order = 91  # after the household's shared devices

    def _apply(self, frame: Frame, shard: Shard, rate: float) -> None:
        c = shard.plan.customers
        cust, device = frame["cust"], frame["device"]
        at_home = frame["online"] & (device >= 0) & (device < 2 * len(c)) & (frame["city"] == c.city[cust])
        rows = shard.chosen(at_home, rate)
        owner = device[rows] // 2
        frame["lat"][rows] = c.home_lat[owner] + DEVICE_SPREAD_DEG * _unit(device[rows], 3)
        frame["lon"][rows] = c.home_lon[owner] + DEVICE_SPREAD_DEG * _unit(device[rows], 4)
