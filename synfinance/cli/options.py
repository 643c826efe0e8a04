"""Parameter types shared by the commands: dates and durations with clear errors."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import click


class DateType(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"expected a date YYYY-MM-DD, got {value!r}", param, ctx)


DATE = DateType()


class DurationType(click.ParamType):
    """'90s', '15m', '1h', '2d' or plain seconds -> seconds (float)."""

    name = "DURATION"
    UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, int | float):
            return float(value)
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", str(value))
        if match is None:
            self.fail(f"expected a duration like 90s, 15m, 1h or 2d, got {value!r}", param, ctx)
        return float(match.group(1)) * self.UNITS[match.group(2) or "s"]


DURATION = DurationType()
