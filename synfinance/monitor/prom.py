"""A small client of Prometheus's HTTP API (query, range query, alerts, targets), errors naming the query."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from synfinance.errors import StoreUnavailable


class Prometheus:
    def __init__(self, url: str, timeout_s: float = 10.0) -> None:
        self.url, self.timeout_s = url.rstrip("/"), timeout_s

    def _get(self, path: str, **params: Any) -> Any:
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        url = f"{self.url}{path}" + (f"?{query}" if query else "")
        try:
            with urllib.request.urlopen(url, timeout=self.timeout_s) as response:  # noqa: S310 (the user's Prometheus)
                body = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:300]
            raise StoreUnavailable(f"Prometheus {path} {params.get('query', '')}: HTTP {exc.code} {detail}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise StoreUnavailable(f"Prometheus at {self.url} does not answer: {getattr(exc, 'reason', exc)}"
                                   " (start one with `synfinance monitor up`)") from exc
        if body.get("status") != "success":
            raise StoreUnavailable(f"Prometheus {path}: {body.get('error', body)}")
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        """Instant query: [{"metric": {...}, "value": [t, "v"]}, ...]."""
        return list(self._get("/api/v1/query", query=expr, time=at)["result"])

    def query_range(self, expr: str, start: float, end: float, step_s: float) -> list[dict[str, Any]]:
        """Range query: [{"metric": {...}, "values": [[t, "v"], ...]}, ...]."""
        return list(self._get("/api/v1/query_range", query=expr, start=start, end=end, step=step_s)["result"])

    def alerts(self) -> list[dict[str, Any]]:
        return list(self._get("/api/v1/alerts")["alerts"])

    def targets(self) -> list[dict[str, Any]]:
        return list(self._get("/api/v1/targets")["activeTargets"])

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=self.timeout_s) as response:  # noqa: S310
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False
