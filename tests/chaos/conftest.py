"""One local chaos stack for the scenario tests, built by the same code as `synfinance chaos run`
(chaos.stack.local_stack): a dataset, a model, a schema of its own behind a cuttable proxy, and a Serve app of two
ingress replicas. It stops Serve when the module is done (the API tests start their own, on their port)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chaos.stack import Stack, local_stack
from synfinance.settings import load_settings


@pytest.fixture(scope="module")
def stack(ray_session: None, pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    settings = load_settings(env="test", environ={}, overrides={"database.url": pg_url}).settings
    work: Path = tmp_path_factory.mktemp("chaos")
    with local_stack(work, settings, api=True) as built:
        yield built
