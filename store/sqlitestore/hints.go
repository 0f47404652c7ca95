package sqlitestore

// maxHints bounds the hints a write connection keeps: about 100 bytes
// each, for the flows written last. A flow whose hint was dropped costs
// its next Update the wide statement, once.
const maxHints = 8192

// A hint is what the writer last wrote of one flow: its version, the Seq
// of its last history entry and its indexed mutable columns, as bound to
// statements (expiresAt and endedAt are nil or an int64). Update uses it
// to pick the narrow statement that rewrites only the indexes whose
// columns change, and to know the flow's history Seq without reading it.
//
// A hint is only a guess: another process may write the same file, and a
// transaction the hint was taken in may be rolled back. So the statements
// it picks repeat every hinted value in their WHERE clause, and a wrong
// hint costs a statement that hits no row, never a wrong write.
type hint struct {
	version, seq       int64
	state              string
	expiresAt, endedAt any
}

// hints maps flow IDs to their hints. It belongs to the write connection
// and, like it, is used only by whoever holds the connection (see
// writer.busy), one goroutine at a time, with the writer's mutex ordering
// the hand-overs: it needs no lock of its own.
type hints map[string]hint

// get returns the hint of flow id.
func (hs hints) get(id string) (hint, bool) {
	h, ok := hs[id]
	return h, ok
}

// set records h as the hint of flow id, dropping an arbitrary hint if the
// cache is full.
func (hs hints) set(id string, h hint) {
	if _, ok := hs[id]; !ok && len(hs) >= maxHints {
		for k := range hs { // map order is random: an arbitrary victim
			delete(hs, k)
			break
		}
	}
	hs[id] = h
}

// drop forgets the hint of flow id.
func (hs hints) drop(id string) { delete(hs, id) }

// clear forgets every hint: the transaction they were taken in was rolled
// back.
func (hs hints) clear() { clear(hs) }
