package flow_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/ratioflow/ratioflow/flow"
)

var (
	hexKey1 = strings.Repeat("a1", 32)
	hexKey2 = strings.Repeat("b2", 32)
	b64Key  = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xc3}, 32))
	b64URL  = base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32))
)

func TestParseKeyring(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantIDs []string
	}{
		{"one pair", "k1:" + hexKey1, []string{"k1"}},
		{"first pair seals", "2026-12:" + hexKey2 + ",2026-06:" + hexKey1, []string{"2026-12", "2026-06"}},
		{"base64 and spaces", " new : " + b64Key + " , old:0x" + hexKey1 + " ", []string{"new", "old"}},
		{"unpadded URL base64", "k:" + b64URL, []string{"k"}},
		{"16-character id", "abcdefghij-12345:" + hexKey1, []string{"abcdefghij-12345"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ring, err := flow.ParseKeyring(tt.in)
			if err != nil {
				t.Fatalf("ParseKeyring = %v", err)
			}
			if !slices.Equal(ring.IDs(), tt.wantIDs) || ring.SealingID() != tt.wantIDs[0] {
				t.Errorf("IDs() = %q, SealingID() = %q; want %q", ring.IDs(), ring.SealingID(), tt.wantIDs)
			}
		})
	}
}

func TestParseKeyring_NamesTheBadPairNeverTheKey(t *testing.T) {
	short := strings.Repeat("d4", 16) // 16 bytes: fine alone, not in a keyring
	tests := []struct {
		name string
		in   string
		want string // the whole message
	}{
		{"empty", " ", "seal key: the keyring is empty: write it as id:key pairs separated by commas"},
		{"no id", hexKey1, "seal keys: pair 1: no id: write the pair as id:key"},
		{"second has no id", "k1:" + hexKey1 + "," + hexKey2, "seal keys: pair 2: no id: write the pair as id:key"},
		{"key where the id goes", hexKey2 + ":" + hexKey1, "seal keys: pair 1: the id must be 1 to 16 characters of a-z, 0-9 and -"},
		{"upper case id", "K1:" + hexKey1, "seal keys: pair 1: the id must be 1 to 16 characters of a-z, 0-9 and -"},
		{"empty id", "k1:" + hexKey1 + ",:" + hexKey2, "seal keys: pair 2: the id must be 1 to 16 characters of a-z, 0-9 and -"},
		{"17-character id", "abcdefghij-123456:" + hexKey1, "seal keys: pair 1: the id must be 1 to 16 characters of a-z, 0-9 and -"},
		{"short key", "k1:" + hexKey1 + ",k0:" + short,
			`seal keys: pair 2 (id "k0"): the key must be 64 hex digits or the base64 of 32 bytes (e.g. from: openssl rand -hex 32)`},
		{"not a key", "k1:" + hexKey1[:63] + "z",
			`seal keys: pair 1 (id "k1"): the key must be 64 hex digits or the base64 of 32 bytes (e.g. from: openssl rand -hex 32)`},
		{"empty key", "k1:", `seal keys: pair 1 (id "k1"): the key is empty`},
		{"trailing comma", "k1:" + hexKey1 + ",", "seal keys: pair 2: no id: write the pair as id:key"},
		{"same id twice", "k1:" + hexKey1 + ",k1:" + hexKey2, `seal keys: pair 2 (id "k1"): the id is used by an earlier key`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ring, err := flow.ParseKeyring(tt.in)
			var ke *flow.SealKeyError
			if ring != nil || !errors.As(err, &ke) || !errors.Is(err, flow.ErrInvalidSealKey) {
				t.Fatalf("ParseKeyring = %v, %v; want a *SealKeyError", ring, err)
			}
			if err.Error() != tt.want {
				t.Errorf("error = %q\nwant    %q", err, tt.want)
			}
			for _, key := range []string{hexKey1, hexKey2, hexKey1[:63], short} {
				if strings.Contains(err.Error(), key) {
					t.Errorf("error %q holds key material", err)
				}
			}
		})
	}
}

func TestParseSealKey(t *testing.T) {
	for _, tt := range []struct {
		in      string
		wantLen int
	}{
		{hexKey1, 32}, {"0x" + hexKey1 + "\n", 32}, {b64Key, 32}, {b64URL, 32},
		{strings.Repeat("d4", 16), 16}, {strings.Repeat("e5", 24), 24},
		{strings.Repeat("f6", 20), 0}, {"", 0}, {"not a key", 0},
	} {
		key, err := flow.ParseSealKey(tt.in)
		if len(key) != tt.wantLen || (err != nil) != (tt.wantLen == 0) {
			t.Errorf("ParseSealKey(%q) = %d bytes, %v; want %d bytes", tt.in, len(key), err, tt.wantLen)
		}
		if err != nil && (!errors.Is(err, flow.ErrInvalidSealKey) || strings.Contains(err.Error(), tt.in) && tt.in != "") {
			t.Errorf("ParseSealKey(%q) = %v: want ErrInvalidSealKey, without the key", tt.in, err)
		}
	}
}

// A keyring and its keys print their IDs only, however they are printed.
func TestKeyring_NeverPrintsItsKeys(t *testing.T) {
	raw := bytes.Repeat([]byte{0x5a}, 32)
	key := flow.SealKey{ID: "k1", Key: raw}
	ring, err := flow.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&logs, nil), slog.NewTextHandler(&logs, nil)} {
		slog.New(h).Info("keys", "ring", ring, "key", key, "keys", []flow.SealKey{key})
	}
	js, _ := json.Marshal(struct {
		K flow.SealKey
		R *flow.Keyring
	}{key, ring})
	out := logs.String() + string(js)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q"} {
		out += fmt.Sprintf(verb, ring) + fmt.Sprintf(verb, key) + fmt.Sprintf(verb, []flow.SealKey{key}) +
			fmt.Sprintf(verb, struct{ K flow.SealKey }{key})
	}
	for _, form := range []string{string(raw), hex.EncodeToString(raw), strings.ToUpper(hex.EncodeToString(raw)),
		base64.StdEncoding.EncodeToString(raw)[:40], fmt.Sprint(raw[:8])[1:16], "5a5a5a"} {
		if strings.Contains(out, form) {
			t.Errorf("printed keyring holds the key (%q):\n%s", form, out)
		}
	}
	if !strings.Contains(out, "k1") {
		t.Errorf("printed keyring does not name its key:\n%s", out)
	}
}

func TestNewKeyring_RefusesBadKeys(t *testing.T) {
	k := bytes.Repeat([]byte{1}, 32)
	for _, keys := range [][]flow.SealKey{
		nil,
		{{ID: "k1", Key: k[:10]}},
		{{ID: "", Key: k}, {ID: "k2", Key: k}}, // an empty ID only in a ring of one
		{{ID: "k1", Key: k}, {ID: "k1", Key: k}},
		{{ID: "K1", Key: k}},
	} {
		if ring, err := flow.NewKeyring(keys...); !errors.Is(err, flow.ErrInvalidSealKey) {
			t.Errorf("NewKeyring(%v) = %v, %v; want ErrInvalidSealKey", keys, ring, err)
		}
	}
	if _, err := flow.NewKeyring(flow.SealKey{Key: k}); err != nil {
		t.Errorf("NewKeyring of one key without an ID = %v", err)
	}
}

func TestKeyringFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantIDs []string
		wantErr string
	}{
		{"a keyring", map[string]string{flow.EnvSealKeys: "k2:" + hexKey2 + ",k1:" + hexKey1}, []string{"k2", "k1"}, ""},
		{"one key", map[string]string{flow.EnvSealKey: b64Key}, []string{""}, ""},
		{"both", map[string]string{flow.EnvSealKeys: "k1:" + hexKey1, flow.EnvSealKey: hexKey1},
			nil, "RATIOFLOW_SEAL_KEYS: RATIOFLOW_SEAL_KEY is set too: keep RATIOFLOW_SEAL_KEYS only, with that key as one of its pairs"},
		{"a bad pair", map[string]string{flow.EnvSealKeys: "k1:" + hexKey1[:62]},
			nil, `RATIOFLOW_SEAL_KEYS: pair 1 (id "k1"): the key must be 64 hex digits or the base64 of 32 bytes (e.g. from: openssl rand -hex 32)`},
		{"a bad key", map[string]string{flow.EnvSealKey: hexKey1[:62]}, nil, "RATIOFLOW_SEAL_KEY: the key must be 64 hex digits " +
			"or the base64 of 32 bytes (16 or 24 bytes also work), e.g. from: openssl rand -hex 32"},
		{"neither", nil, nil, "RATIOFLOW_SEAL_KEYS (or RATIOFLOW_SEAL_KEY) is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ring, err := flow.KeyringFromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if ring != nil || err == nil || err.Error() != tt.wantErr {
					t.Fatalf("KeyringFromEnv = %v, %v\nwant error %q", ring, err, tt.wantErr)
				}
				if !errors.Is(err, flow.ErrInvalidSealKey) && !errors.Is(err, flow.ErrNoSealKey) {
					t.Errorf("KeyringFromEnv = %v: neither ErrInvalidSealKey nor ErrNoSealKey", err)
				}
				return
			}
			if err != nil || !slices.Equal(ring.IDs(), tt.wantIDs) {
				t.Errorf("KeyringFromEnv = %v, %v; want keys %q", ring, err, tt.wantIDs)
			}
		})
	}
}
