-- Flows and their audit history.
-- Times are INTEGER microseconds since the Unix epoch (UTC); NULL means zero.
CREATE TABLE flows (
	id            TEXT    NOT NULL PRIMARY KEY,
	kind          TEXT    NOT NULL,
	graph_version TEXT    NOT NULL,
	state         TEXT    NOT NULL,
	version       INTEGER NOT NULL,
	subject       TEXT    NOT NULL,
	data          BLOB,             -- sealed by the engine; NULL when empty or purged
	pending       TEXT,             -- JSON of store.PendingCall; NULL when none
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL,
	expires_at    INTEGER,          -- NULL: never expires
	ended_at      INTEGER,          -- NULL: running
	claimed_until INTEGER,          -- a sweeper's lease; every update clears it
	history_seq   INTEGER NOT NULL DEFAULT 0 -- Seq of the flow's last history entry
);

CREATE TABLE flow_history (
	flow_id     TEXT    NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
	seq         INTEGER NOT NULL,
	at          INTEGER NOT NULL,
	from_state  TEXT    NOT NULL,
	event       TEXT    NOT NULL,
	to_state    TEXT    NOT NULL,
	outcome     TEXT    NOT NULL,
	call        TEXT    NOT NULL,
	status      INTEGER NOT NULL,
	code        TEXT    NOT NULL,
	duration_ns INTEGER NOT NULL,
	PRIMARY KEY (flow_id, seq)
) WITHOUT ROWID;
