package flow

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fixtureKey sealed testdata/sealed-before-keyrings.hex: full() as the
// engine sealed it before keyrings (form 2, no key ID), for flow fixtureID.
var fixtureKey = []byte("0123456789abcdef0123456789abcdef")

const fixtureID = "0190a1b2c3d4e5f60718293a4b5c6d7e"

func mustRing(t *testing.T, keys ...SealKey) *Keyring {
	t.Helper()
	k, err := NewKeyring(keys...)
	if err != nil {
		t.Fatalf("NewKeyring(%v) = %v", keys, err)
	}
	return k
}

func sealedFixture(t *testing.T) []byte {
	t.Helper()
	h, err := os.ReadFile("testdata/sealed-before-keyrings.hex")
	if err != nil {
		t.Fatal(err)
	}
	b, err := hex.DecodeString(strings.TrimSpace(string(h)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Data sealed before keyrings names no key: it opens with the single key
// that sealed it, and with a ring holding that key in any place.
func TestKeyring_OpensWhatWasSealedBeforeKeyrings(t *testing.T) {
	blob := sealedFixture(t)
	other := bytes.Repeat([]byte{7}, 32)
	single, _ := singleKey(fixtureKey)
	rings := map[string]*Keyring{
		"the single key":     single,
		"a ring of that key": mustRing(t, SealKey{ID: "k1", Key: fixtureKey}),
		"a ring where it is second": mustRing(t, SealKey{ID: "k2", Key: other},
			SealKey{ID: "k1", Key: fixtureKey}),
	}
	want := full()
	for name, ring := range rings {
		d, kid, err := ring.openKey(fixtureID, blob)
		if err != nil {
			t.Fatalf("%s: open = %v", name, err)
		}
		if want := ring.keys[len(ring.keys)-1].id; kid != want {
			t.Errorf("%s: opened by key %q, want %q", name, kid, want)
		}
		if d.JWT != want.JWT || d.PhoneNumber != want.PhoneNumber || cmp.Diff(want.Profile, d.Profile) != "" ||
			!d.RetryAt.Equal(want.RetryAt) || d.UncertainAuth != want.UncertainAuth {
			t.Errorf("%s: opened %+v, want %+v", name, d, want)
		}
	}
	if ring := rings["the single key"]; !ring.sealedUnder(blob) {
		t.Errorf("the single key's own form counts as not current: Reseal would rewrite it for nothing")
	}
	if ring := rings["a ring of that key"]; ring.sealedUnder(blob) {
		t.Errorf("a blob without a key ID counts as sealed under k1: Reseal would leave it unnamed")
	}
	if _, err := mustRing(t, SealKey{ID: "k2", Key: other}).open(fixtureID, blob); !errors.Is(err, ErrSealed) {
		t.Errorf("open under a ring without its key = %v, want ErrSealed", err)
	}
}

func TestKeyring_SealsUnderTheFirstKeyAndSaysWhich(t *testing.T) {
	k1, k2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	ring := mustRing(t, SealKey{ID: "k2", Key: k2}, SealKey{ID: "k1", Key: k1})
	blob, err := ring.seal("flow-1", full())
	if err != nil {
		t.Fatal(err)
	}
	if kid, _, ok := sealedBy(blob); !ok || blob[0] != sealedKeyed || kid != "k2" {
		t.Fatalf("sealed blob names key %q (form %d), want k2 (form %d)", kid, blob[0], sealedKeyed)
	}
	if !ring.sealedUnder(blob) {
		t.Errorf("sealedUnder(own blob) = false")
	}
	// Any ring holding k2 opens it, wherever k2 stands.
	later := mustRing(t, SealKey{ID: "k1", Key: k1}, SealKey{ID: "k2", Key: k2})
	if d, kid, err := later.openKey("flow-1", blob); err != nil || kid != "k2" || cmp.Diff(full(), d) != "" {
		t.Errorf("open by a ring with k2 second = %v, %q, %v", d, kid, err)
	}
	if later.sealedUnder(blob) {
		t.Errorf("a blob under k2 counts as sealed under k1")
	}
	// A ring without k2 says which key is missing, and only that.
	_, err = mustRing(t, SealKey{ID: "k1", Key: k1}).open("flow-1", blob)
	if !errors.Is(err, ErrSealed) || !strings.Contains(err.Error(), `"k2"`) {
		t.Errorf("open without k2 = %v, want ErrSealed naming k2", err)
	}
	// A key under the same ID but other bytes does not open it.
	if _, err := mustRing(t, SealKey{ID: "k2", Key: k1}).open("flow-1", blob); !errors.Is(err, ErrSealed) {
		t.Errorf("open with another key named k2 = %v, want ErrSealed", err)
	}
	if _, err := ring.open("flow-2", blob); !errors.Is(err, ErrSealed) {
		t.Errorf("open under another flow ID = %v, want ErrSealed", err)
	}
}

func TestKeyring_RefusesMalformedBlobs(t *testing.T) {
	ring := mustRing(t, SealKey{ID: "k1", Key: fixtureKey})
	good, _ := ring.seal("f", full())
	for _, b := range [][]byte{nil, {}, {9, 1, 2}, {sealedKeyed}, {sealedKeyed, 5, 'k'}, {sealedKeyed, 2, 'k', '1'},
		good[:len(good)-1], {sealedBinary, 1, 2, 3}} {
		if _, err := ring.open("f", b); !errors.Is(err, ErrSealed) {
			t.Errorf("open(%x) = %v, want ErrSealed", b, err)
		}
	}
}
