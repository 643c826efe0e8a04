"""A campaign file is validated before anything is generated: every problem names the file, the entry (by its
name) and the field, with what was expected; the shipped scenarios load; the same seed and campaign give the same
bytes in any shard order; a campaign changes nothing for types it does not name outside its own rows."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import yaml

from synfinance.errors import ConfigError, ParameterError
from synfinance.generation import GenerationParams, GenerationPlan
from synfinance.runner import write_dataset
from synfinance.world.campaign import Campaign, load_campaign, parse_campaign, shipped_campaigns

GOOD = {
    "name": "every_feature", "description": "each kind of entry once",
    "entries": [
        {"name": "counted", "fraud_type": "stolen_card", "start": 3, "end": 9, "count": 40,
         "target": {"segment": "Young Professional", "customer_share": 0.5}},
        {"name": "scaled", "fraud_type": "shipping_fraud", "start": "2025-10-05", "end": "2025-10-20",
         "multiplier": 5, "amount_scale": 2.0},
        {"name": "through", "fraud_type": "card_testing", "start": 10, "end": 20, "multiplier": 4,
         "target": {"merchants": {"city": "Mumbai", "category": "Fashion", "count": 2}},
         "adapt": {"from": 15, "category": "Food & Dining"}},
        {"name": "novel", "fraud_type": "collect_request", "start": 20, "end": 29, "multiplier": 2,
         "target": {"city": "Pune"}, "adapt": {"from": 25, "below_inr": 2000, "share": 0.5}},
    ],
}
PARAMS = GenerationParams(count=40_000, seed=11, customers=400, merchants=2_000, shard_size=60, days=30,
                          fraud_rate=0.05)


def broken(change: dict[str, object], entry: int | None = 0) -> dict[str, object]:
    doc = json.loads(json.dumps(GOOD))
    (doc if entry is None else doc["entries"][entry]).update(change)
    return doc


def test_every_shipped_scenario_loads_and_fits_the_default_range() -> None:
    shipped = shipped_campaigns()
    assert len(shipped) >= 4
    for name, path in shipped.items():
        campaign = load_campaign(path)
        assert campaign.name == name  # the file's name is the campaign's
        GenerationParams(count=10_000, campaign=campaign).resolved()
        assert load_campaign(Path(name)) == campaign  # a shipped scenario by its name


@pytest.mark.parametrize(("change", "entry", "field", "expected"), [
    pytest.param({"fraud_type": "card_testin"}, 0, "entries[counted].fraud_type", "a fraud type", id="unknown-type"),
    pytest.param({"fraud_type": "mule_account"}, 0, "entries[counted].fraud_type", "fill a row budget",
                 id="network-type"),
    pytest.param({"multiplier": 2}, 0, "entries[counted]", "exactly one of multiplier", id="both-amounts"),
    pytest.param({"count": None}, 0, "entries[counted]", "exactly one of multiplier", id="no-amount"),
    pytest.param({"multiplier": -1}, 1, "entries[scaled].multiplier", "greater than or equal to 0", id="negative"),
    pytest.param({"target": {"city": "Atlantis"}}, 0, "entries[counted].target.city", "a city", id="unknown-city"),
    pytest.param({"target": {"segment": "Pirates"}}, 0, "entries[counted].target.segment", "a customer segment",
                 id="unknown-segment"),
    pytest.param({"target": {"merchants": {"city": "Mumbai"}}}, 2, "entries[through].target.merchants",
                 "both city and category", id="half-merchant-pick"),
    pytest.param({"adapt": {"from": 15}}, 2, "entries[through].adapt", "below_inr", id="adapt-nothing"),
    pytest.param({"adapt": {"from": 15, "category": "Spaceships"}}, 2, "entries[through].adapt.category",
                 "a merchant category", id="unknown-category"),
    pytest.param({"start": "someday"}, 0, "entries[counted].start", "date", id="bad-date"),
    pytest.param({"colour": "red"}, 0, "entries[counted].colour", "not permitted", id="unknown-key"),
    pytest.param({"name": "scaled"}, 0, "entries", "used once each", id="duplicate-entry-name"),
    pytest.param({"entries": []}, None, "entries", "at least 1", id="no-entries"),
])
def test_a_broken_entry_is_named_with_what_was_expected(change: dict[str, object], entry: int | None, field: str,
                                                         expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_campaign(broken(change, entry), "campaigns/x.yaml")
    lines = caught.value.lines()
    assert any(line.startswith(f"campaigns/x.yaml: campaign.{field}") and expected in line for line in lines), lines


def test_every_problem_is_reported_at_once() -> None:
    doc = broken({"fraud_type": "nope"}, 0)
    doc["entries"][1]["multiplier"] = -3
    with pytest.raises(ConfigError) as caught:
        parse_campaign(doc, "x.yaml")
    fields = [p.field for p in caught.value.problems]
    assert fields == ["x.yaml: campaign.entries[counted].fraud_type", "x.yaml: campaign.entries[scaled].multiplier"]


@pytest.mark.parametrize(("change", "entry", "field", "expected"), [
    pytest.param({"end": 30}, 0, "entries[counted].end", "a day of the dataset's range", id="after-the-range"),
    pytest.param({"start": "2025-09-30"}, 1, "entries[scaled].start", "a day of the dataset's range",
                 id="before-the-range"),
    pytest.param({"start": 9, "end": 3}, 0, "entries[counted].end", "on or after start", id="ends-before-start"),
    pytest.param({"adapt": {"from": 25, "category": "Fuel"}}, 2, "entries[through].adapt.from", "inside the entry",
                 id="adapts-outside"),
])
def test_what_the_date_range_cannot_give_is_refused_before_generation(
        change: dict[str, object], entry: int, field: str, expected: str) -> None:
    campaign = parse_campaign(broken(change, entry), "x.yaml")
    with pytest.raises(ParameterError) as caught:
        dataclasses.replace(PARAMS, campaign=campaign).resolved()
    assert any(p.field == f"campaign.{field}" and expected in p.expected for p in caught.value.problems)


def test_entries_of_one_type_must_not_overlap() -> None:
    doc = broken({})
    doc["entries"].append({"name": "again", "fraud_type": "stolen_card", "start": 8, "end": 12, "multiplier": 2})
    with pytest.raises(ParameterError) as caught:
        dataclasses.replace(PARAMS, campaign=parse_campaign(doc, "x.yaml")).resolved()
    assert [p.field for p in caught.value.problems] == ["campaign.entries[again].start"]


def test_unknown_merchant_ids_are_refused_when_the_plan_is_made() -> None:
    doc = broken({"target": {"merchants": {"ids": ["MER_FAS_MUM_001", "MER_NOPE_000"]}}}, 2)
    params = dataclasses.replace(PARAMS, campaign=parse_campaign(doc, "x.yaml"))
    with pytest.raises(ParameterError) as caught:
        GenerationPlan(params)
    assert caught.value.problems[0].field == "campaign.entries[through].target.merchants.ids"
    assert caught.value.problems[0].got == "MER_NOPE_000"


def test_a_file_that_is_not_yaml_is_named(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("entries: [unclosed")
    with pytest.raises(ConfigError, match="c.yaml"):
        load_campaign(path)
    with pytest.raises(ConfigError, match="nowhere.yaml"):
        load_campaign(tmp_path / "nowhere.yaml")


def test_the_campaign_round_trips_through_the_manifest(tmp_path: Path) -> None:
    params = dataclasses.replace(PARAMS, campaign=parse_campaign(GOOD, "x.yaml"))
    manifest = json.loads(write_dataset(params, tmp_path / "ds").read_text())
    assert manifest["parameters"]["campaign"]["name"] == "every_feature"
    assert GenerationParams.from_json(manifest["parameters"]) == params.resolved()
    assert yaml.safe_load(yaml.safe_dump(manifest["parameters"]["campaign"])) == manifest["parameters"]["campaign"]
    assert Campaign.model_validate(manifest["parameters"]["campaign"]) == params.campaign


def test_same_seed_and_campaign_same_bytes_in_any_shard_order(tmp_path: Path) -> None:
    params = dataclasses.replace(PARAMS, campaign=parse_campaign(GOOD, "x.yaml"))
    n = GenerationPlan(params).n_shards
    assert n >= 5
    forward = json.loads(write_dataset(params, tmp_path / "a").read_text())["files"]
    backward = json.loads(write_dataset(params, tmp_path / "b", shards=list(range(n))[::-1]).read_text())["files"]
    assert forward == backward
    plain = json.loads(write_dataset(PARAMS, tmp_path / "c").read_text())["files"]
    assert [f["sha256"] for f in plain] != [f["sha256"] for f in forward]  # the campaign did change the data
