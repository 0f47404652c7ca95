//go:build !race

package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/ratioflow/ratioflow/internal/browsertest"
	"github.com/ratioflow/ratioflow/ratio/ratiotest"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
)

// stubProvider is an EIP-1193 provider, as a wallet extension injects
// one: eth_requestAccounts answers the test's wallet, and personal_sign
// asks the test (through the binding rfSign) to sign with its key.
const stubProvider = `(() => {
  const pending = {}; let n = 0;
  window.__rfResolve = (id, sig) => { pending[id](sig); delete pending[id]; return true; };
  window.ethereum = { request: async ({ method, params }) => {
    if (method === "eth_requestAccounts") return [%q];
    if (method === "personal_sign") return new Promise((resolve) => {
      pending[++n] = resolve;
      rfSign(JSON.stringify({ id: n, message: params[0], account: params[1] }));
    });
    throw new Error("the stub wallet does not do " + method);
  } };
})();`

// signRequest is what the stub provider asks the test to sign.
type signRequest struct {
	ID      int    `json:"id"`
	Message string `json:"message"`
	Account string `json:"account"`
}

// TestUI_InjectedWallet runs the page outside development mode, as behind
// the authenticating proxy (which sets the subject header), and signs the
// challenge with an injected wallet.
func TestUI_InjectedWallet(t *testing.T) {
	ratioSrv := ratiotest.NewServer(t)
	lines, _ := started(t, nil, "serve", "--ratio", ratioSrv.URL, "--ui", "--addr", "127.0.0.1:0", "--store", sqliteStore(t))
	base := waitLine(t, lines, "ratioflow serve listening on ")
	wallet, err := sandbox.NewWallet()
	if err != nil {
		t.Fatal(err)
	}
	ctx := browsertest.Start(t, 2*time.Minute, chromedp.WindowSize(1100, 1000))
	v := &browsertest.Page{T: t, Ctx: ctx}
	calls := make(chan string, 4)
	if err := chromedp.Listen(ctx, func(ev any) {
		if b, ok := ev.(*runtime.EventBindingCalled); ok && b.Name == "rfSign" {
			select {
			case calls <- b.Payload:
			default: // a fifth call: the test fails waiting
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	setup := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	_, err = chromedp.Call(ctx, network.Enable, network.EnableParams{})
	setup("enable the network", err)
	_, err = chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{subjectHeader: "person-1"}})
	setup("play the proxy", err)
	_, err = chromedp.Call(ctx, runtime.AddBinding, runtime.AddBindingParams{Name: "rfSign"})
	setup("add the binding", err)
	_, err = chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: fmt.Sprintf(stubProvider, wallet.Address)})
	setup("inject the wallet", err)
	go signFor(t, v, wallet, calls)

	v.Do("open the page", chromedp.Navigate(base+"/ui/"), chromedp.WaitVisible(chromedp.ID("start-form")))
	if dev, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("#dev").hidden`)); err != nil || !dev {
		t.Errorf("outside development mode the dev band shows (hidden: %v, %v)", dev, err)
	}
	v.Do("start with my wallet", chromedp.Click(browsertest.Button("Use my wallet")))
	v.Until("the address", fmt.Sprintf(`document.querySelector('#start-form [name="walletAddress"]').value === %q`, wallet.Address))
	v.Do("start", chromedp.Click(browsertest.Button("Start")))
	v.InState("ChallengeIssued")
	v.Do("sign", chromedp.Click(browsertest.Button("Sign with my wallet")))
	v.InState("WalletAuthed")
	browsertest.Screenshot(t, ctx, "ui-injected-wallet")
}

// signFor answers the stub provider's personal_sign calls with wallet, as
// the person's wallet would after they approved.
func signFor(t *testing.T, v *browsertest.Page, wallet *sandbox.Wallet, calls <-chan string) {
	for {
		var payload string
		select {
		case payload = <-calls:
		case <-v.Ctx.Done():
			return
		}
		var req signRequest
		msg, err := func() ([]byte, error) {
			if err := json.Unmarshal([]byte(payload), &req); err != nil {
				return nil, err
			}
			return hex.DecodeString(strings.TrimPrefix(req.Message, "0x"))
		}()
		if err != nil || !strings.EqualFold(req.Account, wallet.Address) {
			t.Errorf("personal_sign(%s): %v, want the message as hex and the account %s", payload, err, wallet.Address)
			continue
		}
		sig, err := wallet.Sign(string(msg))
		if err != nil {
			t.Error(err)
			continue
		}
		if _, err := chromedp.Run(v.Ctx, chromedp.Evaluate[bool](fmt.Sprintf("window.__rfResolve(%d, %q)", req.ID, sig))); err != nil {
			t.Errorf("answer personal_sign: %v", err)
		}
	}
}
