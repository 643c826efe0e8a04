"""Payment mode, channel, device, instrument and status, consistent with each other."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synfinance.population import payments as pay
from synfinance.population.calibration import calibration
from synfinance.population.customers import Customers
from synfinance.sampling import categorical

LARGE_TICKET_EMI_INR = 20_000
LARGE_TICKET_EMI_P = 0.25
CASH_BY_SAVVINESS = np.array([2.0, 1.0, 0.3])  # relative to the table's cash share (Low, Medium, High savviness)
UPI_BY_SAVVINESS = np.array([0.5, 1.0, 1.4])  # UPI's weight against the other modes (Low, Medium, High savviness)
_BAND_UPPER = np.array(calibration().model.band_upper_inr)
_MODE_WEIGHTS = np.stack([calibration().mode_weights(online=False), calibration().mode_weights(online=True)])
_P2P_WEIGHTS = calibration().p2p_modes()
_HABIT = calibration().model.habit
_CASH_SHARE = calibration().model.cash_share


@dataclass(frozen=True)
class Payment:
    mode: np.ndarray
    channel: np.ndarray
    device_slot: np.ndarray  # 0 mobile, 1 desktop, -1 none
    instrument: np.ndarray  # index into Customers.instrument_ids, -1 none
    card_network: np.ndarray  # -1 none
    status: np.ndarray


def draw_payment(
    rng: np.random.Generator, c: Customers, cust: np.ndarray, online: np.ndarray, paise: np.ndarray,
    p2p: np.ndarray,
) -> Payment:
    """Merchant payments take a mode by channel and amount band (the calibration table's weights, the customer's
    second usual mode weighing more); transfers take the table's P2P modes; some in-person payments are cash."""
    n = len(cust)
    inr = paise / 100
    mode = ordinary_mode(rng, c, cust, online, paise, p2p)
    big = (mode == pay.CREDIT) & (inr >= LARGE_TICKET_EMI_INR) & (rng.random(n) < LARGE_TICKET_EMI_P)
    mode = np.where(big, pay.EMI, mode)
    cash = ~online & ~p2p & (rng.random(n) < _CASH_SHARE * CASH_BY_SAVVINESS[c.savviness[cust]])
    mode = np.where(cash, pay.CASH, mode)

    has_desktop = c.desktop_os[cust] >= 0
    channel = channel_for(rng, mode, online)
    slot = np.where(channel == pay.WEB, np.where(has_desktop, 1, 0), 0)
    slot = np.where(np.isin(channel, (pay.POS, pay.IN_STORE)), -1, slot)
    status = _status(rng, mode, inr, c, cust)
    return Payment(mode, channel, slot, instrument_for(cust, mode), network_for(c, cust, mode), status)


def _mode_tables() -> np.ndarray:
    """Normalised mode weights, one row per (channel, amount band, savviness) of merchant payments, then one per
    savviness of transfers: UPI's weight scaled by savviness, so a row key picks the whole distribution."""
    merchant = _MODE_WEIGHTS[:, :, None, :] * np.ones((1, 1, len(UPI_BY_SAVVINESS), 1))
    merchant[..., pay.UPI] *= UPI_BY_SAVVINESS
    transfer = np.tile(_P2P_WEIGHTS, (len(UPI_BY_SAVVINESS), 1))
    transfer[:, pay.UPI] *= UPI_BY_SAVVINESS
    rows = np.vstack([merchant.reshape(-1, len(pay.MODES)), transfer])
    return rows / rows.sum(axis=1, keepdims=True)


_TABLES = _mode_tables()
_TRANSFER_ROWS = len(_TABLES) - len(UPI_BY_SAVVINESS)


def ordinary_mode(
    rng: np.random.Generator, c: Customers, cust: np.ndarray, online: np.ndarray, paise: np.ndarray,
    p2p: np.ndarray | None = None,
) -> np.ndarray:
    """The digital mode a customer would pay this amount by: the table's weights for its channel and amount band
    (transfers: the P2P modes), UPI weighing more the more digitally savvy the customer, and a merchant payment's
    second usual mode weighing `habit` times more. Credit only with a credit card."""
    n = len(cust)
    band = np.searchsorted(_BAND_UPPER, paise / 100, side="right")
    savviness = c.savviness[cust].astype(np.int64)
    key = (np.asarray(online).astype(np.int64) * (len(_BAND_UPPER) + 1) + band) * len(UPI_BY_SAVVINESS) + savviness
    if p2p is not None:
        key = np.where(p2p, _TRANSFER_ROWS + savviness, key)
    mode = categorical(rng, _TABLES, key)
    # the habit, exactly: weight x H on mode m is "m with probability q, else the usual draw"
    habit = c.pref_modes[cust, 1]
    w = _TABLES[key, habit]
    q = (_HABIT - 1) * w / (1 + (_HABIT - 1) * w)
    if p2p is not None:
        q = np.where(p2p, 0.0, q)
    mode = np.where(rng.random(n) < q, habit, mode)
    return np.where(~c.has_credit_card[cust] & ((mode == pay.CREDIT) | (mode == pay.EMI)), pay.UPI, mode)


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
