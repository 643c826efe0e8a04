"""A challenger in shadow over real HTTP: set while the API serves, it scores the same transactions beside the
champion without changing a decision, and GET /v1/model shows both with the challenger's live figures."""

from __future__ import annotations

import shutil

import pytest
from api_app import Api
from api_rows import rows, transactions
from localhost import wait_for

from synfinance.generation.replay import replayed
from synfinance.model import promotion, registry
from synfinance.model.fitting import fit_model

pytestmark = [pytest.mark.postgres, pytest.mark.ray]


def test_a_challenger_scores_in_shadow_and_the_champion_decides(api: Api) -> None:
    # setup: a second version of the same data, shadowing the active one
    champion = registry.active_version(api.models)
    challenger = fit_model(api.data, api.models, seed=2, num_threads=2).version
    table = transactions(api.data).slice(0, 40)
    batch = rows(replayed(table, "shadow-", keys=("transaction_id", "customer_id", "merchant_id", "device_id")))
    try:
        before = api.post("/v1/score/batch", {"transactions": batch[:20]}, "scorer").json()
        promotion.shadow(api.models, challenger, share=1.0)
        wait_for(lambda: (api.get("/v1/model", "reader").json().get("challenger") or {}).get("version") == challenger,
                 what="the API to load the challenger")
        # run
        answered = api.post("/v1/score/batch", {"transactions": batch[20:]}, "scorer")
        # check: the champion's decisions; the challenger counted beside them
        assert answered.status_code == 200, answered.text
        assert {r["model_version"] for r in answered.json()["scores"]} == {champion}
        assert {r["model_version"] for r in before["scores"]} == {champion}
        shown = api.get("/v1/model", "reader").json()
        assert shown["version"] == champion
        assert shown["challenger"]["scored"] >= 20 and 0 <= shown["challenger"]["agreement"] <= 1
    finally:
        promotion.stop_shadow(api.models)
        wait_for(lambda: api.get("/v1/model", "reader").json().get("challenger") is None,
                 what="the API to drop the challenger")
        shutil.rmtree(api.models / challenger)
