DROP TABLE quality_runs;
DROP TABLE anomaly_labels;
DROP TABLE fraud_labels;
