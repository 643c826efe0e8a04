-- Idempotency-Key of POST /v1/transactions: the first answer to a key is kept with the rows it stored (same
-- database transaction), so a client's retry gets that answer again instead of a conflict or a second write.
-- Keys are per API key name (two clients' keys never collide); request_sha256 catches a key reused for a
-- different request. Operational state: not in backups; old rows may be deleted (created_at) at will.
CREATE TABLE idempotency_keys (
    key_name        text COLLATE "C" NOT NULL,
    idempotency_key text COLLATE "C" NOT NULL,
    request_sha256  text NOT NULL CHECK (request_sha256 ~ '^[0-9a-f]{64}$'),
    status          integer NOT NULL CHECK (status BETWEEN 200 AND 299),
    response        jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (key_name, idempotency_key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
