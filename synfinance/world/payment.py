"""Payment mode, channel, device, instrument and status, consistent with each other."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synfinance.population import payments as pay
from synfinance.population.customers import Customers
from synfinance.sampling import categorical

PREFERRED_MODE_P = 0.5
LARGE_TICKET_EMI_INR = 20_000
LARGE_TICKET_EMI_P = 0.25


@dataclass(frozen=True)
class Payment:
    mode: np.ndarray
    channel: np.ndarray
    device_slot: np.ndarray  # 0 mobile, 1 desktop, -1 none
    instrument: np.ndarray  # index into Customers.instrument_ids, -1 none
    card_network: np.ndarray  # -1 none
    status: np.ndarray


def draw_payment(
    rng: np.random.Generator, c: Customers, cust: np.ndarray, online: np.ndarray, paise: np.ndarray
) -> Payment:
    n = len(cust)
    sav = c.savviness[cust]
    inr = paise / 100
    mode = categorical(rng, np.vstack([pay.OFFLINE_MODE_WEIGHTS, pay.ONLINE_MODE_WEIGHTS]), sav + 3 * online)
    preferred = c.pref_modes[cust, (rng.random(n) < 0.3).astype(np.int64)]
    mode = np.where(rng.random(n) < PREFERRED_MODE_P, preferred, mode)
    # Make the mode possible for this customer and this purchase.
    has_cc = c.has_credit_card[cust]
    mode = np.where(~has_cc & ((mode == pay.CREDIT) | (mode == pay.EMI)), pay.DEBIT, mode)
    mode = np.where(online & (mode == pay.CASH), pay.UPI, mode)
    mode = np.where(~online & (mode == pay.NETBANKING), pay.UPI, mode)
    mode = np.where((mode == pay.EMI) & (inr < pay.EMI_MIN_INR), pay.CREDIT, mode)
    big = (mode == pay.CREDIT) & (inr >= LARGE_TICKET_EMI_INR) & (rng.random(n) < LARGE_TICKET_EMI_P)
    mode = np.where(big, pay.EMI, mode)
    card = (mode == pay.CREDIT) | (mode == pay.DEBIT)
    small = ~online & card & (inr < pay.SMALL_TICKET_INR) & (rng.random(n) < 0.6)
    mode = np.where(small, pay.UPI, mode)

    has_desktop = c.desktop_os[cust] >= 0
    channel = channel_for(rng, mode, online)
    slot = np.where(channel == pay.WEB, np.where(has_desktop, 1, 0), 0)
    slot = np.where(np.isin(channel, (pay.POS, pay.IN_STORE)), -1, slot)
    status = _status(rng, mode, inr, c, cust)
    return Payment(mode, channel, slot, instrument_for(cust, mode), network_for(c, cust, mode), status)


def instrument_for(cust: np.ndarray, mode: np.ndarray) -> np.ndarray:
    """Row of the customer's instrument used for each mode in Customers.instrument_ids (-1: cash)."""
    kind = pay.MODE_INSTRUMENT[mode]
    return np.where(kind >= 0, cust * len(pay.INSTRUMENT_KINDS) + kind, -1)


def network_for(c: Customers, cust: np.ndarray, mode: np.ndarray) -> np.ndarray:
    """Card network of the card a mode runs on (-1: not a card)."""
    credit_like = (mode == pay.CREDIT) | (mode == pay.EMI)
    return np.where(credit_like, c.credit_network[cust], np.where(mode == pay.DEBIT, c.debit_network[cust], -1))


def channel_for(rng: np.random.Generator, mode: np.ndarray, online: np.ndarray) -> np.ndarray:
    """The channel a payment mode goes through, online or in person."""
    r = rng.random(len(mode))
    app_like = (mode == pay.UPI) | (mode == pay.WALLET)
    web_share = np.where(mode == pay.NETBANKING, 0.6, 0.5)
    online_channel = np.where(app_like | (r >= web_share), pay.MOBILE_APP, pay.WEB)
    offline_channel = np.where(app_like, pay.QR, np.where(mode == pay.CASH, pay.IN_STORE, pay.POS))
    return np.where(online, online_channel, offline_channel)


def _status(rng: np.random.Generator, mode: np.ndarray, inr: np.ndarray, c: Customers, cust: np.ndarray) -> np.ndarray:
    stretch = inr > 0.5 * c.monthly_income[cust]
    declined = pay.DECLINE_RATE[mode] * np.where(stretch, 3.0, 1.0) * np.where(c.savviness[cust] == 0, 1.3, 1.0)
    pending = declined + pay.PENDING_RATE[mode]
    reversed_ = pending + pay.REVERSED_RATE[mode]
    r = rng.random(len(mode))
    outcomes = [pay.DECLINED, pay.PENDING, pay.REVERSED]
    return np.select([r < declined, r < pending, r < reversed_], outcomes, pay.APPROVED)
