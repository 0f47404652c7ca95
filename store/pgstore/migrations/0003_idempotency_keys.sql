-- The answers of idempotent requests (store.KeyStore), shared by every
-- replica using the database.
CREATE TABLE idempotency_keys (
	key         text COLLATE "C" NOT NULL PRIMARY KEY, -- as the caller gives it (flowhttp: a SHA-256)
	fingerprint text        NOT NULL,                  -- of the request that claimed the key
	token       text,                                  -- the running request's claim; NULL once finished
	lease_until timestamptz,                           -- when the claim lapses; NULL once finished
	answer      bytea,                                 -- the final answer; NULL while running
	expires_at  timestamptz NOT NULL                   -- the claim's time plus the ttl
);

-- Purge deletes the expired keys.
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
