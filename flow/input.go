package flow

import (
	"fmt"

	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/transitions"
)

// Input carries the fields of an event or of a flow's start, named as Ratio
// names them. Each event takes only the fields its transition declares
// (transitions.Transition.Input); a missing one or one it does not take is
// an *ratio.InputError naming the field, and nothing is sent to Ratio.
type Input struct {
	WalletAddress string       `json:"walletAddress,omitempty"`
	Signature     string       `json:"signature,omitempty"`
	PhoneNumber   string       `json:"phoneNumber,omitempty"`
	OTP           ratio.Secret `json:"otp,omitempty"`
	EmailAddress  string       `json:"emailAddress,omitempty"`
	FirstName     string       `json:"firstName,omitempty"`
	MiddleName    string       `json:"middleName,omitempty"`
	LastName      string       `json:"lastName,omitempty"`
	Country       string       `json:"country,omitempty"`
	// AcceptedTerms is a pointer so that "absent" and "false" differ.
	AcceptedTerms *bool `json:"acceptedTerms,omitempty"`
}

// present reports whether the field with the given JSON name is set.
func (in *Input) present(name string) bool {
	switch name {
	case "walletAddress":
		return in.WalletAddress != ""
	case "signature":
		return in.Signature != ""
	case "phoneNumber":
		return in.PhoneNumber != ""
	case "otp":
		return in.OTP != ""
	case "emailAddress":
		return in.EmailAddress != ""
	case "firstName":
		return in.FirstName != ""
	case "middleName":
		return in.MiddleName != ""
	case "lastName":
		return in.LastName != ""
	case "country":
		return in.Country != ""
	case "acceptedTerms":
		return in.AcceptedTerms != nil
	}
	return false
}

// checkFields refuses a field the event does not take and reports a
// required one that is missing.
func (in *Input) checkFields(what string, fields []transitions.Field) error {
	for _, name := range transitions.FieldNames() {
		if !in.present(name) {
			continue
		}
		taken := false
		for _, f := range fields {
			taken = taken || f.Name == name
		}
		if !taken {
			return &ratio.InputError{Field: name, Reason: fmt.Sprintf("%s does not take this field", what)}
		}
	}
	for _, f := range fields {
		if !f.Optional && !in.present(f.Name) {
			return &ratio.InputError{Field: f.Name, Reason: "missing"}
		}
	}
	return nil
}

// normalize checks the shape of every field present and puts it in the
// canonical form Ratio expects (checksummed address, E.164 phone).
func (in *Input) normalize() error {
	if in.WalletAddress != "" {
		addr, err := ratio.ParseWalletAddress(in.WalletAddress)
		if err != nil {
			return err
		}
		in.WalletAddress = addr.Hex()
	}
	if in.Signature != "" {
		if _, err := ratio.ParseSignature(in.Signature); err != nil {
			return err
		}
	}
	if in.PhoneNumber != "" {
		p, err := ratio.NormalizePhone(in.PhoneNumber)
		if err != nil {
			return err
		}
		in.PhoneNumber = p
	}
	if in.OTP != "" {
		if err := ratio.CheckOTP(in.OTP); err != nil {
			return err
		}
	}
	if in.EmailAddress != "" {
		if err := ratio.CheckEmail(in.EmailAddress); err != nil {
			return err
		}
	}
	return nil
}

// checkProfile checks the sign-up fields with Ratio's create-user rules.
func (in *Input) checkProfile() error {
	if err := ratio.CheckName(ratio.FieldFirstName, in.FirstName, false); err != nil {
		return err
	}
	if err := ratio.CheckName(ratio.FieldMiddleName, in.MiddleName, true); err != nil {
		return err
	}
	if err := ratio.CheckName(ratio.FieldLastName, in.LastName, false); err != nil {
		return err
	}
	if err := ratio.CheckCountry(in.Country); err != nil {
		return err
	}
	if in.AcceptedTerms == nil || !*in.AcceptedTerms {
		return &ratio.InputError{Field: ratio.FieldAcceptedTerms,
			Reason: `must be true: the user must tick "I agree to the Ratio terms of use."`}
	}
	return nil
}
