"""Talking to a running API from a command: where it is, and one call with its errors as one line."""

from __future__ import annotations

from typing import Any

from synfinance.errors import ServiceUnavailable, SynFinanceError
from synfinance.settings import load_settings

KEY_ENVS = ["SYNFINANCE_API_KEY", "API_KEY"]  # where --key is read from: kept out of argv and shell history


class ApiRefused(SynFinanceError):
    """The API answered with an error status (its message is kept)."""


def default_url() -> str:
    """The detached API's URL (`api start --detach`), else server.host:server.port of the settings."""
    from serve import process

    found = process.status(health=False).get("url")
    server = load_settings().settings.server
    return str(found) if found else f"http://{server.host}:{server.port}"


def call(method: str, url: str, path: str, key: str | None = None, body: Any = None, timeout_s: float = 300,
         raw: bool = False) -> Any:
    """`method` `url+path` with the API key, JSON in and out (raw: the body's text)."""
    import requests

    headers = {"X-API-Key": key or ""}
    try:
        answer = requests.request(method, url.rstrip("/") + path, json=body, headers=headers, timeout=timeout_s)
    except requests.RequestException as exc:
        raise ServiceUnavailable(f"no answer from {url}: {exc}") from exc
    if answer.status_code >= 400:
        try:
            message = answer.json().get("message", answer.text)
        except ValueError:
            message = answer.text
        raise ApiRefused(f"{method} {path}: HTTP {answer.status_code}: {str(message)[:300]}")
    return answer.text if raw else answer.json()
