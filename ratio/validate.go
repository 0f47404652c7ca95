package ratio

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/nyaruka/phonenumbers"
)

// Input checks shared by the client's callers, the engine and the sandbox.
// Each returns an *InputError naming the field as Ratio names it.

// Field names as Ratio's API spells them.
const (
	FieldWalletAddress = "walletAddress"
	FieldSignature     = "signature"
	FieldPhoneNumber   = "phoneNumber"
	FieldOTP           = "otp"
	FieldEmailAddress  = "emailAddress"
	FieldFirstName     = "firstName"
	FieldLastName      = "lastName"
	FieldMiddleName    = "middleName"
	FieldCountry       = "country"
	FieldAcceptedTerms = "acceptedTerms"
)

// ParseWalletAddress checks an EVM wallet address: "0x" and 40 hex digits
// (20 bytes). An all-lowercase or all-uppercase address is accepted as is;
// a mixed-case one must carry a valid EIP-55 checksum, since a wrong one
// is how a mistyped address shows.
func ParseWalletAddress(s string) (common.Address, error) {
	if s == "" {
		return common.Address{}, inputErr(FieldWalletAddress, "missing")
	}
	if !strings.HasPrefix(s, "0x") && !strings.HasPrefix(s, "0X") {
		return common.Address{}, inputErr(FieldWalletAddress, "must start with 0x")
	}
	digits := s[2:]
	if len(digits) != 2*common.AddressLength {
		return common.Address{}, inputErr(FieldWalletAddress, "must be 20 bytes (40 hex digits after 0x), got %d digits", len(digits))
	}
	if _, err := hex.DecodeString(digits); err != nil {
		return common.Address{}, inputErr(FieldWalletAddress, "must be hexadecimal")
	}
	addr := common.HexToAddress(s)
	if digits != strings.ToLower(digits) && digits != strings.ToUpper(digits) && addr.Hex()[2:] != digits {
		return common.Address{}, inputErr(FieldWalletAddress, "mixed-case address fails its EIP-55 checksum (a typo?)")
	}
	return addr, nil
}

// ParseSignature checks a personal_sign signature: 65 bytes (r, s, v) as
// hex, with or without 0x, v in {0, 1, 27, 28}, and s in the lower half of
// the curve order (EIP-2: a high-S signature is a malleated copy). It
// returns the 65 bytes with v normalised to 0 or 1, as crypto.SigToPub
// wants them.
func ParseSignature(s string) ([]byte, error) {
	if s == "" {
		return nil, inputErr(FieldSignature, "missing")
	}
	h := s
	if strings.HasPrefix(h, "0x") || strings.HasPrefix(h, "0X") {
		h = h[2:]
	}
	if len(h) != 2*crypto.SignatureLength {
		return nil, inputErr(FieldSignature, "must be 65 bytes (130 hex digits), got %d digits", len(h))
	}
	sig, err := hex.DecodeString(h)
	if err != nil {
		return nil, inputErr(FieldSignature, "must be hexadecimal")
	}
	v := sig[64]
	switch v {
	case 0, 1:
	case 27, 28:
		v -= 27
	default:
		return nil, inputErr(FieldSignature, "recovery id v must be 0, 1, 27 or 28, got %d", sig[64])
	}
	sig[64] = v
	r, sv := new(bigInt).SetBytes(sig[:32]), new(bigInt).SetBytes(sig[32:64])
	if !crypto.ValidateSignatureValues(v, r, sv, true) {
		if sv.Cmp(secp256k1halfN) > 0 {
			return nil, inputErr(FieldSignature, "s is in the upper half of the curve order (EIP-2 high-S, a malleated signature)")
		}
		return nil, inputErr(FieldSignature, "r or s is out of range")
	}
	return sig, nil
}

// NormalizePhone checks a phone number and returns it in E.164. Ratio takes
// only E.164 ("+" then the country code and number, no spaces) and only US
// numbers; anything else is refused, saying which country the number
// belongs to. Whether a US number is a mobile cannot be told offline (every
// US number is "fixed line or mobile" to libphonenumber), so that part of
// Ratio's rule is left to Ratio.
//
// Valid numbers are cached (a bounded set, dropped whole when full):
// libphonenumber's parsing is the costliest part of a step, and a flow sends
// to the same number several times.
func NormalizePhone(s string) (string, error) {
	if v, ok := phoneCache.Load(s); ok {
		return v.(string), nil
	}
	e164, err := normalizePhone(s)
	if err == nil {
		if phoneCacheLen.Add(1) > phoneCacheMax {
			phoneCache.Clear()
			phoneCacheLen.Store(1)
		}
		phoneCache.Store(s, e164)
	}
	return e164, err
}

// The cache of NormalizePhone: input to E.164, valid numbers only.
var (
	phoneCache    sync.Map
	phoneCacheLen atomic.Int64
)

const phoneCacheMax = 10000

func normalizePhone(s string) (string, error) {
	if s == "" {
		return "", inputErr(FieldPhoneNumber, "missing")
	}
	if !strings.HasPrefix(s, "+") {
		return "", inputErr(FieldPhoneNumber, "must be in E.164 format, e.g. +12025550123")
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return "", inputErr(FieldPhoneNumber, "must be in E.164 format: + and digits only, no spaces or punctuation")
		}
	}
	if n := len(s) - 1; n < 8 || n > 15 {
		return "", inputErr(FieldPhoneNumber, "must be in E.164 format: 8 to 15 digits after +, got %d", n)
	}
	num, err := phonenumbers.Parse(s, "")
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", inputErr(FieldPhoneNumber, "is not a valid phone number")
	}
	if region := phonenumbers.GetRegionCodeForNumber(num); region != "US" {
		where := region
		if place, err := phonenumbers.GetGeocodingForNumber(num, "en"); err == nil && place != "" {
			where = fmt.Sprintf("%s (%s)", region, place)
		}
		return "", inputErr(FieldPhoneNumber, "is a %s number, not a US number: Ratio accepts only US phone numbers", where)
	}
	// libphonenumber forgives a national prefix after the country code
	// (+1 1 202...); E.164 has none, and the number must not change.
	e164 := phonenumbers.Format(num, phonenumbers.E164)
	if e164 != s {
		return "", inputErr(FieldPhoneNumber, "must be in E.164 format: the country code, then the number without a national prefix")
	}
	return e164, nil
}

// CheckEmail checks an email address: a bare address (no display name,
// no angle brackets) with a domain that has a dot.
func CheckEmail(s string) error {
	if s == "" {
		return inputErr(FieldEmailAddress, "missing")
	}
	if len(s) > 254 {
		return inputErr(FieldEmailAddress, "longer than 254 characters")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return inputErr(FieldEmailAddress, "is not a valid email address")
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return inputErr(FieldEmailAddress, "domain %q has no top-level domain", domain)
	}
	return nil
}

// CheckOTP checks the shape of a one-time code: 6 digits. The error never
// repeats the code.
func CheckOTP(s Secret) error {
	v := s.Reveal()
	if v == "" {
		return inputErr(FieldOTP, "missing")
	}
	if len(v) != 6 {
		return inputErr(FieldOTP, "must be 6 digits")
	}
	for _, r := range v {
		if r < '0' || r > '9' {
			return inputErr(FieldOTP, "must be 6 digits")
		}
	}
	return nil
}

// CheckName checks a person's name field (firstName, lastName, middleName):
// present unless optional, valid UTF-8, at most 100 characters, printable,
// with at least one letter.
func CheckName(field, s string, optional bool) error {
	if strings.TrimSpace(s) == "" {
		if optional && s == "" {
			return nil
		}
		return inputErr(field, "missing")
	}
	if !utf8.ValidString(s) {
		return inputErr(field, "is not valid UTF-8")
	}
	if utf8.RuneCountInString(s) > 100 {
		return inputErr(field, "longer than 100 characters")
	}
	letter := false
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return inputErr(field, "contains a control character")
		}
		letter = letter || unicode.IsLetter(r)
	}
	if !letter {
		return inputErr(field, "has no letter")
	}
	return nil
}

// CheckCountry checks an ISO 3166-1 alpha-2 country code, e.g. "US".
func CheckCountry(s string) error {
	if s == "" {
		return inputErr(FieldCountry, "missing")
	}
	if len(s) != 2 || s != strings.ToUpper(s) {
		return inputErr(FieldCountry, "must be an ISO 3166 alpha-2 code in capitals, e.g. US")
	}
	if !isISO3166(s) {
		return inputErr(FieldCountry, "%q is not an ISO 3166 alpha-2 country code", s)
	}
	return nil
}

// CheckCreateUser checks every field of a create-user request, returning
// the first problem.
func CheckCreateUser(r CreateUserRequest) error {
	if err := CheckName(FieldFirstName, r.FirstName, false); err != nil {
		return err
	}
	if err := CheckName(FieldMiddleName, r.MiddleName, true); err != nil {
		return err
	}
	if err := CheckName(FieldLastName, r.LastName, false); err != nil {
		return err
	}
	if err := CheckEmail(r.Email); err != nil {
		return renameField(err, "email")
	}
	if err := CheckCountry(r.Country); err != nil {
		return err
	}
	if _, err := NormalizePhone(r.Phone); err != nil {
		return renameField(err, "phone")
	}
	if !r.AcceptedTerms {
		return inputErr(FieldAcceptedTerms, "must be true: the user must tick \"I agree to the Ratio terms of use.\"")
	}
	return nil
}

// renameField returns err's *InputError under another field name: the
// create-user body calls the email and phone "email" and "phone".
func renameField(err error, field string) error {
	var ie *InputError
	if !errors.As(err, &ie) {
		return err
	}
	return &InputError{Field: field, Reason: ie.Reason}
}

func isISO3166(code string) bool {
	for i := 0; i+2 <= len(iso3166); i += 2 {
		if iso3166[i:i+2] == code {
			return true
		}
	}
	return false
}

// iso3166 holds the 249 officially assigned ISO 3166-1 alpha-2 codes,
// concatenated in order.
const iso3166 = "AD" + "AE" + "AF" + "AG" + "AI" + "AL" + "AM" + "AO" + "AQ" + "AR" + "AS" + "AT" + "AU" + "AW" + "AX" + "AZ" +
	"BA" + "BB" + "BD" + "BE" + "BF" + "BG" + "BH" + "BI" + "BJ" + "BL" + "BM" + "BN" + "BO" + "BQ" + "BR" + "BS" + "BT" + "BV" + "BW" + "BY" + "BZ" +
	"CA" + "CC" + "CD" + "CF" + "CG" + "CH" + "CI" + "CK" + "CL" + "CM" + "CN" + "CO" + "CR" + "CU" + "CV" + "CW" + "CX" + "CY" + "CZ" +
	"DE" + "DJ" + "DK" + "DM" + "DO" + "DZ" +
	"EC" + "EE" + "EG" + "EH" + "ER" + "ES" + "ET" +
	"FI" + "FJ" + "FK" + "FM" + "FO" + "FR" +
	"GA" + "GB" + "GD" + "GE" + "GF" + "GG" + "GH" + "GI" + "GL" + "GM" + "GN" + "GP" + "GQ" + "GR" + "GS" + "GT" + "GU" + "GW" + "GY" +
	"HK" + "HM" + "HN" + "HR" + "HT" + "HU" +
	"ID" + "IE" + "IL" + "IM" + "IN" + "IO" + "IQ" + "IR" + "IS" + "IT" +
	"JE" + "JM" + "JO" + "JP" +
	"KE" + "KG" + "KH" + "KI" + "KM" + "KN" + "KP" + "KR" + "KW" + "KY" + "KZ" +
	"LA" + "LB" + "LC" + "LI" + "LK" + "LR" + "LS" + "LT" + "LU" + "LV" + "LY" +
	"MA" + "MC" + "MD" + "ME" + "MF" + "MG" + "MH" + "MK" + "ML" + "MM" + "MN" + "MO" + "MP" + "MQ" + "MR" + "MS" + "MT" + "MU" + "MV" + "MW" + "MX" + "MY" + "MZ" +
	"NA" + "NC" + "NE" + "NF" + "NG" + "NI" + "NL" + "NO" + "NP" + "NR" + "NU" + "NZ" +
	"OM" +
	"PA" + "PE" + "PF" + "PG" + "PH" + "PK" + "PL" + "PM" + "PN" + "PR" + "PS" + "PT" + "PW" + "PY" +
	"QA" +
	"RE" + "RO" + "RS" + "RU" + "RW" +
	"SA" + "SB" + "SC" + "SD" + "SE" + "SG" + "SH" + "SI" + "SJ" + "SK" + "SL" + "SM" + "SN" + "SO" + "SR" + "SS" + "ST" + "SV" + "SX" + "SY" + "SZ" +
	"TC" + "TD" + "TF" + "TG" + "TH" + "TJ" + "TK" + "TL" + "TM" + "TN" + "TO" + "TR" + "TT" + "TV" + "TW" + "TZ" +
	"UA" + "UG" + "UM" + "US" + "UY" + "UZ" +
	"VA" + "VC" + "VE" + "VG" + "VI" + "VN" + "VU" +
	"WF" + "WS" +
	"YE" + "YT" +
	"ZA" + "ZM" + "ZW"
