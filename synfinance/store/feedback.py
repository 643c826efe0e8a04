"""Label feedback joined to the stored prediction: each transaction's latest prediction decides the confusion cell
(a review or a decline is a positive), kept with the feedback; a transaction's second feedback is ignored.

    counted = await FeedbackRepository(conn).record(ids, is_fraud, fraud_types)   # NotFound if any has no prediction
"""

from __future__ import annotations

from typing import Any

from synfinance.errors import NotFound

LATEST = """
WITH given AS (SELECT * FROM unnest($1::text[], $2::bool[], $3::text[]) AS g(transaction_id, is_fraud, fraud_type)),
latest AS (SELECT DISTINCT ON (p.transaction_id) p.transaction_id, p.model_version, p.decision
           FROM predictions p JOIN given g USING (transaction_id) ORDER BY p.transaction_id, p.scored_at DESC)
"""
MISSING = LATEST + "SELECT g.transaction_id FROM given g LEFT JOIN latest l USING (transaction_id) " \
                   "WHERE l.transaction_id IS NULL LIMIT 11"
RECORD = LATEST + """, inserted AS (
INSERT INTO feedback (transaction_id, is_fraud, fraud_type, model_version, decision, outcome)
SELECT g.transaction_id, g.is_fraud, g.fraud_type, l.model_version, l.decision,
       CASE WHEN l.decision <> 'approve' THEN (CASE WHEN g.is_fraud THEN 'tp' ELSE 'fp' END)
            ELSE (CASE WHEN g.is_fraud THEN 'fn' ELSE 'tn' END) END
FROM given g JOIN latest l USING (transaction_id)
ON CONFLICT (transaction_id) DO NOTHING
RETURNING transaction_id, outcome, coalesce(fraud_type, CASE WHEN is_fraud THEN 'unknown' ELSE 'none' END)
          AS fraud_type, model_version, received_at)
SELECT i.transaction_id, i.outcome, i.fraud_type, i.model_version,
       extract(epoch FROM i.received_at - p.scored_at)::float8 AS lag_s
FROM inserted i JOIN predictions p USING (transaction_id, model_version)
"""


class FeedbackRepository:
    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def record(self, ids: list[str], is_fraud: list[bool], fraud_types: list[str | None]) -> list[dict[str, Any]]:
        """Record all or nothing: NotFound (naming them) when a transaction has no stored prediction. Returns the
        rows counted now (a repeat is not), each with its outcome, fraud type ('none' when legitimate), version and
        lag_s: seconds from the prediction to its label."""
        async with self.conn.transaction():
            missing = [r["transaction_id"] for r in await self.conn.fetch(MISSING, ids, is_fraud, fraud_types)]
            if missing:
                shown = ", ".join(missing[:10]) + (" and more" if len(missing) > 10 else "")
                raise NotFound(f"no stored prediction for transaction {shown}: score and store it first "
                               "(POST /v1/transactions)")
            return [dict(r) for r in await self.conn.fetch(RECORD, ids, is_fraud, fraud_types)]


FIGURES = """
WITH fed AS (SELECT count(*) FILTER (WHERE outcome IN ('tp', 'fp')) AS flagged,
                    count(*) FILTER (WHERE outcome = 'tp') AS true_flags
             FROM feedback WHERE model_version = $1 AND received_at >= $2 AND received_at < $3),
     decided AS (SELECT count(*) AS scored, count(*) FILTER (WHERE decision = 'decline') AS declined
                 FROM predictions WHERE model_version = $1 AND scored_at >= $2 AND scored_at < $3)
SELECT fed.flagged, fed.true_flags, decided.scored, decided.declined FROM fed, decided
"""


async def version_figures(conn: Any, version: str, since: Any, until: Any) -> dict[str, int]:
    """What one model version decided from `since` to before `until` (its stored predictions) and what the label
    feedback received in that time said of its reviews and declines: flagged, true_flags, scored, declined."""
    row = await conn.fetchrow(FIGURES, version, since, until)
    return {key: int(row[key]) for key in ("flagged", "true_flags", "scored", "declined")}
