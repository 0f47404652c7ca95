package ratio_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ratioflow/ratioflow/ratio"
)

// Fuzz targets for every input check: whatever a frontend sends, a check
// either accepts a value of the documented format or refuses it with an
// *ratio.InputError naming its field, and never panics. The seeds are the
// table tests' values; `go test` runs them, `go test -fuzz` explores.

// wantInputError fails unless err is an *ratio.InputError on field with a
// reason, matching ratio.ErrInvalidInput.
func wantInputError(t *testing.T, call string, err error, field string) {
	t.Helper()
	var ie *ratio.InputError
	if !errors.As(err, &ie) {
		t.Fatalf("%s = %v (%T), want an *ratio.InputError", call, err, err)
	}
	if ie.Field != field || ie.Reason == "" || !errors.Is(err, ratio.ErrInvalidInput) {
		t.Fatalf("%s = %#v, want an input error on %s with a reason", call, ie, field)
	}
}

var (
	hexAddress = regexp.MustCompile(`^0[xX][0-9a-fA-F]{40}$`)
	usE164     = regexp.MustCompile(`^\+1[2-9][0-9]{9}$`)
	sixDigits  = regexp.MustCompile(`^[0-9]{6}$`)
	alpha2     = regexp.MustCompile(`^[A-Z]{2}$`)
)

func FuzzParseWalletAddress(f *testing.F) {
	for _, s := range []string{testAddress, strings.ToLower(testAddress), "0X" + strings.ToUpper(testAddress[2:]),
		"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "0x0000000000000000000000000000000000000000",
		"", "0x", "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", " " + testAddress, testAddress + "00",
		"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg", "0x+aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		addr, err := ratio.ParseWalletAddress(s)
		if err != nil {
			wantInputError(t, "ParseWalletAddress", err, ratio.FieldWalletAddress)
			return
		}
		if !hexAddress.MatchString(s) {
			t.Fatalf("ParseWalletAddress(%q) accepted a value that is not 0x and 40 hex digits", s)
		}
		if !strings.EqualFold(addr.Hex()[2:], s[2:]) {
			t.Fatalf("ParseWalletAddress(%q) = %s, another address", s, addr.Hex())
		}
		digits := s[2:]
		mixed := digits != strings.ToLower(digits) && digits != strings.ToUpper(digits)
		if mixed && digits != addr.Hex()[2:] {
			t.Fatalf("ParseWalletAddress(%q) accepted a mixed-case address with a wrong EIP-55 checksum", s)
		}
		// Normalised forms name the same address.
		for _, again := range []string{addr.Hex(), strings.ToLower(addr.Hex()), "0x" + strings.ToUpper(addr.Hex()[2:])} {
			if a, err := ratio.ParseWalletAddress(again); err != nil || a != addr {
				t.Fatalf("ParseWalletAddress(%q) = %s, %v; want %s as for %q", again, a.Hex(), err, addr.Hex(), s)
			}
		}
	})
}

func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{testPhone, "+18005550199", "+14165551234", "+442079460958", "4165551234",
		"+1 202 555 0123", "+1-202-555-0123", "+1202", "+12025550", "", "+", "+0012025550123",
		"+1202555012345", "+1２０２5550123", "+12025550123\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ratio.NormalizePhone(s)
		if err != nil {
			wantInputError(t, "NormalizePhone", err, ratio.FieldPhoneNumber)
			return
		}
		if !usE164.MatchString(got) {
			t.Fatalf("NormalizePhone(%q) = %q, not a US number in E.164", s, got)
		}
		// The input is E.164 already (+ and digits only): normalising must
		// not turn it into another number.
		if got != s {
			t.Fatalf("NormalizePhone(%q) = %q, another number", s, got)
		}
		if again, err := ratio.NormalizePhone(got); err != nil || again != got {
			t.Fatalf("NormalizePhone(%q) = %q, %v; not idempotent", got, again, err)
		}
	})
}

func FuzzCheckEmail(f *testing.F) {
	for _, s := range []string{testEmail, "paul+15612023748@mail.example.co.uk", "", "ratiouser.example.com",
		"Ratio User <ratiouser@example.com>", "ratiouser@localhost", "ratiouser@.example.com",
		"ratiouser@example.com.", strings.Repeat("a", 250) + "@example.com", `"a b"@example.com`,
		"a@[192.0.2.1]", "a@b..com", "zoë@example.com", "a@example.com\n", "a\xff@example.com", "a@b@example.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ratio.CheckEmail(s)
		if err != nil {
			wantInputError(t, "CheckEmail", err, ratio.FieldEmailAddress)
			return
		}
		if len(s) > 254 || !utf8.ValidString(s) {
			t.Fatalf("CheckEmail(%q) accepted an address longer than 254 bytes or not UTF-8", s)
		}
		if strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
			t.Fatalf("CheckEmail(%q) accepted a space or a control character", s)
		}
		at := strings.LastIndexByte(s, '@')
		domain := s[at+1:]
		if at <= 0 || !strings.Contains(domain, ".") || strings.Contains(domain, "..") ||
			strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
			t.Fatalf("CheckEmail(%q) accepted an address without local part or dotted domain", s)
		}
	})
}

func FuzzCheckCountry(f *testing.F) {
	for _, s := range []string{"US", "GB", "us", "XX", "USA", "", "À", "U", "ZW", "AA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ratio.CheckCountry(s)
		if err != nil {
			wantInputError(t, "CheckCountry", err, ratio.FieldCountry)
			return
		}
		if !alpha2.MatchString(s) {
			t.Fatalf("CheckCountry(%q) accepted a value that is not two capital letters", s)
		}
	})
}

func FuzzCheckOTP(f *testing.F) {
	for _, s := range []string{string(testOTP), "012345", "", "73021", "7302159", "73o215", "７３０２１５", " 73021", "730215 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ratio.CheckOTP(ratio.Secret(s))
		if err != nil {
			wantInputError(t, "CheckOTP", err, ratio.FieldOTP)
			// The reason is one of two fixed texts: it never repeats the code.
			var ie *ratio.InputError
			errors.As(err, &ie)
			if ie.Reason != "missing" && ie.Reason != "must be 6 digits" {
				t.Fatalf("CheckOTP(%q) = %q, a reason that may repeat the code", s, ie.Reason)
			}
			return
		}
		if !sixDigits.MatchString(s) {
			t.Fatalf("CheckOTP(%q) accepted a value that is not 6 ASCII digits", s)
		}
	})
}

func FuzzCheckName(f *testing.F) {
	for _, s := range []string{"Ada", "Zoë-Ann O'Brien", "", "   ", " ", "1234", "Ada\nLovelace",
		strings.Repeat("a", 101), "A\u200b", "A\u00a0B", "\u0301"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, optional bool) {
		err := ratio.CheckName(ratio.FieldMiddleName, s, optional)
		if err != nil {
			wantInputError(t, "CheckName", err, ratio.FieldMiddleName)
			return
		}
		if s == "" {
			if !optional {
				t.Fatalf("CheckName(%q, optional=false) accepted an empty name", s)
			}
			return
		}
		if !utf8.ValidString(s) || utf8.RuneCountInString(s) > 100 {
			t.Fatalf("CheckName(%q) accepted a name that is not UTF-8 or longer than 100 characters", s)
		}
		if strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 || strings.TrimSpace(s) == "" ||
			strings.IndexFunc(s, unicode.IsLetter) < 0 {
			t.Fatalf("CheckName(%q) accepted a name with a control character or without a letter", s)
		}
	})
}

// createUserFields are the fields CheckCreateUser may name.
var createUserFields = map[string]bool{ratio.FieldFirstName: true, ratio.FieldMiddleName: true,
	ratio.FieldLastName: true, "email": true, ratio.FieldCountry: true, "phone": true, ratio.FieldAcceptedTerms: true}

func FuzzCheckCreateUser(f *testing.F) {
	f.Add("Ada", "", "Lovelace", testEmail, "US", testPhone, true)
	f.Add("Ada", "G", "Lovelace", "nope", "us", "+44", false)
	f.Add("", "42", " ", "", "", "", true)
	f.Fuzz(func(t *testing.T, first, middle, last, email, country, phone string, terms bool) {
		r := ratio.CreateUserRequest{FirstName: first, MiddleName: middle, LastName: last, Email: email,
			Country: country, Phone: phone, AcceptedTerms: terms}
		err := ratio.CheckCreateUser(r)
		if err != nil {
			var ie *ratio.InputError
			if !errors.As(err, &ie) || !createUserFields[ie.Field] || ie.Reason == "" {
				t.Fatalf("CheckCreateUser(%+v) = %v, want an input error naming a create-user field", r, err)
			}
			return
		}
		// Accepted as a whole: each field passes its own check.
		_, perr := ratio.NormalizePhone(phone)
		if !terms || ratio.CheckEmail(email) != nil || ratio.CheckCountry(country) != nil || perr != nil ||
			ratio.CheckName(ratio.FieldFirstName, first, false) != nil || ratio.CheckName(ratio.FieldLastName, last, false) != nil ||
			ratio.CheckName(ratio.FieldMiddleName, middle, true) != nil {
			t.Fatalf("CheckCreateUser(%+v) accepted a field its own check refuses", r)
		}
	})
}

// addressOf is ParseWalletAddress for a value known to be valid.
func addressOf(t *testing.T, s string) common.Address {
	t.Helper()
	a, err := ratio.ParseWalletAddress(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
