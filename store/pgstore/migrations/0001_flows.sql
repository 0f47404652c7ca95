-- Flows and their audit history. IDs sort bytewise (COLLATE "C"), as List
-- orders them in every backend.
CREATE TABLE flows (
	id            text COLLATE "C" NOT NULL PRIMARY KEY,
	kind          text        NOT NULL,
	graph_version text        NOT NULL,
	state         text        NOT NULL,
	version       bigint      NOT NULL,
	subject       text        NOT NULL,
	data          bytea,                -- sealed by the engine; NULL when empty or purged
	pending       jsonb,                -- store.PendingCall; NULL when none
	created_at    timestamptz NOT NULL,
	updated_at    timestamptz NOT NULL,
	expires_at    timestamptz,          -- NULL: never expires
	ended_at      timestamptz,          -- NULL: running
	claimed_until timestamptz,          -- a sweeper's lease; every update clears it
	history_seq   bigint      NOT NULL DEFAULT 0 -- Seq of the flow's last history entry
);

CREATE TABLE flow_history (
	flow_id     text COLLATE "C" NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
	seq         bigint      NOT NULL,
	at          timestamptz NOT NULL,
	from_state  text        NOT NULL,
	event       text        NOT NULL,
	to_state    text        NOT NULL,
	outcome     text        NOT NULL,
	call        text        NOT NULL,
	status      integer     NOT NULL,
	code        text        NOT NULL,
	duration_ns bigint      NOT NULL,
	PRIMARY KEY (flow_id, seq)
);
