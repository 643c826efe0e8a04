"""`api start` says what a first start lacks (a key, a warm feature store) before a 401 or history-less scores do."""

from __future__ import annotations

from pathlib import Path

import pytest

from synfinance.cli.api import start_warnings
from synfinance.settings import load_settings

KEY = [{"name": "me", "key": "my-key", "scopes": ["admin"]}]


@pytest.mark.parametrize("overrides, expected", [
    ({}, ["security.api_keys", "server.warm_from"]),
    ({"security.api_keys": KEY}, ["server.warm_from"]),
    ({"server.warm_from": "dataset"}, ["security.api_keys"]),
    ({"database.enabled": True}, ["security.api_keys"]),  # the store is rebuilt from the database
    ({"security.api_keys": KEY, "server.warm_from": "dataset"}, []),
])
def test_each_missing_piece_is_named_once(overrides: dict[str, object], expected: list[str], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    for name in ("SYNFINANCE_SECURITY__API_KEYS", "SYNFINANCE_SERVER__WARM_FROM", "SYNFINANCE_DATABASE__ENABLED"):
        monkeypatch.delenv(name, raising=False)
    warnings = start_warnings(load_settings(overrides=overrides).settings)
    assert [next(field for field in ("security.api_keys", "server.warm_from") if field in w) for w in warnings] \
        == expected


def test_the_suggested_key_is_one_the_settings_accept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SYNFINANCE_SECURITY__API_KEYS", raising=False)
    suggestion = start_warnings(load_settings(overrides={"server.warm_from": "dataset"}).settings)[0]
    value = suggestion.split("SYNFINANCE_SECURITY__API_KEYS='")[1].split("'")[0]
    monkeypatch.setenv("SYNFINANCE_SECURITY__API_KEYS", value)
    keys = load_settings().settings.security.api_keys
    assert [k.name for k in keys] == ["me"] and "admin" in keys[0].scopes
