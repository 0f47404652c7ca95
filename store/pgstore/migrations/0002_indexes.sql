-- List filters by kind, state or subject and pages by (created_at, id).
CREATE INDEX flows_created ON flows (created_at, id);
CREATE INDEX flows_kind    ON flows (kind, created_at, id);
CREATE INDEX flows_state   ON flows (state, created_at, id);
CREATE INDEX flows_subject ON flows (subject, created_at, id);

-- ClaimExpired walks running flows by deadline; Purge walks ended flows.
CREATE INDEX flows_expiry ON flows (expires_at, id) WHERE ended_at IS NULL;
CREATE INDEX flows_ended  ON flows (ended_at) WHERE ended_at IS NOT NULL;
