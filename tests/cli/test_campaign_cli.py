"""`--campaign` on generate and stream, `patterns report --by`, `model novelty`: an invalid file is refused with the
field named and nothing written; a campaign is recorded, summarised and reported over time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from synfinance.cli import main


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture()
def bad_campaign(tmp_path: Path) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"name": "bad", "description": "wrong twice", "entries": [
        {"name": "typo", "fraud_type": "card_testin", "start": 1, "end": 5, "multiplier": 2},
        {"name": "late", "fraud_type": "stolen_card", "start": 1, "end": 500, "multiplier": 2}]}))
    return path


@pytest.fixture(scope="module")
def campaign_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("campaign") / "ds"
    code, _, err = run("generate", "transactions", "--count", "60000", "--seed", "3", "--quiet",
                       "--campaign", "novel_collect_request", "--out", str(out))
    assert code == 0, err
    return out


def test_generate_refuses_a_broken_campaign_and_writes_nothing(bad_campaign: Path, tmp_path: Path) -> None:
    out = tmp_path / "ds"
    code, _, err = run("generate", "transactions", "--count", "1000", "--campaign", str(bad_campaign), "--out",
                       str(out))
    assert code == 2
    assert "campaign.entries[typo].fraud_type" in err and "a fraud type" in err
    assert not out.exists()


def test_generate_refuses_days_outside_its_range_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "late.yaml"
    path.write_text(yaml.safe_dump({"name": "late", "description": "after the range", "entries": [
        {"name": "late", "fraud_type": "stolen_card", "start": 1, "end": 500, "multiplier": 2}]}))
    out = tmp_path / "ds"
    code, _, err = run("generate", "transactions", "--count", "1000", "--days", "30", "--campaign", str(path),
                       "--out", str(out))
    assert code == 2 and "campaign.entries[late].end" in err and "0 to 29" in err
    assert not out.exists()


def test_stream_refuses_a_campaign_outside_its_span_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "stream.jsonl"
    code, _, err = run("stream", "--rate", "100", "--duration", "2", "--speedup", "86400", "--campaign",
                       "novel_collect_request", "--out", str(out))
    assert code == 2 and "campaign.entries[first_wave].start" in err  # 2 simulated days, the entry starts on 42
    assert not out.exists()


def test_stream_emits_a_campaign_s_rows(tmp_path: Path) -> None:
    path = tmp_path / "now.yaml"
    path.write_text(yaml.safe_dump({"name": "now", "description": "collect requests from the first day",
                                    "entries": [{"name": "at_once", "fraud_type": "collect_request", "start": 0,
                                                 "end": 1, "count": 40}]}))
    out = tmp_path / "stream.jsonl"
    code, _, err = run("stream", "--rate", "2000", "--duration", "1", "--speedup", "172800", "--campaign", str(path),
                       "--out", str(out))
    assert code == 0, err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    scams = [r for r in rows if r["fraud_type"] == "collect_request"]
    assert 20 <= len(scams) <= 60
    assert all(json.loads(r["fraud_evidence"])["entry"] == "at_once" for r in scams)


def test_the_manifest_and_summary_carry_the_campaign(campaign_dataset: Path) -> None:
    manifest = json.loads((campaign_dataset / "manifest.json").read_text())
    assert manifest["parameters"]["campaign"]["name"] == "novel_collect_request"
    assert [e["name"] for e in manifest["parameters"]["campaign"]["entries"]] == ["first_wave", "spreading"]


def test_patterns_report_by_week_shows_the_campaign_s_shape(campaign_dataset: Path) -> None:
    code, out, err = run("patterns", "report", "--in", str(campaign_dataset), "--by", "week", "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert {r["type"] for r in rows} == {"collect_request"}  # the campaign's types unless --type says otherwise
    assert [r["entry"] for r in rows][:6] == [""] * 6 and all(r["fraud_rows"] == 0 for r in rows[:6])
    assert {r["entry"] for r in rows[6:]} == {"first_wave", "spreading"} and sum(r["fraud_rows"] for r in rows) > 0
    code, out, _ = run("patterns", "report", "--in", str(campaign_dataset), "--by", "day", "--type", "card_testing",
                       "--json")
    assert code == 0 and len(json.loads(out)) == 92
    code, _, err = run("patterns", "report", "--in", str(campaign_dataset), "--by", "week", "--type", "nope")
    assert code == 2 and "nope" in err
