package sqlitestore

// BatchStats returns how many transactions (or single statements) the
// writer of s has run for Create, Update, ClaimExpired and Purge, and how
// many requests they held.
func BatchStats(s *Store) (batches, requests int64) {
	return s.w.batches.Load(), s.w.requests.Load()
}

// ReadPragma returns the value of PRAGMA name on one of s's read
// connections.
func ReadPragma(s *Store, name string) (int64, error) {
	var v int64
	err := s.read.QueryRow("PRAGMA " + name).Scan(&v)
	return v, err
}
