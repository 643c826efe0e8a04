"""A batch command's metrics to the Pushgateway of the settings (monitoring.pushgateway_url), if one is set."""

from __future__ import annotations

from collections.abc import Mapping

import click

from synfinance.errors import StoreUnavailable
from synfinance.observability.metrics import Metric
from synfinance.settings import load_settings


def push_finished(job: str, rows: int, seconds: float,
                  labelled: Mapping[tuple[Metric, tuple[str, ...]], float] | None = None) -> None:
    """Push a finished job's metrics; a gateway that does not answer is a warning on stderr, not a failure."""
    url = load_settings().settings.monitoring.pushgateway_url
    if url is None:
        return
    from synfinance.observability.push import push_job

    try:
        push_job(url, job, rows, seconds, labelled)
    except StoreUnavailable as exc:
        click.echo(f"warning: metrics not pushed: {exc}", err=True)
