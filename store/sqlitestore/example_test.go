package sqlitestore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/sqlitestore"
)

func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "ratioflow-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	// Open creates the file and its schema; a second Open of the same file,
	// in this process or another, finds it migrated.
	s, err := sqlitestore.Open(ctx, filepath.Join(dir, "flows.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	now := time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)
	for i, subject := range []string{"alice", "bob", "alice"} {
		rec := &store.Record{
			ID: fmt.Sprintf("flow-%d", i), Kind: "link", State: states.ChallengeIssued, Subject: subject,
			CreatedAt: now.Add(time.Duration(i) * time.Second), UpdatedAt: now,
		}
		if err := s.Create(ctx, rec); err != nil {
			fmt.Println(err)
			return
		}
	}
	page, err := s.List(ctx, store.Query{Subject: "alice"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range page.Records {
		fmt.Println(r.ID, r.Subject, r.CreatedAt.Format(time.RFC3339Nano))
	}
	fmt.Println("schema version", sqlitestore.SchemaVersion())
	// Output:
	// flow-0 alice 2025-03-14T15:09:26.535897Z
	// flow-2 alice 2025-03-14T15:09:28.535897Z
	// schema version 4
}
