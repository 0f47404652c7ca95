package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ratioflow/ratioflow/flow"
)

const (
	envSealKey  = flow.EnvSealKey
	envSealKeys = flow.EnvSealKeys
)

// errNoSealKey: no seal key is configured for the store.
var errNoSealKey = flow.ErrNoSealKey

// sealKey is the keyring that seals the flows' data, and where it came from.
type sealKey struct {
	ring   *flow.Keyring
	source string // for messages: "RATIOFLOW_SEAL_KEYS (...)", "/tmp/x.db.key", "ephemeral"
}

// options returns opts with the keyring set, for flow.New(st, api, nil, ...).
func (k *sealKey) options(opts flow.Options) flow.Options {
	opts.Keys = k.ring
	return opts
}

// resolveSealKey returns the seal keys for the store at storeURL: the
// environment's RATIOFLOW_SEAL_KEYS (id:key pairs, the first sealing) or
// RATIOFLOW_SEAL_KEY (one key), never both; else the key file next to a
// SQLite store (PATH.key), a demo convenience. With create, a missing key
// file is created (0600), and a memory: store gets an ephemeral key;
// otherwise errNoSealKey is returned, wrapped with a hint. A PostgreSQL
// store always needs the environment: its flows may be read by other
// machines.
func resolveSealKey(getenv func(string) string, storeURL string, create bool) (*sealKey, error) {
	ring, err := flow.KeyringFromEnv(getenv)
	switch {
	case err == nil && getenv(envSealKeys) != "":
		return &sealKey{ring: ring, source: fmt.Sprintf("%s, %s seals", envSealKeys, ring.SealingID())}, nil
	case err == nil:
		return &sealKey{ring: ring, source: envSealKey}, nil
	case !errors.Is(err, errNoSealKey):
		return nil, err
	}
	switch scheme(storeURL) {
	case "memory":
		if create {
			ring, err := flow.NewKeyring(flow.SealKey{Key: randomKey()})
			if err != nil {
				return nil, err
			}
			return &sealKey{ring: ring, source: "ephemeral, for this run only"}, nil
		}
		return nil, fmt.Errorf("%w: a memory: store lives in one process only", errNoSealKey)
	case "sqlite":
		return keyFile(sqlitePath(storeURL)+".key", create)
	}
	return nil, fmt.Errorf("%w: set it to the keys of the processes that share this store "+
		"(id:key pairs of 64 hex digits, e.g. k1:$(openssl rand -hex 32))", errNoSealKey)
}

// singleRing is the keyring of one key written as hex or base64, without
// an ID, as the key file gives it.
func singleRing(v string) (*flow.Keyring, error) {
	key, err := flow.ParseSealKey(v)
	if err != nil {
		return nil, err
	}
	return flow.NewKeyring(flow.SealKey{Key: key})
}

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
		return nil, fmt.Errorf("%w and %s does not exist: set %s to the keys of the processes that wrote the flows",
			errNoSealKey, path, envSealKeys)
	}
	if err != nil {
		return nil, fmt.Errorf("read the seal key: %w", err)
	}
	ring, err := singleRing(string(b))
	if ke, ok := errors.AsType[*flow.SealKeyError](err); ok {
		ke.Source = "the seal key file " + path
	}
	if err != nil {
		return nil, err
	}
	return &sealKey{ring: ring, source: path}, nil
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
