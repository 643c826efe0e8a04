"""Parameter types shared by the commands: dates and durations with clear errors."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
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


class TimeType(click.ParamType):
    """An ISO 8601 time (2026-12-08T04:10:11.123456, with an offset or taken as UTC) or a date (its midnight UTC)."""

    name = "ISO-TIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        try:
            parsed = dt.datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(f"expected a time like 2026-12-08T04:10:11+00:00 or a date, got {value!r}", param, ctx)
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


TIME = TimeType()


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


def campaign_option(help_suffix: str = "") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--campaign FILE: a campaign YAML file, or the name of a shipped scenario (config/campaigns)."""
    return click.option("--campaign", "campaign_file", default=None, metavar="FILE|NAME",
                        help="Fraud campaign over time: a YAML file, or a shipped scenario (compromised_merchant, "
                             "novel_collect_request, festive_surge, adaptive_fraudsters; docs/campaigns.md)."
                             + help_suffix)
