package flow

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// The environment variables KeyringFromEnv reads.
const (
	// EnvSealKeys holds the keyring: id:key pairs, the first sealing.
	EnvSealKeys = "RATIOFLOW_SEAL_KEYS"
	// EnvSealKey holds one key, a keyring of that key alone.
	EnvSealKey = "RATIOFLOW_SEAL_KEY"
)

var (
	// ErrInvalidSealKey: a seal key or a keyring is malformed. The error
	// is a *SealKeyError saying which key and why, never the key itself.
	ErrInvalidSealKey = errors.New("invalid seal key")
	// ErrNoSealKey: the environment configures no seal key.
	ErrNoSealKey = errors.New(EnvSealKeys + " (or " + EnvSealKey + ") is not set")
)

// SealKey is one key of a Keyring. Its String, GoString, Format, LogValue
// and MarshalJSON methods write its ID only, never its Key.
type SealKey struct {
	// ID names the key in every blob it seals: 1 to 16 of a-z, 0-9 and
	// "-". It may be empty only in a keyring of one key, whose blobs then
	// carry no key ID, as the blobs of an engine built with New's sealKey
	// do.
	ID string
	// Key is the AES key: 32 bytes (AES-256); 16 or 24 are accepted too.
	Key []byte
}

// String returns "seal key ID".
func (k SealKey) String() string { return "seal key " + k.ID }

// GoString is String, so %#v does not print the key either.
func (k SealKey) GoString() string { return k.String() }

// Format writes String for every verb.
func (k SealKey) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

// LogValue implements slog.LogValuer: the key's ID only.
func (k SealKey) LogValue() slog.Value { return slog.GroupValue(slog.String("id", k.ID)) }

// MarshalJSON writes {"id":ID}: encoding/json would write the key.
func (k SealKey) MarshalJSON() ([]byte, error) { return fmt.Appendf(nil, `{"id":%q}`, k.ID), nil }

// SealKeyError reports a malformed seal key or keyring entry: where it came
// from, its place in the list, its ID and why. It never holds key material.
type SealKeyError struct {
	// Source names where the keys came from, such as the environment
	// variable that held them; the message says "seal key" when it is empty.
	// The parsers leave it empty for their caller to set.
	Source string
	// Pair is the key's place in the list, from 1; 0 for a single key.
	Pair int
	// ID is the key's ID, when the ID itself is valid (a malformed one may
	// be a key written in the wrong place, and is not repeated).
	ID string
	// Reason says what is wrong, in words for the operator.
	Reason string
}

// Error says where, which pair and why: `RATIOFLOW_SEAL_KEYS: pair 2 (id
// "k1"): the key must be ...`.
func (e *SealKeyError) Error() string {
	var b strings.Builder
	switch {
	case e.Source != "":
		b.WriteString(e.Source)
	case e.Pair > 0:
		b.WriteString("seal keys")
	default:
		b.WriteString("seal key")
	}
	if e.Pair > 0 {
		fmt.Fprintf(&b, ": pair %d", e.Pair)
	}
	if e.ID != "" {
		fmt.Fprintf(&b, " (id %q)", e.ID)
	}
	return b.String() + ": " + e.Reason
}

// Unwrap returns ErrInvalidSealKey.
func (e *SealKeyError) Unwrap() error { return ErrInvalidSealKey }

// Keyring holds an engine's seal keys: the first key seals every write,
// and every key opens what it sealed, so that a key can be replaced
// without stranding the flows sealed under it (see Engine.Reseal).
// A Keyring is immutable, safe for concurrent use, and never prints its
// keys. Build one with NewKeyring or ParseKeyring.
type Keyring struct {
	keys []ringKey // the sealing key first
}

// ringKey is a key of a keyring, ready to seal and open.
type ringKey struct {
	id   string
	aead cipher.AEAD
}

// NewKeyring returns a keyring of keys, the first of which seals. Each key
// needs a valid, distinct ID (see SealKey) and 16, 24 or 32 bytes; a
// malformed key is a *SealKeyError naming it by its place.
func NewKeyring(keys ...SealKey) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, &SealKeyError{Reason: "the keyring has no key"}
	}
	ring := &Keyring{}
	seen := map[string]bool{}
	for i, k := range keys {
		pair := i + 1
		if len(keys) == 1 {
			pair = 0
		}
		if k.ID != "" || len(keys) > 1 {
			if reason := checkKeyID(k.ID); reason != "" {
				return nil, &SealKeyError{Pair: pair, Reason: reason}
			}
		}
		if seen[k.ID] {
			return nil, &SealKeyError{Pair: pair, ID: k.ID, Reason: "the id is used by an earlier key"}
		}
		seen[k.ID] = true
		aead, err := newAEAD(k.Key)
		if err != nil {
			return nil, &SealKeyError{Pair: pair, ID: k.ID, Reason: err.Error()}
		}
		ring.keys = append(ring.keys, ringKey{id: k.ID, aead: aead})
	}
	return ring, nil
}

// ParseKeyring parses a keyring written as comma-separated id:key pairs,
// as in RATIOFLOW_SEAL_KEYS: "k2:KEY,k1:KEY". The first pair seals. Each
// ID is 1 to 16 of a-z, 0-9 and "-"; each key is 64 hex digits or the
// base64 (standard or URL alphabet, padded or not) of 32 bytes, e.g. from
// "openssl rand -hex 32". Spaces around pairs, IDs and keys are ignored.
// A malformed pair is a *SealKeyError naming the pair by its place and
// valid ID, never by its key.
func ParseKeyring(s string) (*Keyring, error) {
	if strings.TrimSpace(s) == "" {
		return nil, &SealKeyError{Reason: "the keyring is empty: write it as id:key pairs separated by commas"}
	}
	pairs := strings.Split(s, ",")
	keys := make([]SealKey, 0, len(pairs))
	for i, p := range pairs {
		id, v, ok := strings.Cut(p, ":")
		id, v = strings.TrimSpace(id), strings.TrimSpace(v)
		switch {
		case !ok:
			return nil, &SealKeyError{Pair: i + 1, Reason: "no id: write the pair as id:key"}
		case checkKeyID(id) != "":
			return nil, &SealKeyError{Pair: i + 1, Reason: checkKeyID(id)}
		}
		key, err := decodeKey(v, 32)
		if err != nil {
			return nil, &SealKeyError{Pair: i + 1, ID: id, Reason: err.Error()}
		}
		keys = append(keys, SealKey{ID: id, Key: key})
	}
	ring, err := NewKeyring(keys...)
	var ke *SealKeyError
	if errors.As(err, &ke) && ke.Pair == 0 {
		ke.Pair = 1 // a keyring of one pair still names it
	}
	return ring, err
}

// KeyringFromEnv returns the keyring the environment configures, as the
// ratioflow command reads it: RATIOFLOW_SEAL_KEYS, parsed by ParseKeyring,
// or RATIOFLOW_SEAL_KEY, one key parsed by ParseSealKey (a keyring of that
// key alone, without an ID). getenv is os.Getenv, or a lookup of a test's.
// A malformed key, or both variables set, is a *SealKeyError whose Source
// names the variable; neither set is ErrNoSealKey.
func KeyringFromEnv(getenv func(string) string) (*Keyring, error) {
	ring, one := getenv(EnvSealKeys), getenv(EnvSealKey)
	var (
		keys *Keyring
		err  error
	)
	switch {
	case ring != "" && one != "":
		return nil, &SealKeyError{Source: EnvSealKeys, Reason: EnvSealKey + " is set too: keep " + EnvSealKeys +
			" only, with that key as one of its pairs"}
	case ring != "":
		keys, err = ParseKeyring(ring)
	case one != "":
		var key []byte
		if key, err = ParseSealKey(one); err == nil {
			keys, err = NewKeyring(SealKey{Key: key})
		}
	default:
		return nil, ErrNoSealKey
	}
	if ke, ok := errors.AsType[*SealKeyError](err); ok {
		ke.Source = EnvSealKeys
		if ring == "" {
			ke.Source = EnvSealKey
		}
	}
	return keys, err
}

// ParseSealKey parses one key written as 64 hex digits (an optional "0x"
// prefix allowed) or the base64 of 32 bytes; 16 and 24 bytes are accepted
// too, for keys made before 32 were required. A malformed key is a
// *SealKeyError, which never holds the key.
func ParseSealKey(s string) ([]byte, error) {
	key, err := decodeKey(strings.TrimSpace(s), 16, 24, 32)
	if err != nil {
		return nil, &SealKeyError{Reason: err.Error()}
	}
	return key, nil
}

// decodeKey reads a key in hex or base64, of one of the sizes given.
func decodeKey(v string, sizes ...int) ([]byte, error) {
	fits := func(b []byte) bool {
		for _, n := range sizes {
			if len(b) == n {
				return true
			}
		}
		return false
	}
	if b, err := hex.DecodeString(strings.TrimPrefix(v, "0x")); err == nil && fits(b) {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil && fits(b) {
			return b, nil
		}
	}
	if v == "" {
		return nil, errors.New("the key is empty")
	}
	if len(sizes) == 1 {
		return nil, errors.New("the key must be 64 hex digits or the base64 of 32 bytes (e.g. from: openssl rand -hex 32)")
	}
	return nil, errors.New("the key must be 64 hex digits or the base64 of 32 bytes (16 or 24 bytes also work), " +
		"e.g. from: openssl rand -hex 32")
}

// checkKeyID says what is wrong with a key ID, or "". It never repeats
// the ID: a malformed one may be a key written in the wrong place.
func checkKeyID(id string) string {
	if id == "" || len(id) > 16 {
		return "the id must be 1 to 16 characters of a-z, 0-9 and -"
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return "the id must be 1 to 16 characters of a-z, 0-9 and -"
		}
	}
	return ""
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("want 16, 24 or 32 bytes of key, got %d", len(key))
	}
	return cipher.NewGCM(block)
}

// IDs returns the keys' IDs, the sealing key's first.
func (k *Keyring) IDs() []string {
	ids := make([]string, len(k.keys))
	for i, rk := range k.keys {
		ids[i] = rk.id
	}
	return ids
}

// SealingID returns the ID of the key that seals: the first.
func (k *Keyring) SealingID() string {
	if len(k.keys) == 0 {
		return ""
	}
	return k.keys[0].id
}

// String returns "keyring [ID ...]", the sealing key's ID first.
func (k *Keyring) String() string { return fmt.Sprintf("keyring %q", k.IDs()) }

// GoString is String, so %#v does not print the keys either.
func (k *Keyring) GoString() string { return k.String() }

// Format writes String for every verb.
func (k *Keyring) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

// LogValue implements slog.LogValuer: the keys' IDs only.
func (k *Keyring) LogValue() slog.Value { return slog.AnyValue(k.IDs()) }
