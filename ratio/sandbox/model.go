package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ratioflow/ratioflow/ratio"
)

// The sandbox's in-memory model of Ratio (and of the Stytch project behind
// it). Every field of model is guarded by Handler.mu.
type model struct {
	users       map[string]*user // by Ratio user ID
	userByPhone map[string]*user // by E.164 number
	userByEmail map[string]*user // by lower-cased address

	wallets    map[common.Address]*wallet   // signing wallets, by address
	challenges map[common.Address]challenge // the active challenge per wallet
	phones     map[string]*target           // by E.164 number
	emails     map[string]*target           // by lower-cased address
	targets    map[string]*target           // by phoneId / emailId
	lastCode   map[string]string            // last code sent, by E.164 number or lower-cased address
	sends      map[string][]time.Time       // send times inside the limit's window, by target ID
	sessions   map[string]*session          // by session ID
	lastSwept  int                          // len(sessions) after the last sweep of idle sessions
}

func newModel() *model {
	return &model{
		users:       map[string]*user{},
		userByPhone: map[string]*user{},
		userByEmail: map[string]*user{},
		wallets:     map[common.Address]*wallet{},
		challenges:  map[common.Address]challenge{},
		phones:      map[string]*target{},
		emails:      map[string]*target{},
		targets:     map[string]*target{},
		sessions:    map[string]*session{},
		sends:       map[string][]time.Time{},
		lastCode:    map[string]string{},
	}
}

// user is a Ratio user.
type user struct {
	id       string // UUIDv4
	stytchID string // "user-test-<uuid>", the JWTs' sub
	created  time.Time
	updated  time.Time
	first    string
	middle   string
	last     string
	email    string
	country  string
	phone    string           // E.164
	wallets  []common.Address // signing wallets, in the order they were attached
}

// wallet is a signing wallet attached to a user, verified or not.
type wallet struct {
	id       string // UUIDv4
	addr     common.Address
	userID   string
	verified bool
	created  time.Time
	updated  time.Time
}

// challenge is the text a wallet must sign, and until when.
type challenge struct {
	text    string
	expires time.Time
}

// target is a phone number or an email address one-time codes go to.
type target struct {
	id       string // phoneId "phone-number-test-<uuid>" or emailId "email-test-<uuid>"
	kind     factorKind
	to       string // E.164 number or the address as first sent
	code     string // the live code, "" when none
	expires  time.Time
	attempts int // wrong tries of the live code
}

// factorKind is an authentication factor.
type factorKind int

const (
	factorWallet factorKind = iota + 1
	factorSMS
	factorEmail
)

// factor is one authentication factor of a session.
type factor struct {
	kind     factorKind
	at       time.Time      // last authenticated
	methodID string         // phoneId, emailId or the wallet's Stytch id
	value    string         // E.164 number or email address
	addr     common.Address // the wallet
}

// session is a Stytch session: its factors and the Ratio user it is bound
// to ("" for none yet).
type session struct {
	id         string // "session-test-<uuid>"
	subject    string // the JWTs' sub
	userID     string
	started    time.Time
	lastAccess time.Time
	factors    []factor
}

func (s *session) expires(idle time.Duration) time.Time { return s.lastAccess.Add(idle) }

func (s *session) has(k factorKind) bool {
	for _, f := range s.factors {
		if f.kind == k {
			return true
		}
	}
	return false
}

func (s *session) factor(k factorKind) (factor, bool) {
	for _, f := range s.factors {
		if f.kind == k {
			return f, true
		}
	}
	return factor{}, false
}

// withFactor returns s's factors with f added, replacing a factor of the
// same kind.
func (s *session) withFactor(f factor) []factor {
	out := make([]factor, 0, len(s.factors)+1)
	for _, g := range s.factors {
		if g.kind != f.kind {
			out = append(out, g)
		}
	}
	return append(out, f)
}

// newUUID returns a random UUID version 4 from crypto/rand.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// isUUID reports whether s is a UUID in its canonical text form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return false
			}
		}
	}
	return true
}

// phoneMask is the last 4 digits of a phone number.
func phoneMask(e164 string) string {
	if len(e164) <= 4 {
		return e164
	}
	return e164[len(e164)-4:]
}

// emailMask masks an address the way Ratio's docs show it:
// "ratiouser@example.com" becomes "rat...@example.com".
func emailMask(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return "..."
	}
	local := addr[:at]
	if len(local) > 3 {
		local = local[:3]
	}
	return local + "..." + addr[at:]
}

func emailKey(addr string) string { return strings.ToLower(addr) }

// mask returns the user's UserMask.
func (u *user) mask() *ratio.UserMask {
	return &ratio.UserMask{
		ID:                 u.id,
		CreateTime:         stamp(u.created),
		UpdateTime:         stamp(u.updated),
		PhoneMask:          phoneMask(u.phone),
		EmailMask:          emailMask(u.email),
		PreferredMfaMethod: "OTP_SMS",
	}
}

// view returns the user as Ratio's User. KYC is "NOT_STARTED" everywhere:
// the sandbox does no KYC (GUESS of what a new user looks like).
func (u *user) view() *ratio.User {
	created, updated := stamp(u.created), stamp(u.updated)
	return &ratio.User{
		ID: u.id, CreateTime: created, UpdateTime: updated,
		FirstName: u.first, MiddleName: u.middle, LastName: u.last,
		Email: u.email, Country: u.country, Phone: u.phone,
		KYC: &ratio.KYC{
			CreateTime: created, UpdateTime: updated, Status: "NOT_STARTED",
			AddressResult: "NOT_STARTED", DobResult: "NOT_STARTED", FraudResult: "NOT_STARTED", IdvResult: "NOT_STARTED",
		},
	}
}

// walletView returns w as Ratio's Wallet.
func (w *wallet) view() ratio.Wallet {
	return ratio.Wallet{ID: w.id, CreateTime: stamp(w.created), UpdateTime: stamp(w.updated), Address: w.addr.Hex(), Type: ratio.WalletTypeEVM}
}
