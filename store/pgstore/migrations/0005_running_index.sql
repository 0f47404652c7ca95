-- List pages the running flows (flows list --running) by (created_at, id).
-- Ended flows outnumber them many times over and sit among them in
-- flows_created, so that a page of them walked every ended flow created
-- before it (the plan: an Index Scan of flows_created with the Filter
-- ended_at IS NULL), 900,000 rows in a store of a million flows, 90% ended.
-- This index holds the running flows only. ended_at, in its WHERE,
-- already keeps an update that ends a flow from being HOT (flows_expiry
-- and flows_ended have it too); created_at and id never change, so the
-- HOT updates of 0004 stay HOT.
CREATE INDEX flows_running ON flows (created_at, id) WHERE ended_at IS NULL;
