package flow

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
)

// A keyring seals and opens flow data with AES-GCM. The flow ID is the
// additional data, so a sealed blob cannot be moved to another flow.
//
// The first byte of a sealed blob says how the rest is laid out:
//
//	1  nonce, ciphertext of encoding/json   (the first builds)
//	2  nonce, ciphertext of data.encode     (before keyrings; a key without ID)
//	3  ID length, key ID, nonce, ciphertext of data.encode
//
// Blobs of forms 1 and 2 name no key: every key of the ring is tried on
// them, the sealing key first.
const (
	sealedJSON   = 1
	sealedBinary = 2
	sealedKeyed  = 3
)

// keyring returns the engine's keyring: New's sealKey or Options.Keys.
func keyring(sealKey []byte, keys *Keyring) (*Keyring, error) {
	switch {
	case keys != nil && sealKey != nil:
		return nil, errors.New("flow: New takes a sealKey or Options.Keys, not both")
	case keys != nil && len(keys.keys) == 0:
		return nil, errors.New("flow: Options.Keys is an empty keyring: build it with NewKeyring or ParseKeyring")
	case keys != nil:
		return keys, nil
	}
	return singleKey(sealKey)
}

// singleKey is the keyring of New's sealKey: one key without an ID.
func singleKey(key []byte) (*Keyring, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, fmt.Errorf("seal key: %w", err)
	}
	return &Keyring{keys: []ringKey{{aead: aead}}}, nil
}

// seal encodes d and encrypts it under the sealing key.
func (k *Keyring) seal(id string, d *data) ([]byte, error) {
	key := k.keys[0]
	ns := key.aead.NonceSize()
	buf := make([]byte, 0, 2+len(key.id)+ns+512)
	if key.id == "" {
		buf = append(buf, sealedBinary)
	} else {
		buf = append(buf, sealedKeyed, byte(len(key.id)))
		buf = append(buf, key.id...)
	}
	nonce := len(buf)
	buf = buf[:nonce+ns]
	if _, err := rand.Read(buf[nonce:]); err != nil {
		return nil, err
	}
	head := len(buf)
	buf = d.encode(buf)
	if n := len(buf) + key.aead.Overhead(); n > cap(buf) {
		buf = append(make([]byte, 0, n), buf...)
	}
	// Encrypt in place: the ciphertext overwrites the plaintext.
	sealed := key.aead.Seal(buf[head:head], buf[nonce:head], buf[head:], []byte(id))
	return buf[:head+len(sealed)], nil
}

// open decrypts and decodes what seal wrote, under any key of the ring.
func (k *Keyring) open(id string, blob []byte) (*data, error) {
	d, _, err := k.openKey(id, blob)
	return d, err
}

// openKey is open, also returning the ID of the key that opened blob.
// A blob that names a key the ring lacks is an error naming that key's
// ID; any other blob the ring cannot open is ErrSealed.
func (k *Keyring) openKey(id string, blob []byte) (*data, string, error) {
	kid, body, ok := sealedBy(blob)
	if !ok {
		return nil, "", ErrSealed
	}
	for _, key := range k.keys {
		if blob[0] == sealedKeyed && key.id != kid {
			continue
		}
		ns := key.aead.NonceSize()
		if len(body) < ns {
			return nil, "", ErrSealed
		}
		plain, err := key.aead.Open(nil, body[:ns], body[ns:], []byte(id))
		if err != nil {
			continue // not this key: a blob without an ID tries the next
		}
		d, err := decodeSealed(blob[0], plain)
		return d, key.id, err
	}
	if blob[0] == sealedKeyed && !k.has(kid) {
		return nil, "", fmt.Errorf("%w: sealed under key %q, which is not among the engine's keys %q", ErrSealed, kid, k.IDs())
	}
	return nil, "", ErrSealed
}

// sealedBy splits a blob into the ID of the key it names ("" for forms 1
// and 2) and the nonce and ciphertext that follow; ok is false for a blob
// of no known form.
func sealedBy(blob []byte) (kid string, body []byte, ok bool) {
	if len(blob) == 0 {
		return "", nil, false
	}
	switch blob[0] {
	case sealedJSON, sealedBinary:
		return "", blob[1:], true
	case sealedKeyed:
		if len(blob) < 2 || len(blob) < 2+int(blob[1]) {
			return "", nil, false
		}
		return string(blob[2 : 2+blob[1]]), blob[2+blob[1]:], true
	}
	return "", nil, false
}

// sealedUnder reports whether blob is sealed, in the current form, under
// the ring's sealing key: Reseal leaves such a blob alone.
func (k *Keyring) sealedUnder(blob []byte) bool {
	kid, _, ok := sealedBy(blob)
	if first := k.keys[0].id; first != "" {
		return ok && blob[0] == sealedKeyed && kid == first
	}
	return ok && blob[0] == sealedBinary
}

func (k *Keyring) has(kid string) bool {
	for _, key := range k.keys {
		if key.id == kid {
			return true
		}
	}
	return false
}

// decodeSealed decodes opened data of the given form.
func decodeSealed(form byte, plain []byte) (*data, error) {
	if form == sealedJSON {
		d := new(data)
		if err := json.Unmarshal(plain, d); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrSealed, err)
		}
		return d, nil
	}
	d, err := decodeData(plain)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSealed, err)
	}
	return d, nil
}
