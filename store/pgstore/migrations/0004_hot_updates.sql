-- About half the writes of a running flow leave every indexed column as
-- it was: a step's claim records the call it is about to make (pending),
-- a lease renewal its time; the other half move the state and its
-- deadline. Left room on each page, PostgreSQL makes the first kind
-- heap-only (HOT) updates, which write no index entry: fillfactor keeps
-- 30% of each page free for the new versions of its rows (with 20%, the
-- writes that move a row off its page take that room first). It applies to
-- pages written from now on; existing rows move as they are updated.
ALTER TABLE flows SET (fillfactor = 70);
