-- Data-quality runs (synfinance quality run): one row per run with its score, outcome and the whole report.
-- Operational history, not data: not in backups; old rows may be deleted (created_at) at will.
CREATE TABLE quality_runs (
    run_id      text COLLATE "C" PRIMARY KEY CHECK (run_id ~ '^[0-9a-f]{32}$'),
    created_at  timestamptz NOT NULL,
    dataset     text NOT NULL,
    rows        bigint NOT NULL CHECK (rows >= 0),
    score       double precision NOT NULL CHECK (score BETWEEN 0 AND 100),
    passed      boolean NOT NULL,
    summary     jsonb NOT NULL,
    report      jsonb NOT NULL
);
CREATE INDEX quality_runs_created_at ON quality_runs (created_at DESC);
