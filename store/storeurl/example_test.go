package storeurl_test

import (
	"context"
	"fmt"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/storeurl"
)

func Example() {
	ctx := context.Background()
	// The CLI passes its --store flag; "sqlite:/var/lib/ratioflow/flows.db"
	// or "postgres://ratioflow@db:5432/ratioflow" work the same way.
	s, err := storeurl.Open(ctx, "memory:")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	err = s.Create(ctx, &store.Record{ID: "f1", Kind: "link", State: states.New})
	fmt.Println("created:", err == nil)

	_, err = storeurl.Open(ctx, "mysql://localhost/flows")
	fmt.Println(err)
	// Output:
	// created: true
	// unsupported store URL scheme "mysql" (supported: memory:, sqlite:PATH, postgres://...)
}
