DROP TABLE quality_runs;
