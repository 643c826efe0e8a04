"""`metrics export` from an API whose page holds no SynFinance series yet: an empty snapshot, and a warning on stderr
that says why (not a silent "0 samples")."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from synfinance.cli import main

RAY_ONLY = b"# TYPE ray_tasks gauge\nray_tasks{State=\"RUNNING\"} 1.0\n"


class RayOnlyPage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()
        self.wfile.write(RAY_ONLY)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def page() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), RayOnlyPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_empty_snapshot_is_written_and_explained(page: str, tmp_path: Path) -> None:
    out = tmp_path / "now.prom"
    done = CliRunner().invoke(main, ["metrics", "export", "--source", "api", "--url", page, "--out", str(out),
                                     "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["samples"] == 0 and out.read_text().startswith("# SynFinance metrics from api")
    assert done.stderr.startswith("warning: the API has recorded no metric yet")
