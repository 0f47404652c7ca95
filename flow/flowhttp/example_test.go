package flowhttp_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/flow/flowhttp"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
	"github.com/ratioflow/ratioflow/store/memstore"
)

// Example mounts the flow API and starts a link flow as a frontend would.
func Example() {
	sandbox := httptest.NewServer(sandbox.NewHandler(sandbox.Config{}))
	defer sandbox.Close()
	engine, _ := flow.New(memstore.New(), ratio.NewClient(sandbox.URL, "id", "secret"),
		[]byte("an AES-256 key of 32 bytes......"), flow.Options{})

	// A service mounts the handler where it likes; it serves /v1/flows...
	api := httptest.NewServer(flowhttp.New(engine, flowhttp.HeaderSubject("X-Ratioflow-Subject")))
	defer api.Close()

	req, _ := http.NewRequest("POST", api.URL+"/v1/flows",
		strings.NewReader(`{"kind":"link","walletAddress":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}`))
	req.Header.Set("X-Ratioflow-Subject", "user-42")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status)
	fmt.Println(strings.Contains(string(body), `"state":"ChallengeIssued"`))
	fmt.Println(strings.Contains(string(body), `"challenge":"Signing in with Ratio: `))
	// Output:
	// 201 Created
	// true
	// true
}
