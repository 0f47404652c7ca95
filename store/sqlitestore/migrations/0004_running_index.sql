-- List pages the running flows (flows list --running) by (created_at, id).
-- Ended flows outnumber them many times over and sit among them in
-- flows_created, so that a page of them walked every ended flow created
-- before it: with 90% of the flows ended, the first page took 12 times as
-- long at 10,000 flows as at 1,000, and grew with every flow that ended.
-- This index holds the running flows only. Only an update that sets
-- ended_at touches it (flows_expiry has the same WHERE): created_at and id
-- never change.
CREATE INDEX flows_running ON flows (created_at, id) WHERE ended_at IS NULL;
