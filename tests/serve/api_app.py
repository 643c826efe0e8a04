"""The API tests' app: its keys, settings, and a client for its base URL (the fixtures in conftest.py start it)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from chaos.proxy import TcpProxy
from synfinance.generation import GenerationParams
from synfinance.settings import LoadedConfig, load_settings
from synfinance.store.connect import Database

API_PARAMS = GenerationParams(count=60_000, seed=21, customers=600, merchants=1_200)
KEYS = {  # name -> (key, scopes)
    "admin": ("test-admin-7f3a9c", ["admin"]),
    "reader": ("test-reader-51b2e0", ["read"]),
    "scorer": ("test-scorer-c4d8a1", ["score"]),
    "writer": ("test-writer-9e6f27", ["write"]),
    "limited": ("test-limited-2b7d55", ["score", "read"]),
}
LIMITED_RATE = {"requests_per_s": 0.5, "burst": 2}



@dataclass
class Api:
    base: str
    data: Path
    models: Path
    db: Database
    proxy: TcpProxy
    settings: LoadedConfig

    def headers(self, who: str = "admin") -> dict[str, str]:
        return {"X-API-Key": KEYS[who][0]}

    def get(self, path: str, who: str | None = "admin", **kw: Any) -> requests.Response:
        return requests.get(self.base + path, headers=self.headers(who) if who else {}, timeout=60, **kw)

    def post(self, path: str, body: Any, who: str | None = "admin", headers: dict[str, str] | None = None,
             **kw: Any) -> requests.Response:
        sent = {**(self.headers(who) if who else {}), "Content-Type": "application/json", **(headers or {})}
        return requests.post(self.base + path, data=json.dumps(body, default=str), headers=sent, timeout=120, **kw)


CORS_ORIGIN = "http://console.example"  # the one browser origin the session app lets in


def app_settings(port: int, models: Path, overrides: dict[str, Any]) -> LoadedConfig:
    keys = [{"name": n, "key": k, "scopes": s} for n, (k, s) in KEYS.items()]
    environ = {"SYNFINANCE_SECURITY__API_KEYS": json.dumps(keys),
               "SYNFINANCE_SECURITY__RATE_LIMITS": json.dumps({"limited": LIMITED_RATE}),
               "SYNFINANCE_SECURITY__RATE_LIMIT__REQUESTS_PER_S": "100000",
               "SYNFINANCE_SECURITY__RATE_LIMIT__BURST": "100000"}
    return load_settings(env="test", environ=environ, overrides={
        "server.port": port, "ml.registry_path": str(models), **overrides})
