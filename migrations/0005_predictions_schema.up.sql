-- predictions take the one predictions schema (synfinance.schema.PREDICTION_SCHEMA): fraud_probability instead of
-- score, the anomaly score beside it, and no threshold column (a version's policy has two; the registry keeps it).
ALTER TABLE predictions RENAME COLUMN score TO fraud_probability;
ALTER TABLE predictions RENAME CONSTRAINT predictions_score_check TO predictions_fraud_probability_check;
ALTER INDEX predictions_score RENAME TO predictions_fraud_probability;
ALTER TABLE predictions DROP COLUMN threshold;
ALTER TABLE predictions ADD COLUMN anomaly_score double precision NOT NULL DEFAULT 0;
