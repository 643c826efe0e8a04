-- label feedback: what a bank learns later about a scored transaction (a chargeback, a case outcome), joined to
-- the prediction it was scored with; one per transaction (a repeat is ignored), the confusion cell kept with it.
CREATE TABLE feedback (
    transaction_id  text COLLATE "C" PRIMARY KEY,
    is_fraud        boolean NOT NULL,
    fraud_type      text,
    model_version   text COLLATE "C" NOT NULL,
    decision        text NOT NULL CHECK (decision IN ('approve', 'review', 'decline')),
    outcome         text NOT NULL CHECK (outcome IN ('tp', 'fp', 'fn', 'tn')),
    received_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (is_fraud OR fraud_type IS NULL),
    FOREIGN KEY (transaction_id, model_version) REFERENCES predictions (transaction_id, model_version)
        ON DELETE CASCADE
);
CREATE INDEX feedback_received_at ON feedback (received_at);
