"""Time: every customer's transactions in time order, inside the requested dates, with a calendar (IST date,
hour, weekday) that agrees with the timestamp."""

from __future__ import annotations

import datetime as dt

import numpy as np

from synfinance.quality.base import Found, Validator
from synfinance.quality.data import Dataset
from synfinance.schema import EPOCH_DATE, ist_calendar


class TemporalValidator(Validator):
    name = "temporal"
    summary = "Time order per customer, the requested date range, IST calendar fields agreeing with the timestamp."

    def _check(self, data: Dataset, found: Found) -> None:
        names = data.transactions.column_names
        if "timestamp" not in names or not data.rows:
            return
        ts = data.column("timestamp")
        day, hour, weekday = ist_calendar(ts)
        if "customer_id" in names:
            customer, _ = data.codes("customer_id")
            order = np.argsort(customer, kind="stable")  # rows of one customer stay in file order
            same = customer[order][1:] == customer[order][:-1]
            back = np.zeros(data.rows, dtype=bool)
            back[order[1:][same & (ts[order][1:] < ts[order][:-1])]] = True
            found.metric("out_of_order_rows", int(back.sum()))
            if back.any():
                found.violation("error", f"{int(back.sum()):,} rows are earlier than their customer's previous row",
                                "write each customer's transactions oldest first (features depend on it)",
                                field="timestamp", rows=back)
        start, days = data.parameters.get("start"), data.parameters.get("days")
        if start and days:
            first = (dt.date.fromisoformat(str(start)) - EPOCH_DATE).days
            outside = (day < first) | (day >= first + int(days))
            if outside.any():
                found.violation("error", f"{int(outside.sum()):,} rows fall outside {start} + {days} days (IST)",
                                "keep timestamps inside the requested dates", field="timestamp", rows=outside)
        for field, expected in (("local_date", day), ("local_hour", hour), ("day_of_week", weekday)):
            if field in names:
                wrong = data.column(field).astype(np.int64) != expected
                if wrong.any():
                    found.violation("error", f"{field} disagrees with the timestamp in {int(wrong.sum()):,} rows",
                                    f"derive {field} from the timestamp in IST (UTC+05:30)", field=field, rows=wrong)
        found.metric("first_day", str(EPOCH_DATE + dt.timedelta(days=int(day.min()))))
        found.metric("last_day", str(EPOCH_DATE + dt.timedelta(days=int(day.max()))))
