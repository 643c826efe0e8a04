"""Generated data (patterns off) follows the model: shares, profiles and lifts within tolerances derived from n.

Tolerances are Z standard errors of the statistic, Z = 5, so a correct generator fails
about once in 3.5 million runs while a wrong share, profile or lift fails at once.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synfinance.generation.transactions import MONTH_START_AMOUNT
from synfinance.generation.transfers import TRANSFERS
from synfinance.population.calibration import calibration
from synfinance.population.categories import CATEGORY_NAMES, CATEGORY_SIGMA
from synfinance.population.geography import CITY_NAMES
from synfinance.population.segments import INCOME_BRACKETS, SEGMENT_NAMES, SEGMENT_SHARE
from synfinance.world.amounts import median_inr
from synfinance.world.calendar import CITY_ZONE, FESTIVAL_VOLUME_SCALE, FESTIVALS, MONTH_START_DAYS, SALARY_LIFT

Z = 5.0


def share_tolerance(p: float, n: int) -> float:
    return Z * math.sqrt(max(p * (1 - p), 1e-12) / n)


def codes(column: pa.ChunkedArray, vocab: tuple[str, ...]) -> np.ndarray:
    return pc.index_in(column, value_set=pa.array(vocab)).to_numpy(zero_copy_only=False)


def share(mask: np.ndarray) -> float:
    return float(mask.mean())


def test_segment_shares_match_the_model(tables: dict[str, pa.Table]) -> None:
    seg = codes(tables["customers"].column("segment"), SEGMENT_NAMES)
    n = len(seg)
    for i, expected in enumerate(SEGMENT_SHARE):
        assert abs(share(seg == i) - expected) < share_tolerance(expected, n), SEGMENT_NAMES[i]


def test_attributes_are_mutually_plausible(tables: dict[str, pa.Table], plain_txns: pa.Table) -> None:
    c = tables["customers"]
    students = c.filter(pc.equal(c.column("segment"), "Student"))
    assert pc.max(students.column("age")).as_py() <= 24
    assert set(students.column("occupation").unique().to_pylist()) == {"Student"}
    assert set(students.column("income_bracket").unique().to_pylist()) <= {"Low", "Lower Middle"}
    seniors = c.filter(pc.equal(c.column("segment"), "Senior Conservative"))
    assert pc.min(seniors.column("age")).as_py() >= 60
    assert share(np.array(seniors.column("occupation").to_pylist()) == "Retired") > 0.6
    affluent = c.filter(pc.equal(c.column("segment"), "Affluent Shopper"))
    rich = pc.is_in(affluent.column("income_bracket"), pa.array(["Upper Middle", "High", "Very High"]))
    assert share(rich.to_numpy(zero_copy_only=False)) > 0.9
    # spending follows: affluent shoppers buy more jewellery and travel; seniors use less UPI
    seg = plain_txns.column("customer_segment")
    cat = codes(plain_txns.column("category"), CATEGORY_NAMES)
    lux = np.isin(cat, [CATEGORY_NAMES.index("Jewellery"), CATEGORY_NAMES.index("Travel")])
    is_aff = pc.equal(seg, "Affluent Shopper").to_numpy(zero_copy_only=False)
    p_all = share(lux)
    assert share(lux[is_aff]) - p_all > share_tolerance(p_all, int(is_aff.sum()))
    upi = pc.equal(plain_txns.column("payment_mode"), "UPI").to_numpy(zero_copy_only=False)
    is_sen = pc.equal(seg, "Senior Conservative").to_numpy(zero_copy_only=False)
    assert share(upi) - share(upi[is_sen]) > share_tolerance(share(upi), int(is_sen.sum()))


def test_upi_share_rises_with_digital_savviness(tables: dict[str, pa.Table], plain_txns: pa.Table) -> None:
    levels = tables["customers"].select(["customer_id", "digital_savviness"])
    joined = plain_txns.select(["customer_id", "payment_mode"]).join(levels, "customer_id")
    upi = pc.equal(joined.column("payment_mode"), "UPI").to_numpy(zero_copy_only=False)
    level = np.array(joined.column("digital_savviness").to_pylist())
    shares = {lv: (share(upi[level == lv]), int((level == lv).sum())) for lv in ("Low", "Medium", "High")}
    for lower, higher in (("Low", "Medium"), ("Medium", "High")):
        (p_lo, n_lo), (p_hi, n_hi) = shares[lower], shares[higher]
        gap_tolerance = Z * math.sqrt(p_lo * (1 - p_lo) / n_lo + p_hi * (1 - p_hi) / n_hi)
        assert p_hi - p_lo > gap_tolerance, (lower, higher, shares)
    cash = pc.equal(joined.column("payment_mode"), "Cash").to_numpy(zero_copy_only=False)
    assert share(cash[level == "Low"]) > 3 * share(cash[level == "High"])


def test_hour_of_day_profile(plain_txns: pa.Table) -> None:
    hour = plain_txns.column("local_hour").to_numpy()
    assert share(hour < 5) < 0.03  # the small hours are quiet
    assert share((hour >= 18) & (hour <= 21)) > 0.25  # evening peak
    seg = plain_txns.column("customer_segment")
    sen = pc.equal(seg, "Senior Conservative").to_numpy(zero_copy_only=False)
    stu = pc.equal(seg, "Student").to_numpy(zero_copy_only=False)
    morning = (hour >= 6) & (hour <= 11)
    late = (hour >= 22) | (hour <= 1)
    assert share(morning[sen]) - share(morning[stu]) > share_tolerance(0.3, int(min(sen.sum(), stu.sum())))
    assert share(late[stu]) - share(late[sen]) > share_tolerance(0.1, int(min(sen.sum(), stu.sum())))


def test_festival_days_lift_volume(plain_txns: pa.Table, plan: object) -> None:
    """Diwali-season days carry the calendar's lift over ordinary days of the same weekday."""
    city = codes(plain_txns.column("city"), CITY_NAMES)
    national = CITY_ZONE[city] == 0
    day = plain_txns.column("local_date").cast(pa.int32()).to_numpy()[national]
    days = np.arange(day.min(), day.max() + 1)
    counts = np.bincount(day - days[0], minlength=len(days)).astype(float)
    festival = np.array([f is not None for f in plain_txns.column("festival").to_pylist()])[national]
    festival_day = np.zeros(len(days), dtype=bool)
    festival_day[np.unique(day[festival]) - days[0]] = True
    dom = np.array([int(np.datetime64(int(d), "D").astype(object).day) for d in days])
    dow = (days + 3) % 7
    month_end = np.array([(np.datetime64(int(d) + 1, "D").astype(object).day == 1) for d in days])
    ordinary = ~festival_day & ~np.isin(dom, list(SALARY_LIFT)) & ~month_end
    diwali = FESTIVALS[0]
    names = np.array(plain_txns.column("festival").to_pylist(), dtype=object)[national]
    diwali_days = np.unique(day[names == "Diwali"]) - days[0]
    diwali_days = diwali_days[~np.isin(dom[diwali_days], list(SALARY_LIFT)) & ~month_end[diwali_days]]
    assert len(diwali_days) >= 5
    festive = counts[diwali_days].sum()
    baseline = sum(counts[ordinary & (dow == dow[d])].mean() for d in diwali_days)
    ratio = festive / baseline
    # Poisson counts: relative error of the ratio is about sqrt(1/festive + 1/baseline)
    tolerance = Z * ratio * math.sqrt(1 / festive + 1 / baseline) + 0.05  # + weekday-mix slack
    lift = 1 + (diwali.lift[0] - 1) * FESTIVAL_VOLUME_SCALE  # the calibrated national lift
    assert abs(ratio - lift) < tolerance, (ratio, lift)


def test_festival_shifts_categories(plain_txns: pa.Table) -> None:
    fest = np.array(plain_txns.column("festival").to_pylist(), dtype=object)
    cat = codes(plain_txns.column("category"), CATEGORY_NAMES)
    jewellery = cat == CATEGORY_NAMES.index("Jewellery")
    on, off = jewellery[fest == "Diwali"], jewellery[fest == None]  # noqa: E711
    assert share(on) > 2 * share(off)


def test_median_amount_per_category_matches_the_model(plain_txns: pa.Table, tables: dict[str, pa.Table]) -> None:
    """log(amount / model median) has median 0 in every category, within Z standard errors of a median."""
    impulse = tables["customers"].select(["customer_id", "impulse_buyer"])
    t = plain_txns.select(
        ["customer_id", "category", "customer_income_bracket", "festival", "amount_inr", "local_date"]
    ).join(impulse, "customer_id")
    cat = codes(t.column("category"), CATEGORY_NAMES)
    income = codes(t.column("customer_income_bracket"), INCOME_BRACKETS)
    fest_names = ("",) + tuple(f.name for f in FESTIVALS)
    fest = codes(pc.fill_null(t.column("festival"), ""), fest_names)
    month_start = pc.day(t.column("local_date")).to_numpy() <= MONTH_START_DAYS
    expected = median_inr(cat, income, fest, t.column("impulse_buyer").to_numpy(zero_copy_only=False))
    expected = expected * np.where(month_start, MONTH_START_AMOUNT, 1.0)
    p2p = calibration().model.p2p  # transfers follow the P2P ticket, whoever sends them
    expected[cat == TRANSFERS] = p2p.median_inr * np.where(month_start, p2p.month_start_amount, 1.0)[cat == TRANSFERS]
    sigma = np.where(np.arange(len(CATEGORY_NAMES)) == TRANSFERS, p2p.sigma, CATEGORY_SIGMA)
    ratio = np.log(t.column("amount_inr").cast(pa.float64()).to_numpy() / expected)
    for k, name in enumerate(CATEGORY_NAMES):
        r = ratio[cat == k]
        if len(r) < 500:
            continue
        se_median = 1.2533 * sigma[k] / math.sqrt(len(r))
        rounding_slack = 0.02  # rounding to tens/hundreds moves the median by at most ~2 %
        assert abs(np.median(r)) < Z * se_median + rounding_slack, (name, np.median(r))


def test_loyal_customers_return_to_merchants(plain_txns: pa.Table, tables: dict[str, pa.Table]) -> None:
    """Per customer, the repeat-merchant share is higher for loyal customers (Welch test over customers)."""
    per_customer = (
        plain_txns.select(["customer_id", "is_first_txn_with_merchant"])
        .group_by("customer_id")
        .aggregate([("is_first_txn_with_merchant", "mean")])
        .join(tables["customers"].select(["customer_id", "merchant_loyalty"]), "customer_id")
    )
    repeat = 1 - per_customer.column("is_first_txn_with_merchant_mean").to_numpy()
    lo = per_customer.column("merchant_loyalty").to_numpy()
    assert 0.4 < float(np.average(repeat)) < 0.9
    loyal, fickle = repeat[lo >= 0.7], repeat[lo <= 0.3]
    se = math.sqrt(loyal.var(ddof=1) / len(loyal) + fickle.var(ddof=1) / len(fickle))
    assert loyal.mean() - fickle.mean() > Z * se, (loyal.mean(), fickle.mean(), se)


def test_decline_rate_is_realistic(plain_txns: pa.Table) -> None:
    declined = pc.equal(plain_txns.column("status"), "declined").to_numpy(zero_copy_only=False)
    assert 0.01 < share(declined) < 0.06
