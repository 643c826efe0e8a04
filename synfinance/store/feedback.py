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
RECORD = LATEST + """
INSERT INTO feedback (transaction_id, is_fraud, fraud_type, model_version, decision, outcome)
SELECT g.transaction_id, g.is_fraud, g.fraud_type, l.model_version, l.decision,
       CASE WHEN l.decision <> 'approve' THEN (CASE WHEN g.is_fraud THEN 'tp' ELSE 'fp' END)
            ELSE (CASE WHEN g.is_fraud THEN 'fn' ELSE 'tn' END) END
FROM given g JOIN latest l USING (transaction_id)
ON CONFLICT (transaction_id) DO NOTHING
RETURNING transaction_id, outcome, coalesce(fraud_type, CASE WHEN is_fraud THEN 'unknown' ELSE 'none' END)
          AS fraud_type, model_version
"""


class FeedbackRepository:
    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def record(self, ids: list[str], is_fraud: list[bool], fraud_types: list[str | None]) -> list[dict[str, Any]]:
        """Record all or nothing: NotFound (naming them) when a transaction has no stored prediction. Returns the
        rows counted now (a repeat is not), each with its outcome, fraud type ('none' when legitimate) and version."""
        async with self.conn.transaction():
            missing = [r["transaction_id"] for r in await self.conn.fetch(MISSING, ids, is_fraud, fraud_types)]
            if missing:
                shown = ", ".join(missing[:10]) + (" and more" if len(missing) > 10 else "")
                raise NotFound(f"no stored prediction for transaction {shown}: score and store it first "
                               "(POST /v1/transactions)")
            return [dict(r) for r in await self.conn.fetch(RECORD, ids, is_fraud, fraud_types)]
