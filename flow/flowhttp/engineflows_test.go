package flowhttp_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ratioflow/ratioflow/flow/flowhttp"
	"github.com/ratioflow/ratioflow/flow/flowtest"
	"github.com/ratioflow/ratioflow/transitions"
)

// TestAPI_TheEngineFlowsOnly: an engine given some flows is served with
// those: its OpenAPI document starts those kinds only, and the API
// refuses the others, listing the engine's.
func TestAPI_TheEngineFlowsOnly(t *testing.T) {
	h := flowtest.New(t, flowtest.Options{Flows: []*transitions.Flow{transitions.Link}})
	srv := httptest.NewServer(flowhttp.New(h.Engine, flowhttp.HeaderSubject(subjectHeader)))
	t.Cleanup(srv.Close)
	a := &api{t: t, h: h, url: srv.URL, subject: "user-1"}

	ans := a.do("GET", "/openapi.json", "")
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Discriminator struct{ Mapping map[string]string }
			}
		}
	}
	if err := json.Unmarshal([]byte(ans.raw), &doc); err != nil {
		t.Fatal(err)
	}
	if m := doc.Components.Schemas["StartFlowRequest"].Discriminator.Mapping; len(m) != 1 || m["link"] == "" {
		t.Errorf("the document starts %v, want link only", m)
	}
	for _, path := range []string{"/v1/flows", "/v1/flows?kind=signin"} {
		method, body := "POST", `{"kind":"signin","walletAddress":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}`
		if strings.Contains(path, "?") {
			method, body = "GET", ""
		}
		ans := a.do(method, path, body)
		a.want(ans, 422, "invalid_input")
		if d, _ := ans.prob["detail"].(string); !strings.HasSuffix(d, "one of link") {
			t.Errorf("%s %s: %q, want the engine's kinds", method, path, d)
		}
	}
}
