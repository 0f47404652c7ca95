// Command embedding is flow's Example_embedding as a program, so that a
// test can build it and check what a SQLite-only service links.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
	_ "github.com/ratioflow/ratioflow/store/sqlitestore" // sqlite: store URLs
	"github.com/ratioflow/ratioflow/store/storeurl"
	"github.com/ratioflow/ratioflow/transitions"
)

func main() {
	check := func(err error) {
		if err != nil {
			log.Fatal(err)
		}
	}
	ctx, user, phone, email := context.Background(), "user-42", "+12025550143", "ada@example.com"
	dir, err := os.MkdirTemp("", "ratioflow")
	check(err)
	st, err := storeurl.Open(ctx, "sqlite:"+filepath.Join(dir, "flows.db"))
	check(err)

	// The sandbox, where the person's phone and email are a Ratio user's.
	sb := sandbox.NewHandler(sandbox.Config{})
	srv := httptest.NewServer(sb)
	defer func() { srv.Close(); st.Close(); os.RemoveAll(dir) }()
	_, errSeed := sb.SeedUser(sandbox.UserSeed{PhoneNumber: phone, EmailAddress: email, FirstName: "Ada", LastName: "Lovelace", Country: "US"})
	wallet, errWallet := sandbox.NewWallet() // the person's new wallet
	// The seal key is 32 random bytes, the same in every process that
	// shares the store (flow.ParseSealKey reads it from hex or base64).
	engine, err := flow.New(st, ratio.NewClient(srv.URL, "my-client-id", "my-client-secret"), []byte("an AES-256 key of 32 bytes......"), flow.Options{})
	check(errors.Join(errSeed, errWallet, err))

	v, err := engine.Start(ctx, transitions.KindLink, user, flow.Input{WalletAddress: wallet.Address})
	check(err)
	sig, err := wallet.Sign(v.Challenge)
	check(err)
	step := func(e transitions.Event, in flow.Input) { v, err = engine.Step(ctx, v.ID, user, e, in); check(err) }
	step(transitions.Sign, flow.Input{Signature: sig})
	step(transitions.SubmitPhone, flow.Input{PhoneNumber: phone})
	fmt.Println(v.State, "asks to confirm the phone:", v.Allows(transitions.ConfirmPhone))
	step(transitions.ConfirmPhone, flow.Input{})
	step(transitions.SubmitOTP, flow.Input{OTP: sb.OTP(phone)})
	step(transitions.SubmitEmail, flow.Input{EmailAddress: email})
	step(transitions.SubmitOTP, flow.Input{OTP: sb.OTP(email)})
	fmt.Println(v.State, v.Message)
}
