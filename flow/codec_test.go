package flow

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// full is flow data with every field set.
func full() *data {
	t := time.Date(2026, 11, 21, 9, 30, 15, 123456789, time.UTC)
	return &data{
		WalletAddress: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", PhoneNumber: "+12025550143", EmailAddress: "ada@example.com",
		Profile:   &profile{FirstName: "Ada", MiddleName: "King", LastName: "Lovelace", Country: "US", AcceptedTerms: true},
		Challenge: "Signing in with Ratio: xyz", ChallengeExpiresAt: t, JWT: "eyJhbGciOi.payload.sig",
		Factors: []string{"email", "sms"}, UserID: "b6fb3c76-dac7-490f-9a60-0ece43c681bb",
		PhoneID: "phone-number-test-1", PhoneMask: "0143", EmailID: "email-test-1", EmailMask: "ad...@example.com",
		User:    &userInfo{ID: "u", FirstName: "Ada", LastName: "Lovelace", KYCStatus: "NOT_STARTED"},
		Wallets: []string{"0xa", "0xb"}, EnteredAt: t.Add(time.Second), OTPAttempts: 2, LastSentAt: t.Add(2 * time.Second),
		Backoffs: 3, RetryAt: t.Add(3 * time.Second), UncertainSendAt: t.Add(4 * time.Second), CreateUncertain: true,
		UncertainAuth: "otp/sms:authenticate",
		Keyed: &keyedStep{Key: "9f86d081884c7d65", Step: lastStep{Event: "submit_otp", Outcome: "invalid_otp", Status: 401,
			Code: "INVALID_OTP", Message: "wrong or expired code"}, Failed: true, Spent: true},
		Last: &lastStep{Event: "submit_otp", Outcome: "invalid_otp", Status: 401, Code: "INVALID_OTP", Message: "wrong or expired code"},
	}
}

func TestCodec_RoundTrip(t *testing.T) {
	for _, d := range []*data{{}, full(), {WalletAddress: "0x1", Factors: []string{"wallet"}}} {
		got, err := decodeData(d.encode(nil))
		if err != nil {
			t.Fatalf("decodeData(encode(%+v)) = %v", d, err)
		}
		if diff := cmp.Diff(d, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	}
}

// Data encoded before a field was appended opens with that field zero: an
// encoding cut before its last field (the presence byte of Keyed) decodes.
func TestCodec_OlderEncodingsOpen(t *testing.T) {
	d := full()
	d.Keyed = nil
	enc := d.encode(nil)
	got, err := decodeData(enc[:len(enc)-1])
	if err != nil {
		t.Fatalf("decodeData of an encoding without the last field = %v", err)
	}
	if diff := cmp.Diff(d, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestCodec_RefusesCorruptInput(t *testing.T) {
	enc := full().encode(nil)
	for _, b := range [][]byte{nil, {0}, {codecVersion, 0xff}, append(enc[:20:20], 0xff, 0xff, 0xff)} {
		if _, err := decodeData(b); !errors.Is(err, errCorrupt) {
			t.Errorf("decodeData(%x) = %v, want errCorrupt", b, err)
		}
	}
}

func FuzzCodec(f *testing.F) {
	f.Add(full().encode(nil))
	f.Add((&data{}).encode(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := decodeData(b)
		if err != nil {
			return
		}
		again, err := decodeData(d.encode(nil))
		if err != nil {
			t.Fatalf("re-encoding decoded data fails: %v", err)
		}
		if diff := cmp.Diff(d, again); diff != "" {
			t.Fatalf("decode(encode(decode(b))) differs:\n%s", diff)
		}
	})
}

func TestSealer_OpensWhatEarlierBuildsSealed(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	s, _ := singleKey(key)
	d := full()
	// What the first builds wrote: version 1, JSON inside.
	plain, _ := json.Marshal(d)
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	blob := aead.Seal(append([]byte{sealedJSON}, nonce...), nonce, plain, []byte("flow-1"))
	got, err := s.open("flow-1", blob)
	if err != nil {
		t.Fatalf("open(JSON-sealed) = %v", err)
	}
	if diff := cmp.Diff(d, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	sealed, _ := s.seal("flow-1", d)
	if got, err = s.open("flow-1", sealed); err != nil || cmp.Diff(d, got) != "" {
		t.Errorf("open(seal(d)) = %v, %v", got, err)
	}
	if _, err := s.open("flow-2", sealed); !errors.Is(err, ErrSealed) {
		t.Errorf("open under another flow ID = %v, want ErrSealed", err)
	}
}
