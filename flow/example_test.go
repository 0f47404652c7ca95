package flow_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
	"github.com/ratioflow/ratioflow/store/memstore"
	"github.com/ratioflow/ratioflow/transitions"
)

// Example runs the link flow of a returning user with a new wallet against
// the local Ratio sandbox: the wallet signs in as a new user, the phone
// belongs to the existing account (409), SMS then email authenticate the
// user, and the wallet is added to the account.
func Example() {
	sb := sandbox.NewHandler(sandbox.Config{})
	srv := httptest.NewServer(sb)
	defer srv.Close()
	_, _ = sb.SeedUser(sandbox.UserSeed{PhoneNumber: "+12025550143", EmailAddress: "ada@example.com",
		FirstName: "Ada", LastName: "Lovelace", Country: "US"})

	client := ratio.NewClient(srv.URL, "my-client-id", "my-client-secret")
	engine, err := flow.New(memstore.New(), client, []byte("an AES-256 key of 32 bytes......"), flow.Options{})
	if err != nil {
		panic(err)
	}
	key, _ := crypto.GenerateKey() // the user's new wallet
	wallet := crypto.PubkeyToAddress(key.PublicKey).Hex()
	code := func(to string) ratio.Secret { c, _ := sb.LastOTP(to); return ratio.Secret(c) }

	ctx, user := context.Background(), "user-42"
	v, _ := engine.Start(ctx, transitions.KindLink, user, flow.Input{WalletAddress: wallet})
	fmt.Println(v.State, "->", v.Next[1].Event, v.Next[1].Fields)
	sig, _ := ratio.SignPersonal(key, v.Challenge)
	for _, step := range []struct {
		event transitions.Event
		in    func() flow.Input
	}{
		{transitions.Sign, func() flow.Input { return flow.Input{Signature: sig} }},
		{transitions.SubmitPhone, func() flow.Input { return flow.Input{PhoneNumber: "+12025550143"} }},
		{transitions.ConfirmPhone, func() flow.Input { return flow.Input{} }},
		{transitions.SubmitOTP, func() flow.Input { return flow.Input{OTP: code("+12025550143")} }},
		{transitions.SubmitEmail, func() flow.Input { return flow.Input{EmailAddress: "ada@example.com"} }},
		{transitions.SubmitOTP, func() flow.Input { return flow.Input{OTP: code("ada@example.com")} }},
	} {
		v, err = engine.Step(ctx, v.ID, user, step.event, step.in())
		if err != nil {
			panic(err)
		}
		fmt.Println(step.event, "->", v.State)
	}
	// Output:
	// ChallengeIssued -> sign [signature]
	// sign -> WalletAuthed
	// submit_phone -> PhoneConflict
	// confirm_phone -> SmsFirstSent
	// submit_otp -> SmsVerified
	// submit_email -> EmailSent
	// submit_otp -> Linked
}

// A frontend reopened after the app closed has lost the id of the flow its
// user left half way: List finds the user's running flows, each with the
// view that says what to do next.
func ExampleEngine_List() {
	srv := httptest.NewServer(sandbox.NewHandler(sandbox.Config{}))
	defer srv.Close()
	client := ratio.NewClient(srv.URL, "my-client-id", "my-client-secret")
	engine, err := flow.New(memstore.New(), client, []byte("an AES-256 key of 32 bytes......"), flow.Options{})
	if err != nil {
		panic(err)
	}
	ctx, user := context.Background(), "user-42"
	start := func() *flow.View {
		key, _ := crypto.GenerateKey()
		v, err := engine.Start(ctx, transitions.KindLink, user, flow.Input{WalletAddress: crypto.PubkeyToAddress(key.PublicKey).Hex()})
		if err != nil {
			panic(err)
		}
		return v
	}
	abandoned := start()
	_, _ = engine.Cancel(ctx, abandoned.ID, user)
	start() // the one the user left half way

	page, err := engine.List(ctx, user, flow.ListQuery{Kind: transitions.KindLink, Running: true})
	if err != nil {
		panic(err)
	}
	for _, v := range page.Flows {
		fmt.Println(v.Kind, v.State, "->", v.Next[1].Event, v.Next[1].Fields)
	}
	// Output:
	// link ChallengeIssued -> sign [signature]
}
