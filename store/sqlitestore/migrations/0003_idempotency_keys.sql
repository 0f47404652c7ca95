-- The answers of idempotent requests (store.KeyStore), shared by every
-- process using the file. Times are INTEGER microseconds since the Unix
-- epoch (UTC).
CREATE TABLE idempotency_keys (
	key         TEXT    NOT NULL PRIMARY KEY, -- as the caller gives it (flowhttp: a SHA-256)
	fingerprint TEXT    NOT NULL,             -- of the request that claimed the key
	token       TEXT,                         -- the running request's claim; NULL once finished
	lease_until INTEGER,                      -- when the claim lapses; NULL once finished
	answer      BLOB,                         -- the final answer; NULL while running
	expires_at  INTEGER NOT NULL              -- the claim's time plus the ttl
);

-- Purge deletes the expired keys.
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
