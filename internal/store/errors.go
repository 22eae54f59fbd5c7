package store

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"custgraph/ent"
	"custgraph/internal/apperr"
)

// uniqueRule names the field and message of a unique index, found by its
// PostgreSQL index name or its SQLite column list.
type uniqueRule struct {
	pgIndex, sqliteColumns, field, message string
}

var uniqueRules = []uniqueRule{
	{"customer_bank_id_customer_number", "customers.bank_id, customers.customer_number", "customer_number", "this customer number already exists at this bank"},
	{"customer_bank_id_entity_id", "customers.bank_id, customers.entity_id", "entity_id", "this entity already is a customer of this bank"},
	{"banks_code_key", "banks.code", "code", "a bank with this code already exists"},
	{"users_username_key", "users.username", "username", "this username is taken"},
	{"taxresidence_customer_id_domain_tax_number", "tax_residences.customer_id, tax_residences.domain, tax_residences.tax_number", "tax_number", "the customer already has this tax residence"},
	{"socialhandle_customer_id_type_handle", "social_handles.customer_id, social_handles.type, social_handles.handle", "handle", "the customer already has this handle"},
	{"customerattribute_customer_id_name", "customer_attributes.customer_id, customer_attributes.name", "name", "the customer already has an attribute with this name"},
	{"usercustomerlink_user_id_customer_id", "user_customer_links.user_id, user_customer_links.customer_id", "user_id", "the user is already linked to this customer"},
	{"address_one_primary_per_customer", "addresses.customer_id", "is_primary", "the customer already has a primary address"},
	{"api_clients_client_id_key", "api_clients.client_id", "client_id", "an API client with this client id already exists"},
	{"api_clients_external_subject_key", "api_clients.external_subject", "external_subject", "another API client has this external subject"},
	{"users_external_subject_key", "users.external_subject", "external_subject", "another user has this external subject"},
	{"entitlements_grant_key_key", "entitlements.grant_key", "role_name", "this role is already granted here"},
}

// emptyFilters are what a where-input's P returns when it holds no
// condition (ent/gql_where_input.go). At the top of a list's where, ent's
// Filter ignores it; inside not, and, or or has…With it came up as
// INTERNAL. It is the client's mistake (an empty not would otherwise have
// to match nothing, an empty or everything): BAD_USER_INPUT. The test
// TestEveryEmptyFilterIsTheClients keeps this list whole.
var emptyFilters = []error{
	ent.ErrEmptyAPIClientWhereInput,
	ent.ErrEmptyAddressWhereInput,
	ent.ErrEmptyAuditEventWhereInput,
	ent.ErrEmptyBankWhereInput,
	ent.ErrEmptyCrmEventWhereInput,
	ent.ErrEmptyCustomerWhereInput,
	ent.ErrEmptyCustomerAttributeWhereInput,
	ent.ErrEmptyCustomerMessageWhereInput,
	ent.ErrEmptyEntitlementWhereInput,
	ent.ErrEmptyProductWhereInput,
	ent.ErrEmptySocialHandleWhereInput,
	ent.ErrEmptyTaxResidenceWhereInput,
	ent.ErrEmptyUserWhereInput,
	ent.ErrEmptyUserCustomerLinkWhereInput,
}

// sqliteUnique finds the column list in SQLite's unique-violation message:
// "UNIQUE constraint failed: customers.bank_id, customers.customer_number (2067)".
var sqliteUnique = regexp.MustCompile(`UNIQUE constraint failed: ([^()]+?)(?: \(\d+\))?$`)

// Classify turns any error of a data operation into a client-facing
// *apperr.Error. The database being unreachable is UNAVAILABLE
// (Unreachable); other errors that are not the client's doing become
// INTERNAL with a generic message, which the caller logs (Report does both).
func Classify(err error) *apperr.Error {
	if e, ok := apperr.As(err); ok {
		return e
	}
	var ve *ent.ValidationError
	if errors.As(err, &ve) {
		inner := errors.Unwrap(ve) // "ent: validator failed for field …: %w"
		if w := errors.Unwrap(inner); w != nil {
			inner = w
		}
		return apperr.Invalid(ve.Name, "%s", validationMessage(inner))
	}
	for _, e := range emptyFilters {
		if errors.Is(err, e) {
			return apperr.Invalid("where", "a filter inside not, and, or or has…With must hold at least one condition")
		}
	}
	var nf *ent.NotFoundError
	if errors.As(err, &nf) {
		return apperr.NotFoundf("", "%s", strings.TrimPrefix(nf.Error(), "ent: ")) // "customer not found"
	}
	if ent.IsConstraintError(err) {
		msg := err.Error()
		if strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "duplicate key value") {
			cols := ""
			if m := sqliteUnique.FindStringSubmatch(msg); m != nil {
				cols = m[1]
			}
			for _, r := range uniqueRules {
				if cols == r.sqliteColumns || strings.Contains(msg, `"`+r.pgIndex+`"`) {
					return apperr.Conflictf(r.field, "%s", r.message)
				}
			}
			return apperr.Conflictf("", "a record with these values already exists")
		}
		if strings.Contains(msg, "FOREIGN KEY") || strings.Contains(msg, "foreign key") {
			if label, ok := referencedGone(err); ok {
				return apperr.NotFoundf("", "%s not found", label)
			}
			return apperr.Conflictf("", "the change would leave a reference to a record that does not exist")
		}
		return apperr.Invalid("", "the change violates a data constraint")
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "22021" { // invalid byte sequence (a NUL in text)
		return apperr.Invalid("", "text must be valid UTF-8 without NUL characters")
	}
	if msg := err.Error(); strings.Contains(msg, "too many SQL variables") ||
		strings.Contains(msg, "Expression tree is too large") ||
		strings.Contains(msg, "extended protocol limited to") {
		return apperr.Invalid("", "the request holds too many values; split it")
	}
	if errors.Is(err, ErrCommitUnknown) {
		code := apperr.Unavailable
		if errors.Is(err, ErrWriteTimeout) || errors.Is(err, context.DeadlineExceeded) {
			code = apperr.Timeout
		}
		return &apperr.Error{Code: code, Message: commitUnknownMessage}
	}
	if errors.Is(err, ErrWriteTimeout) {
		return &apperr.Error{Code: apperr.Timeout, Message: "the change took too long and was rolled back"}
	}
	if _, ok := Unreachable(err); ok {
		return &apperr.Error{Code: apperr.Unavailable, Message: unavailableMessage}
	}
	if _, ok := Contended(err); ok {
		return &apperr.Error{Code: apperr.Unavailable, Message: contendedMessage}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &apperr.Error{Code: apperr.Timeout, Message: "the request took too long and was cancelled"}
	}
	if errors.Is(err, context.Canceled) {
		return &apperr.Error{Code: apperr.Timeout, Message: "the request was cancelled"}
	}
	return &apperr.Error{Code: apperr.Internal, Message: "internal error"}
}

// InvalidValue is the error of field's value refused by err, one of ent's
// validators called before a change (as Classify words it after one).
func InvalidValue(field string, err error) *apperr.Error {
	return apperr.Invalid(field, "%s", validationMessage(err))
}

// validationMessage rewrites ent's built-in validator texts for API clients.
func validationMessage(err error) string {
	if err == nil || strings.HasPrefix(err.Error(), "ent: ") {
		return "invalid value"
	}
	switch m := err.Error(); {
	case strings.HasPrefix(m, "value is greater than the required"):
		return "value is too long (or too large)"
	case strings.HasPrefix(m, "value is less than the required"):
		return "value must not be empty (or is too small)"
	case m == "value does not match validation":
		return "value has characters that are not allowed"
	case strings.Contains(m, "invalid enum value"):
		if i := strings.Index(m, " field: "); i >= 0 { // "customer: invalid enum value for entity_type field: \"PERSON\""
			return "unknown value " + m[i+len(" field: "):]
		}
		return "unknown value"
	default:
		return m
	}
}

// commitUnknownMessage answers a change whose COMMIT got no answer.
const commitUnknownMessage = "the database did not confirm the change: it may have been stored; read it back, or send it again with the same Idempotency-Key"

// contendedMessage is what clients are told of a transaction PostgreSQL
// failed for another's sake.
const contendedMessage = "the change met a concurrent one and was rolled back: retry it"

// Contended reports whether PostgreSQL failed err's transaction to let a
// concurrent one proceed (a deadlock, 40P01; a serialization failure,
// 40001), with the cause for the logs. Nothing of the transaction was
// stored and the same request may succeed when sent again, so Classify makes
// it UNAVAILABLE (503 with Retry-After), not INTERNAL. (Two writers can
// deadlock on the customer counters' rows across statements; see
// counters.go.)
func Contended(err error) (cause string, ok bool) {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return "", false
	}
	switch pgErr.Code {
	case "40P01":
		return "deadlock detected (40P01)", true
	case "40001":
		return "serialization failure (40001)", true
	}
	return "", false
}

// missingKey is PostgreSQL's detail of a row that refers to one that does
// not exist (23503 on an insert or update).
var missingKey = regexp.MustCompile(`is not present in table "([a-z_]+)"`)

// referencedGone returns the label of the record that err, a foreign key
// violation, says a write referred to and did not find ("customer"), as
// ent names it in its not-found errors. A change checks that what it
// refers to exists before it writes; on PostgreSQL a concurrent delete can
// commit in between, and the write then fails its foreign key check: to
// the caller, as if the delete had come first. (SQLite runs one write at a
// time, and its message does not say which way the key was violated.)
func referencedGone(err error) (string, bool) {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23503" {
		return "", false
	}
	m := missingKey.FindStringSubmatch(pgErr.Detail)
	if m == nil {
		return "", false
	}
	table := m[1]
	if strings.HasSuffix(table, "sses") { // addresses
		return strings.TrimSuffix(table, "es"), true
	}
	return strings.TrimSuffix(table, "s"), true
}
