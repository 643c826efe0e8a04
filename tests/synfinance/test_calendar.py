"""The embedded festival calendar is right for every supported year and shapes the day weights."""

from __future__ import annotations

import datetime as dt

import holidays
import numpy as np
import pytest

from synfinance.world.calendar import (
    FESTIVAL_VOLUME_SCALE,
    FESTIVALS,
    FIRST_YEAR,
    LAST_YEAR,
    ZONES,
    build_calendar,
    festival_days,
)

# festival -> (holidays subdivision, name fragment that marks the main day)
REFERENCE = {
    "Diwali": (None, "Diwali"),
    "Holi": (None, "Holi"),
    "Eid al-Fitr": (None, "Eid al-Fitr"),
    "Durga Puja": (None, "Dussehra"),
    "Onam": ("KL", "Onam (Day 2)"),
    "Pongal": ("TN", "Pongal"),
    "Christmas": (None, "Christmas"),
}


@pytest.mark.parametrize("festival", FESTIVALS, ids=lambda f: f.name)
def test_festival_dates_match_the_holidays_package(festival: object) -> None:
    subdiv, fragment = REFERENCE[festival.name]  # type: ignore[attr-defined]
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        calendar = holidays.India(years=year, subdiv=subdiv)
        days = sorted(d for d, name in calendar.items() if fragment in name)
        assert days, (festival.name, year)  # type: ignore[attr-defined]
        assert dt.date(year, *festival.dates[year]) == days[0], (festival.name, year)  # type: ignore[attr-defined]


def test_regional_festivals_only_mark_their_zone() -> None:
    fest, lift = festival_days(dt.date(2025, 9, 1), 10)  # Onam 2025: Thiruvonam on 5 September
    kerala = ZONES.index("Kerala")
    onam = [f.name for f in FESTIVALS].index("Onam") + 1
    assert (fest[kerala, 0:7] == onam).all()
    assert (fest[ZONES.index("National")] == 0).all()
    assert lift[kerala, 4] == pytest.approx(1 + (FESTIVALS[onam - 1].lift[kerala] - 1) * FESTIVAL_VOLUME_SCALE)
    assert lift[ZONES.index("National"), 4] == 1.0


def test_day_weights_carry_paydays_and_weekends() -> None:
    cal = build_calendar(dt.date(2025, 6, 2), 28)  # no festival in June 2025
    assert (cal.festival == 0).all()
    row = cal.day_weight[0]  # first segment, not a weekend shopper, national zone
    monday_2nd, saturday_7th, monday_9th = row[0], row[5], row[7]
    assert monday_2nd > monday_9th  # payday lift on the 2nd
    assert saturday_7th > monday_9th
    assert np.all(row > 0)
