package ratio_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ratioflow/ratioflow/ratio"
)

// A wallet signs in: the client asks for a challenge, the wallet signs it
// with personal_sign, and the client sends the signature. The server here
// answers the two calls as Ratio does, for a wallet Ratio does not know.
func Example() {
	const challenge = "Signing in with Ratio: pUQikKqqBq1brTwt1oHhUJwlOTfshzfMEAsJaH7x1MOdN7QMOooFfj-Aujmi7sb0wJnvYqtmZtlszKdH"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/auth/cryptoWallet:start":
			fmt.Fprintf(w, `{"challenge":%q}`, challenge)
		case "/v1/auth/cryptoWallet:authenticate":
			var req ratio.AuthenticateWalletRequest
			_ = json.NewDecoder(r.Body).Decode(&req)
			if ratio.VerifySignature(common.HexToAddress(req.WalletAddress), challenge, req.Signature) != nil {
				http.Error(w, `{"code":"INVALID_SIGNATURE"}`, http.StatusUnauthorized)
				return
			}
			fmt.Fprint(w, `{"sessionJwt":"eyJhbGciOiJSUzI1NiJ9.e30.c2ln"}`) // no userMask: a new user
		}
	}))
	defer srv.Close()

	key, err := crypto.HexToECDSA("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
	if err != nil {
		log.Fatal(err)
	}
	address := crypto.PubkeyToAddress(key.PublicKey).Hex()

	ctx := context.Background()
	client := ratio.NewClient(srv.URL, "my-client-id", ratio.Secret("my-client-secret"))
	start, err := client.StartWallet(ctx, "", ratio.StartWalletRequest{WalletAddress: address})
	if err != nil {
		log.Fatal(err)
	}
	signature, err := ratio.SignPersonal(key, start.Challenge) // what the user's wallet does
	if err != nil {
		log.Fatal(err)
	}
	auth, err := client.AuthenticateWallet(ctx, "", ratio.AuthenticateWalletRequest{WalletAddress: address, Signature: signature})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("wallet:", address)
	fmt.Println("session JWT:", auth.SessionJWT) // a Secret prints redacted
	fmt.Println("known to Ratio:", auth.UserMask != nil)
	// Output:
	// wallet: 0x2c7536E3605D9C16a7a3D7b1898e529396a65c23
	// session JWT: [redacted]
	// known to Ratio: false
}
