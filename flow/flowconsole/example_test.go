package flowconsole_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/ratioflow/ratioflow/flow/flowconsole"
)

// Example mounts the console page on an admin mux, beside the admin API
// (package flow/flowadmin) it calls.
func Example() {
	console, err := flowconsole.New("") // mermaid from the CDN
	if err != nil {
		panic(err)
	}
	admin := http.NewServeMux()
	admin.Handle(flowconsole.Prefix, console)
	// admin.Handle(flowadmin.Prefix, flowadmin.New(engine, store))
	srv := httptest.NewServer(admin)
	defer srv.Close()
	resp, err := http.Get(srv.URL + flowconsole.Prefix)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status, resp.Header.Get("Content-Type"))
	// Output: 200 OK text/html; charset=utf-8
}
