ALTER TABLE predictions DROP COLUMN anomaly_score;
ALTER TABLE predictions ADD COLUMN threshold double precision NOT NULL DEFAULT 0.5;
ALTER INDEX predictions_fraud_probability RENAME TO predictions_score;
ALTER TABLE predictions RENAME CONSTRAINT predictions_fraud_probability_check TO predictions_score_check;
ALTER TABLE predictions RENAME COLUMN fraud_probability TO score;
