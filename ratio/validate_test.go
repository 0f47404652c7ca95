package ratio_test

import (
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ratioflow/ratioflow/ratio"
)

func TestParseWalletAddress(t *testing.T) {
	tests := []struct {
		name, addr, wantErr string
	}{
		// The test vectors of EIP-55.
		{"EIP-55 vector 1", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", ""},
		{"EIP-55 vector 2", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359", ""},
		{"EIP-55 vector 3", "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", ""},
		{"EIP-55 vector 4", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb", ""},
		{"lowercase", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", ""},
		{"uppercase", "0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED", ""},
		{"digits only", "0x0000000000000000000000000000000000000000", ""},
		{"0X prefix", "0X5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", ""},
		{"bad checksum", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "EIP-55"},
		{"missing", "", "missing"},
		{"no 0x", "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0x"},
		{"short", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe", "40 hex digits"},
		{"long", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed00", "40 hex digits"},
		{"not hex", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg", "hexadecimal"},
		{"spaces", " 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ratio.ParseWalletAddress(tt.addr)
			checkInputErr(t, "ParseWalletAddress", err, ratio.FieldWalletAddress, tt.wantErr)
			if err == nil && got != common.HexToAddress(tt.addr) {
				t.Errorf("ParseWalletAddress(%s) = %s, want the same address", tt.addr, got)
			}
		})
	}
}

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		name, phone, want, wantErr string
	}{
		{"US", testPhone, testPhone, ""},
		{"US toll free", "+18005550199", "+18005550199", ""},
		// The seeds' example number is in Toronto: Ratio would refuse it.
		{"Toronto of the docs", "+14165551234", "", "not a US number"},
		{"UK", "+442079460958", "", "not a US number"},
		{"no plus", "4165551234", "", "E.164"},
		{"spaces", "+1 202 555 0123", "", "E.164"},
		{"dashes", "+1-202-555-0123", "", "E.164"},
		{"too short", "+1202", "", "E.164"},
		{"not a number", "+12025550", "", "not a valid phone number"},
		{"missing", "", "", "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ratio.NormalizePhone(tt.phone)
			checkInputErr(t, "NormalizePhone", err, ratio.FieldPhoneNumber, tt.wantErr)
			if got != tt.want {
				t.Errorf("NormalizePhone(%q) = %q, want %q", tt.phone, got, tt.want)
			}
		})
	}
	_, err := ratio.NormalizePhone("+14165551234")
	if !strings.Contains(err.Error(), "CA") {
		t.Errorf("NormalizePhone(Toronto) = %v, want the error to name Canada (CA)", err)
	}
}

func TestCheckEmail(t *testing.T) {
	tests := []struct {
		name, email, wantErr string
	}{
		{"plain", testEmail, ""},
		{"plus and subdomain", "paul+15612023748@mail.example.co.uk", ""},
		{"missing", "", "missing"},
		{"no at", "ratiouser.example.com", "not a valid"},
		{"display name", "Ratio User <ratiouser@example.com>", "not a valid"},
		{"no TLD", "ratiouser@localhost", "top-level domain"},
		{"dot first", "ratiouser@.example.com", "not a valid"},
		{"dot last", "ratiouser@example.com.", "not a valid"},
		{"too long", strings.Repeat("a", 250) + "@example.com", "254"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkInputErr(t, "CheckEmail", ratio.CheckEmail(tt.email), ratio.FieldEmailAddress, tt.wantErr)
		})
	}
}

func TestCheckCountry(t *testing.T) {
	tests := []struct {
		country, wantErr string
	}{
		{"US", ""},
		{"GB", ""},
		{"us", "capitals"},
		{"XX", "not an ISO 3166"},
		{"USA", "alpha-2"},
		{"", "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.country, func(t *testing.T) {
			checkInputErr(t, "CheckCountry", ratio.CheckCountry(tt.country), ratio.FieldCountry, tt.wantErr)
		})
	}
}

func TestCheckOTP(t *testing.T) {
	tests := []struct {
		name    string
		otp     ratio.Secret
		wantErr string
	}{
		{"six digits", "012345", ""},
		{"missing", "", "missing"},
		{"five digits", "73021", "6 digits"},
		{"seven digits", "7302159", "6 digits"},
		{"letter", "73o215", "6 digits"},
		{"full-width digits", "７３０２１５", "6 digits"},
		{"spaces", " 73021", "6 digits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ratio.CheckOTP(tt.otp)
			checkInputErr(t, "CheckOTP", err, ratio.FieldOTP, tt.wantErr)
			if err != nil && tt.otp != "" && strings.Contains(err.Error(), strings.TrimSpace(tt.otp.Reveal())) {
				t.Errorf("CheckOTP() = %q, which repeats the code", err)
			}
		})
	}
}

func TestCheckName(t *testing.T) {
	tests := []struct {
		name, value string
		optional    bool
		wantErr     string
	}{
		{"plain", "Ada", false, ""},
		{"accents and hyphen", "Zoë-Ann O'Brien", false, ""},
		{"missing", "", false, "missing"},
		{"blank", "   ", false, "missing"},
		{"optional empty", "", true, ""},
		{"optional blank", " ", true, "missing"},
		{"no letter", "1234", false, "no letter"},
		{"control character", "Ada\nLovelace", false, "control"},
		{"too long", strings.Repeat("a", 101), false, "100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ratio.CheckName(ratio.FieldFirstName, tt.value, tt.optional)
			checkInputErr(t, "CheckName", err, ratio.FieldFirstName, tt.wantErr)
		})
	}
}

func TestCheckCreateUser(t *testing.T) {
	tests := []struct {
		name                  string
		edit                  func(*ratio.CreateUserRequest)
		wantField, wantReason string
	}{
		{"valid", func(*ratio.CreateUserRequest) {}, "", ""},
		{"with middle name", func(r *ratio.CreateUserRequest) { r.MiddleName = "G" }, "", ""},
		{"first name", func(r *ratio.CreateUserRequest) { r.FirstName = "" }, ratio.FieldFirstName, "missing"},
		{"middle name", func(r *ratio.CreateUserRequest) { r.MiddleName = "42" }, ratio.FieldMiddleName, "no letter"},
		{"last name", func(r *ratio.CreateUserRequest) { r.LastName = " " }, ratio.FieldLastName, "missing"},
		{"email", func(r *ratio.CreateUserRequest) { r.Email = "nope" }, "email", "not a valid email"},
		{"country", func(r *ratio.CreateUserRequest) { r.Country = "us" }, ratio.FieldCountry, "capitals"},
		{"phone", func(r *ratio.CreateUserRequest) { r.Phone = "+14165551234" }, "phone", "not a US number"},
		{"terms not accepted", func(r *ratio.CreateUserRequest) { r.AcceptedTerms = false }, ratio.FieldAcceptedTerms, "must be true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validUser
			tt.edit(&r)
			checkInputErr(t, "CheckCreateUser", ratio.CheckCreateUser(r), tt.wantField, tt.wantReason)
		})
	}
}
