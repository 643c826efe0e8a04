"""Payment modes, card networks, channels and decline rates, by digital savviness."""

from __future__ import annotations

import numpy as np

MODES = ("UPI", "Credit Card", "Debit Card", "Net Banking", "Wallet", "EMI", "Cash")
UPI, CREDIT, DEBIT, NETBANKING, WALLET, EMI, CASH = range(len(MODES))

# How common each mode is by savviness (rows Low, Medium, High): the payment-mode-switch anomaly picks a mode
# rare for the customer from these. Ordinary payments take their modes from the calibration table.
# In-person purchases:
OFFLINE_MODE_WEIGHTS = np.array(
    [
        [.25, .05, .25, 0.0, .02, .03, .40],
        [.45, .12, .20, 0.0, .05, .03, .15],
        [.60, .20, .08, 0.0, .07, .02, .03],
    ]
)
# P(mode | savviness) for online purchases; no cash online.
ONLINE_MODE_WEIGHTS = np.array(
    [
        [.25, .10, .35, .25, .03, .02, 0.0],
        [.40, .20, .15, .12, .10, .03, 0.0],
        [.45, .30, .05, .05, .12, .03, 0.0],
    ]
)
EMI_MIN_INR = 3000  # EMI is offered only on larger tickets

# Share of customers holding a credit card, by income bracket (Low ... Very High).
CREDIT_CARD_SHARE = np.array([.05, .20, .45, .70, .90, .97])

CARD_NETWORKS = ("Visa", "Mastercard", "RuPay", "Amex")
CREDIT_NETWORK_WEIGHTS = np.array([.45, .35, .12, .08])
DEBIT_NETWORK_WEIGHTS = np.array([.35, .20, .45, 0.0])

CHANNELS = ("Mobile App", "Web", "POS", "QR", "In-Store")
MOBILE_APP, WEB, POS, QR, IN_STORE = range(len(CHANNELS))

STATUSES = ("approved", "declined", "pending", "reversed")
APPROVED, DECLINED, PENDING, REVERSED = range(len(STATUSES))
DECLINE_RATE = np.array([.020, .025, .035, .030, .015, .050, 0.0])  # per mode
PENDING_RATE = np.array([.004, 0.0, 0.0, .004, .002, 0.0, 0.0])
REVERSED_RATE = np.array([.002, .002, .002, .001, .001, .001, 0.0])

DEVICE_TYPES = ("Mobile", "Desktop", "Tablet")
MOBILE_OS = ("Android", "iOS")
DESKTOP_OS = ("Windows", "macOS", "Linux")
OS_NAMES = MOBILE_OS + DESKTOP_OS
APP_VERSIONS = ("4.8.2", "5.0.1", "5.2.0", "5.3.4", "6.0.0", "6.1.2")
# Newer app versions for the digitally savvy; rows Low, Medium, High.
APP_VERSION_WEIGHTS = np.array(
    [
        [.25, .25, .2, .15, .1, .05],
        [.05, .1, .2, .25, .25, .15],
        [0.0, .02, .08, .2, .3, .4],
    ]
)
DESKTOP_SHARE = np.array([.10, .30, .55])  # share with a desktop/laptop, by savviness
INSTRUMENT_KINDS = ("UPI", "CC", "DC", "NB", "WAL")  # token prefixes; index = instrument kind
MODE_INSTRUMENT = np.array([0, 1, 2, 3, 4, 1, -1])  # EMI runs on the credit card; cash has none
