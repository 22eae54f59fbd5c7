// Package validate holds the value checks shared by the ent schema
// validators and hooks: e-mail addresses, phone numbers, ISO country and
// currency codes, IBANs, bank ids and label sets. Every door reaches them
// through ent, so GraphQL and REST accept and refuse exactly the same values.
package validate

import (
	"errors"
	"fmt"
	"math/big"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/currency"
	"golang.org/x/text/language"
)

// Limits shared by the schema and the documentation.
const (
	MaxLabels      = 16
	MaxLabelLength = 64
	MaxTags        = 16
	MaxTagLength   = 64
	// MaxTagsJoined bounds an address's tags joined with ",": OBP keeps
	// them in one 20-character column (rest-compat §3.4 #8).
	MaxTagsJoined = 20
)

// Line accepts one line of text: no control character (C0 such as a
// newline, a tab, a NUL or an escape; DEL; C1), no line or paragraph
// separator (U+2028, U+2029: line breaks to JavaScript and to the CSV and
// JSON-lines tools that read exports), no bidirectional embedding or
// override (U+202A–U+202E: they make a name display as another), no word
// joiner or byte order mark, and valid UTF-8. A name, a number or an
// address line never holds one. What writing systems and keyboards put in
// names is accepted: the joiners (ZWNJ, ZWJ), the direction marks (LRM,
// RLM), the isolates phones put around a name in another direction
// (U+2066–U+2069), and the zero-width space that Thai, Khmer, Lao and
// Burmese break words with.
func Line(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("must be valid UTF-8 text")
	}
	for _, r := range s {
		if !lineRune(r) {
			return fmt.Errorf("must be one line of plain text, without control or invisible formatting characters (it holds %U)", r)
		}
	}
	return nil
}

// lineRune reports whether r may stand in one line of text (Line).
func lineRune(r rune) bool {
	switch {
	case unicode.IsControl(r), r == '\u2028', r == '\u2029',
		r >= '\u202A' && r <= '\u202E', r == '\u2060', r == '\uFEFF':
		return false
	}
	return true
}

// Number accepts an identifier that people read and type (a customer
// number): one line (Line), without format characters (Unicode's Cf: a
// zero-width space, a joiner, a direction mark), which would make two
// numbers that look the same differ, or a number look empty.
func Number(s string) error {
	if err := Line(s); err != nil {
		return err
	}
	for _, r := range s {
		if unicode.Is(unicode.Cf, r) {
			return fmt.Errorf("must hold no invisible formatting characters (it holds %U)", r)
		}
	}
	return nil
}

// Trimmed refuses a value that begins or ends with white space (a blank one
// included): two identifiers that differ only by it look the same.
func Trimmed(s string) error {
	if s != strings.TrimSpace(s) {
		return errors.New("must not begin or end with a space")
	}
	return nil
}

// ImageURL accepts the address of an image as OBP does (its seed's
// "www.openbankproject" has no scheme), one line long, except with a
// scheme other than http or https: javascript:, data:, vbscript: or file:
// are what a dashboard that shows the image would run or read.
func ImageURL(s string) error {
	if err := Line(s); err != nil {
		return err
	}
	t := strings.TrimLeft(s, " ")
	if i := strings.IndexAny(t, ":/?#"); i > 0 && t[i] == ':' && urlScheme.MatchString(t[:i]) {
		if scheme := strings.ToLower(t[:i]); scheme != "http" && scheme != "https" {
			return fmt.Errorf("an image's address must be http or https, not %s:", scheme)
		}
	}
	return nil
}

// urlScheme is a URL scheme's syntax (RFC 3986 3.1).
var urlScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*$`)

// Email accepts a bare address (no display name, no angle brackets).
func Email(s string) error {
	if s == "" {
		return nil
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || Line(s) != nil {
		return errors.New("not a valid e-mail address")
	}
	return nil
}

var phoneRe = regexp.MustCompile(`^\+?[0-9][0-9 ()./-]*$`)

// Phone accepts international and national notations ("+44 07972 444 876",
// "318000201068"): an optional leading +, digits and the usual separators,
// with 5 to 15 digits (the E.164 maximum).
func Phone(s string) error {
	if s == "" {
		return nil
	}
	if !phoneRe.MatchString(s) {
		return errors.New("not a valid phone number: use digits, spaces, ( ) . - / and an optional leading +")
	}
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	if n < 5 || n > 15 {
		return errors.New("not a valid phone number: it must have 5 to 15 digits")
	}
	return nil
}

// CountryCode accepts an ISO 3166-1 alpha-2 country code in upper case ("NL").
func CountryCode(s string) error {
	if s == "" {
		return nil
	}
	if len(s) != 2 || strings.ToUpper(s) != s {
		return fmt.Errorf("%q is not an ISO 3166-1 alpha-2 country code (two upper-case letters)", s)
	}
	r, err := language.ParseRegion(s)
	if err != nil || !r.IsCountry() || r.String() != s {
		return fmt.Errorf("%q is not an ISO 3166-1 alpha-2 country code", s)
	}
	return nil
}

// Currency accepts an ISO 4217 currency code in upper case ("EUR").
func Currency(s string) error {
	if s == "" {
		return nil
	}
	if len(s) != 3 || strings.ToUpper(s) != s {
		return fmt.Errorf("%q is not an ISO 4217 currency code (three upper-case letters)", s)
	}
	if _, err := currency.ParseISO(s); err != nil {
		return fmt.Errorf("%q is not an ISO 4217 currency code", s)
	}
	return nil
}

var ibanRe = regexp.MustCompile(`^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$`)

// IBAN accepts an IBAN without spaces whose ISO 7064 mod-97 check digits are right.
func IBAN(s string) error {
	if s == "" {
		return nil
	}
	if !ibanRe.MatchString(s) {
		return errors.New("not a valid IBAN: two letters, two check digits and 11 to 30 letters or digits, no spaces")
	}
	if CountryCode(s[:2]) != nil {
		return fmt.Errorf("not a valid IBAN: unknown country %q", s[:2])
	}
	var b strings.Builder
	for _, r := range s[4:] + s[:4] {
		if r >= 'A' && r <= 'Z' {
			fmt.Fprintf(&b, "%d", r-'A'+10)
		} else {
			b.WriteRune(r)
		}
	}
	n, _ := new(big.Int).SetString(b.String(), 10)
	if new(big.Int).Mod(n, big.NewInt(97)).Int64() != 1 {
		return errors.New("not a valid IBAN: the check digits do not match")
	}
	return nil
}

var bankCodeRe = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// BankCode accepts a bank id as the Open Bank Project writes it ("gh.29.uk"):
// letters, digits, '-', '.', '_', shorter than 255 characters.
func BankCode(s string) error {
	if s == "" || len(s) >= 255 || !bankCodeRe.MatchString(s) {
		return errors.New("a bank id may only contain 0-9, a-z, A-Z, '-', '.', '_' and must be 1 to 254 characters long")
	}
	return nil
}

var branchRe = regexp.MustCompile(`^[A-Za-z0-9._-]*$`)

// BranchID accepts an OBP-style identifier: letters, digits, '-', '.', '_'.
func BranchID(s string) error {
	if !branchRe.MatchString(s) {
		return errors.New("a branch id may only contain 0-9, a-z, A-Z, '-', '.', '_'")
	}
	return nil
}

// StringSet checks a list of user-defined strings (customer labels, address
// tags): at most max items, each non-empty and at most maxLen characters,
// no duplicates. what names the items in the message ("label", "tag").
func StringSet(what string, items []string, max, maxLen int) error {
	if len(items) > max {
		return fmt.Errorf("at most %d %ss are allowed, got %d", max, what, len(items))
	}
	seen := make(map[string]bool, len(items))
	for _, l := range items {
		switch {
		case strings.TrimSpace(l) == "":
			return fmt.Errorf("a %s must not be empty", what)
		case Line(l) != nil:
			return fmt.Errorf("a %s %s", what, Line(l))
		case utf8.RuneCountInString(l) > maxLen:
			return fmt.Errorf("a %s must be at most %d characters", what, maxLen)
		case seen[l]:
			return fmt.Errorf("%s %q is given twice", what, l)
		}
		seen[l] = true
	}
	return nil
}

// Tags checks an address's tags: StringSet's rules, and at most
// MaxTagsJoined characters when joined with "," (OBP's
// MappedCustomerAddress.mTags is a 20-character varchar: OBP cannot store
// more).
func Tags(tags []string) error {
	if err := StringSet("tag", tags, MaxTags, MaxTagLength); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(strings.Join(tags, ",")); n > MaxTagsJoined {
		return fmt.Errorf("the tags joined with \",\" must be at most %d characters (OBP's limit), got %d", MaxTagsJoined, n)
	}
	return nil
}

// Password checks a user's password: 12 to 256 characters (NIST SP 800-63B
// asks for at least 8; custgraph guards bank data, so a little more).
func Password(s string) error {
	switch n := utf8.RuneCountInString(s); {
	case n < 12:
		return errors.New("must be at least 12 characters long")
	case len(s) > 256:
		return errors.New("must be at most 256 bytes long")
	}
	return nil
}

// Secret checks a client secret chosen by an operator (random ones are 43
// characters): 32 to 256 printable ASCII characters.
func Secret(s string) error {
	if len(s) < 32 || len(s) > 256 {
		return errors.New("must be 32 to 256 characters long")
	}
	for _, r := range s {
		if r < 0x21 || r > 0x7e {
			return errors.New("must be printable ASCII without spaces")
		}
	}
	return nil
}

// StorableTime tells whether t's year in UTC is one every stored time has:
// 0001 to 9999, RFC 3339's four digits (ent/schema: storableTimes).
func StorableTime(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 1 && y <= 9999
}

// RFC3339Offset tells whether t's zone offset is one RFC 3339 allows
// (-23:59 to +23:59): Go's time.Parse also reads +24:00 to +24:59, which
// the GraphQL Time scalar and OBP's dates refuse alike.
func RFC3339Offset(t time.Time) bool {
	_, off := t.Zone()
	return off > -24*3600 && off < 24*3600
}
