"""`api score`'s table at 80 columns: the truth column is never folded; a long top reason gives way instead."""

from __future__ import annotations

from rich.console import Console

from synfinance.cli.api import scores_table
from synfinance.schema import FEATURE_NAMES
from synfinance.world.catalogue import FRAUD_NAMES


def test_every_truth_stays_whole_at_80_columns_whatever_the_reason() -> None:
    table = scores_table("POST /v1/score: next transactions from 2026-01-01")
    longest_reason = max(FEATURE_NAMES, key=len)
    truths = [*FRAUD_NAMES, "anomaly", "legitimate"]
    for truth in truths:
        table.add_row("Thu 07:29", "242,419.00", "0.9771", "decline", longest_reason, "11.9", truth)
    console = Console(width=80, record=True)
    console.print(table)
    lines = console.export_text().splitlines()
    assert all(len(line) <= 80 for line in lines)
    ends = [line.split()[-1] for line in lines if line.lstrip().startswith("Thu ")]
    assert ends == truths  # each row's first line ends with its whole truth
