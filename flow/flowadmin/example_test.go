package flowadmin_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/flow/flowadmin"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
	"github.com/ratioflow/ratioflow/store/memstore"
)

// Example serves the admin API on an admin listener of its own, with a
// token, and lists the running flows.
func Example() {
	ratioSrv := httptest.NewServer(sandbox.NewHandler(sandbox.Config{}))
	defer ratioSrv.Close()
	st := memstore.New()
	engine, _ := flow.New(st, ratio.NewClient(ratioSrv.URL, "id", "secret"),
		[]byte("an AES-256 key of 32 bytes......"), flow.Options{})
	_, _ = engine.Start(context.Background(), "link", "user-42",
		flow.Input{WalletAddress: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"})

	api := flowadmin.New(engine, st)
	api.Token = "a long random token"
	admin := httptest.NewServer(api) // never on the flow API's listener
	defer admin.Close()

	req, _ := http.NewRequest("GET", admin.URL+flowadmin.Prefix+"v1/flows?running=true", nil)
	req.Header.Set("Authorization", "Bearer a long random token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status)
	fmt.Println(strings.Contains(string(body), `"state":"ChallengeIssued"`), strings.Contains(string(body), `"subject":"user-42"`))
	// Output:
	// 200 OK
	// true true
}
