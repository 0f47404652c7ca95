package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

const envSealKey = "RATIOFLOW_SEAL_KEY"

// errNoSealKey: no seal key is configured for the store.
var errNoSealKey = errors.New(envSealKey + " is not set")

// sealKey is the key that seals the flows' data, and where it came from.
type sealKey struct {
	key    []byte
	source string // for messages: "RATIOFLOW_SEAL_KEY", "/tmp/x.db.key", "ephemeral"
}

// resolveSealKey returns the seal key for the store at storeURL: the
// environment's RATIOFLOW_SEAL_KEY, else the key file next to a SQLite
// store (PATH.key). With create, a missing key file is created (0600), and
// a memory: store gets an ephemeral key; otherwise errNoSealKey is
// returned, wrapped with a hint. A PostgreSQL store always needs the
// environment variable: its flows may be read by other machines.
func resolveSealKey(getenv func(string) string, storeURL string, create bool) (*sealKey, error) {
	if v := getenv(envSealKey); v != "" {
		key, err := parseSealKey(v)
		if err != nil {
			return nil, err
		}
		return &sealKey{key: key, source: envSealKey}, nil
	}
	switch scheme(storeURL) {
	case "memory":
		if create {
			return &sealKey{key: randomKey(), source: "ephemeral, for this run only"}, nil
		}
		return nil, fmt.Errorf("%w: a memory: store lives in one process only", errNoSealKey)
	case "sqlite":
		return keyFile(sqlitePath(storeURL)+".key", create)
	}
	return nil, fmt.Errorf("%w: set it to the key of the processes that share this store "+
		"(64 hex digits, e.g. from: openssl rand -hex 32)", errNoSealKey)
}

// parseSealKey reads 16, 24 or 32 bytes written as hex or base64.
func parseSealKey(v string) ([]byte, error) {
	v = strings.TrimSpace(v)
	if b, err := hex.DecodeString(strings.TrimPrefix(v, "0x")); err == nil && validKeyLen(len(b)) {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil && validKeyLen(len(b)) {
			return b, nil
		}
	}
	return nil, fmt.Errorf("%s must be 64 hex digits or the base64 of 32 bytes (16 or 24 bytes also work), "+
		"e.g. from: openssl rand -hex 32", envSealKey)
}

func validKeyLen(n int) bool { return n == 16 || n == 24 || n == 32 }

func randomKey() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

// keyFile reads the key kept in path, creating it with a new key when
// create is set and it does not exist.
func keyFile(path string, create bool) (*sealKey, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		if err := writeKeyFile(path); err != nil {
			return nil, err
		}
		b, err = os.ReadFile(path)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w and %s does not exist: set %s to the key of the process that wrote the flows",
			errNoSealKey, path, envSealKey)
	}
	if err != nil {
		return nil, fmt.Errorf("read the seal key: %w", err)
	}
	key, err := parseSealKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("the seal key file %s is not a key: %w", path, err)
	}
	return &sealKey{key: key, source: path}, nil
}

// writeKeyFile writes a new key to path unless another process has: the
// key goes to a temporary file first, then is linked into place, so no
// reader ever sees a half-written key.
func writeKeyFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create the seal key file: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*") // mode 0600
	if err != nil {
		return fmt.Errorf("create the seal key file: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = fmt.Fprintln(f, hex.EncodeToString(randomKey()))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if err = os.Link(f.Name(), path); errors.Is(err, fs.ErrExist) {
			err = nil // another process won: use its key
		}
	}
	if err != nil {
		return fmt.Errorf("write the seal key file: %w", err)
	}
	return nil
}

// scheme returns the lower-case scheme of a store URL.
func scheme(storeURL string) string {
	s, _, _ := strings.Cut(storeURL, ":")
	return strings.ToLower(s)
}

// sqlitePath returns the file of a sqlite: store URL, as storeurl reads it.
func sqlitePath(storeURL string) string {
	_, rest, _ := strings.Cut(storeURL, ":")
	return strings.TrimPrefix(rest, "//")
}
