package main

import (
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/ratioflow/ratioflow/internal/pilot"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
	"github.com/ratioflow/ratioflow/transitions"
)

var demoNames = [][2]string{
	{"Ada", "Lovelace"}, {"Grace", "Hopper"}, {"Alan", "Turing"}, {"Katherine", "Johnson"},
	{"Edsger", "Dijkstra"}, {"Barbara", "Liskov"}, {"Claude", "Shannon"}, {"Radia", "Perlman"},
}

// phoneSpace counts the numbers +1 202 NXX XXXX with NXX from 200 to 999,
// all of which Ratio's phone check accepts.
const phoneSpace = 800 * 10000

// phone returns the j-th number of the 202 area (j modulo phoneSpace).
func phone(j uint64) string {
	j %= phoneSpace
	return fmt.Sprintf("+1202%03d%04d", 200+j/10000, j%10000)
}

// randomPersona is a new person for one demo run: a fresh wallet key,
// a random 202 number and an email no earlier run used.
func randomPersona() (pilot.Persona, error) {
	key, err := crypto.GenerateKey()
	if err != nil {
		return pilot.Persona{}, fmt.Errorf("generate the wallet key: %w", err)
	}
	n, _ := rand.Int(rand.Reader, big.NewInt(phoneSpace))
	name := demoNames[n.Int64()%int64(len(demoNames))]
	return pilot.Persona{
		Key: key, Phone: phone(n.Uint64()),
		Email:     fmt.Sprintf("%s.%s.%d@example.com", strings.ToLower(name[0]), strings.ToLower(name[1]), n.Int64()),
		FirstName: name[0], LastName: name[1], Country: "US",
	}, nil
}

// benchPersona is the i-th person of a bench run with the given seed; set
// tells the engine's people (0) from the raw replay's (1). Keys come from
// Keccak256("ratioflow-bench", seed, set, i); phones are consecutive from
// a base the seed picks, so no two people of one run share a number.
func benchPersona(seed int64, set, i int) pilot.Persona {
	return pilot.Persona{
		Key:       benchKey(seed, set, i),
		Phone:     phone(benchPhoneBase(seed) + uint64(len(benchSets)*i+set)),
		Email:     fmt.Sprintf("%s-%d-%d@example.com", benchSets[set], seed, i),
		FirstName: "Bench", LastName: "User", Country: "US",
	}
}

var benchSets = []string{"bench", "raw", "durable"}

// benchSubject is the subject of the i-th flow of a bench run.
func benchSubject(seed int64, i int) string { return fmt.Sprintf("bench-%d-%d", seed, i) }

func benchPhoneBase(seed int64) uint64 {
	h := crypto.Keccak256([]byte("ratioflow-bench-phones"), binary.BigEndian.AppendUint64(nil, uint64(seed)))
	return binary.BigEndian.Uint64(h) % phoneSpace
}

func benchKey(seed int64, set, i int) *ecdsa.PrivateKey {
	var b []byte
	b = binary.BigEndian.AppendUint64(b, uint64(seed))
	b = binary.BigEndian.AppendUint64(b, uint64(set))
	b = binary.BigEndian.AppendUint64(b, uint64(i))
	for attempt := byte(0); ; attempt++ {
		// A hash that is not a valid key (zero, or not below the curve's
		// order) is all but impossible; hash again if it happens.
		key, err := crypto.ToECDSA(crypto.Keccak256([]byte("ratioflow-bench"), b, []byte{attempt}))
		if err == nil {
			return key
		}
	}
}

// userSeed is the sandbox user a persona is, with the wallet linked when
// the flow needs it (signin).
func userSeed(p pilot.Persona, kind transitions.Kind) sandbox.UserSeed {
	s := sandbox.UserSeed{PhoneNumber: p.Phone, EmailAddress: p.Email, FirstName: p.FirstName,
		LastName: p.LastName, Country: p.Country}
	if kind == transitions.KindSignIn {
		s.Wallets = []string{p.Wallet()}
	}
	return s
}

// needsUser reports whether a flow of kind needs its person to be a Ratio
// user already.
func needsUser(kind transitions.Kind) bool { return kind != transitions.KindSignUp }

// checkPersona checks the person's phone and email as Ratio would.
func checkPersona(p pilot.Persona) error {
	if _, err := ratio.NormalizePhone(p.Phone); err != nil {
		return err
	}
	return ratio.CheckEmail(p.Email)
}
