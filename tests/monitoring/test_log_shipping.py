"""monitoring/logging: Filebeat, Logstash, the Elasticsearch template and ILM policy, Kibana's saved objects —
each parses, they agree with each other, and the template maps exactly the fields SynFinance's lines carry."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from synfinance.observability.logs import LOG_FIELDS

ROOT = Path(__file__).resolve().parents[2] / "monitoring" / "logging"
SHIPPED = {"@timestamp", "tags", "source_kind", "error"}  # added by Filebeat and Logstash on the way


def template() -> dict:
    return json.loads((ROOT / "elasticsearch" / "index-template.json").read_text())


def test_the_template_maps_exactly_the_documented_fields_with_their_types() -> None:
    properties = template()["template"]["mappings"]["properties"]
    assert set(properties) == set(LOG_FIELDS) | SHIPPED
    assert all(properties[name]["type"] == kind for name, kind in LOG_FIELDS.items())
    assert template()["template"]["mappings"]["dynamic"] == "false"  # an unknown field is kept, not mapped


def test_filebeat_reads_json_lines_and_sends_them_where_logstash_listens() -> None:
    beat = yaml.safe_load((ROOT / "filebeat.yml").read_text())
    assert all(i["parsers"][0]["ndjson"]["target"] == "" for i in beat["filebeat.inputs"])
    port = beat["output.logstash"]["hosts"][0].split(":")[1]
    logstash = (ROOT / "logstash.conf").read_text()
    assert f"beats {{ port => {port} }}" in logstash
    assert logstash.count("{") == logstash.count("}")
    assert 'match => ["timestamp", "ISO8601"]' in logstash and "timestamp" in LOG_FIELDS


def test_logstash_writes_the_data_stream_the_template_and_policy_cover() -> None:
    logstash = (ROOT / "logstash.conf").read_text()
    kind, dataset, namespace = (re.search(rf'{key} => "(\w+)"', logstash).group(1)  # type: ignore[union-attr]
                                for key in ("data_stream_type", "data_stream_dataset", "data_stream_namespace"))
    stream = f"{kind}-{dataset}-{namespace}"
    assert any(re.fullmatch(p.replace("*", ".*"), stream) for p in template()["index_patterns"])
    policy = json.loads((ROOT / "elasticsearch" / "ilm-policy.json").read_text())
    assert template()["template"]["settings"]["index.lifecycle.name"] == "synfinance-logs"
    assert policy["policy"]["phases"]["delete"]["min_age"] == "30d"


def test_kibana_objects_parse_and_use_only_mapped_fields() -> None:
    objects = [json.loads(line) for line in (ROOT / "kibana" / "saved-objects.ndjson").read_text().splitlines()]
    assert {o["type"] for o in objects} == {"index-pattern", "search", "dashboard"}
    ids = {o["id"] for o in objects}
    assert all(r["id"] in ids for o in objects for r in o["references"])  # nothing dangling
    mapped = set(template()["template"]["mappings"]["properties"])
    for o in (o for o in objects if o["type"] == "search"):
        assert set(o["attributes"]["columns"]) <= mapped, o["id"]
        query = json.loads(o["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])["query"]["query"]
        assert query.split(":")[0] in mapped
