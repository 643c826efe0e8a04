"""Hot reload: valid edits reach subscribers, invalid ones are refused, restart-only keys wait."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel
from structlog.testing import capture_logs

from synfinance.settings import load_settings
from synfinance.settings.watch import ConfigWatcher


@pytest.fixture
def watcher(config_dir: Path, tmp_path: Path) -> Iterator[ConfigWatcher]:
    (config_dir / "test.yaml").write_text("generation:\n  fraud_rate: 0.02\n")
    w = ConfigWatcher(lambda: load_settings(env="test", config_dir=config_dir, env_file=tmp_path / ".env", environ={}))
    w.start()
    yield w
    w.stop()


def test_an_edit_reaches_the_subscriber(watcher: ConfigWatcher, config_dir: Path) -> None:
    seen: list[tuple[float, float]] = []

    def on_ml(old: BaseModel, new: BaseModel) -> None:
        seen.append((old.fraud_rate, new.fraud_rate))  # type: ignore[attr-defined]

    watcher.subscribe("generation", on_ml)
    version = watcher.current.version
    (config_dir / "test.yaml").write_text("generation:\n  fraud_rate: 0.025\n")
    assert watcher.wait_until(lambda w: w.settings.generation.fraud_rate == 0.025)
    assert seen == [(0.02, 0.025)]
    assert watcher.settings.generation.fraud_rate == 0.025 and watcher.current.version != version


def test_other_sections_subscribers_are_not_called(watcher: ConfigWatcher, config_dir: Path) -> None:
    calls: list[str] = []
    watcher.subscribe("database", lambda old, new: calls.append("database"))
    watcher.subscribe("generation", lambda old, new: calls.append("ml"))
    (config_dir / "test.yaml").write_text("generation:\n  fraud_rate: 0.021\n")
    assert watcher.wait_until(lambda w: w.settings.generation.fraud_rate == 0.021)
    assert calls == ["ml"]


def test_an_invalid_edit_keeps_the_previous_config(watcher: ConfigWatcher, config_dir: Path) -> None:
    before = watcher.current
    reloads = watcher.reloads
    with capture_logs() as logs:
        (config_dir / "test.yaml").write_text("generation:\n  fraud_rate: 7\n")
        assert watcher.wait_until(lambda w: w.reloads > reloads)
    assert watcher.current is before and watcher.settings.generation.fraud_rate == 0.02
    rejected = [e for e in logs if e["event"] == "security.config_refused"]
    assert rejected and "generation.fraud_rate = 7: should be less than or equal to 0.2" in rejected[0]["reason"][0]
    # and a later valid edit still applies
    (config_dir / "test.yaml").write_text("generation:\n  fraud_rate: 0.022\n")
    assert watcher.wait_until(lambda w: w.settings.generation.fraud_rate == 0.022)


def test_restart_only_changes_are_reported_not_applied(watcher: ConfigWatcher, config_dir: Path) -> None:
    (config_dir / "test.yaml").write_text(
        "generation:\n  fraud_rate: 0.023\nray:\n  namespace: elsewhere\nserver:\n  port: 9999\n"
    )
    assert watcher.wait_until(lambda w: w.settings.generation.fraud_rate == 0.023)
    assert watcher.settings.ray.namespace == "synfinance" and watcher.settings.server.port == 8000
    assert watcher.pending_restart == ("ray.namespace", "server.port")


def test_a_failing_subscriber_does_not_block_the_others(watcher: ConfigWatcher, config_dir: Path) -> None:
    seen: list[float] = []

    def broken(old: BaseModel, new: BaseModel) -> None:
        raise KeyError("bug in a subscriber")

    watcher.subscribe("generation", broken)
    watcher.subscribe("generation", lambda old, new: seen.append(new.fraud_rate))  # type: ignore[attr-defined]
    (config_dir / "test.yaml").write_text("generation:\n  fraud_rate: 0.024\n")
    assert watcher.wait_until(lambda w: w.settings.generation.fraud_rate == 0.024)
    assert seen == [0.024]


def test_unknown_section_is_refused(watcher: ConfigWatcher) -> None:
    with pytest.raises(ValueError, match="unknown section 'mll'"):
        watcher.subscribe("mll", lambda old, new: None)


def test_reload_without_change_notifies_no_one(watcher: ConfigWatcher) -> None:
    calls: list[str] = []
    watcher.subscribe("generation", lambda old, new: calls.append("ml"))
    result = watcher.reload()
    assert result.applied and result.changed_sections == () and calls == []


def test_rejection_logs_never_carry_secrets(config_dir: Path, tmp_path: Path) -> None:
    environ = {"SYNFINANCE_DATABASE__URL": "postgresql://app:Hidden-Pass-1@db/x"}
    w = ConfigWatcher(
        lambda: load_settings(env="test", config_dir=config_dir, env_file=tmp_path / ".env", environ=environ)
    )
    (config_dir / "test.yaml").write_text(
        'security:\n  api_keys: [{name: a, key: plain-key-9, key_sha256: "' + "b" * 64 + '"}]\n'
    )
    with capture_logs() as logs:
        result = w.reload()
    assert not result.applied
    text = repr(logs)
    assert "security.config_refused" in text and "exactly one of key or key_sha256" in text
    assert "plain-key-9" not in text and "Hidden-Pass-1" not in text
