// Package access says who is calling and what they may do: the Viewer in a
// request's context and the catalogue of roles. It is read by the one place
// that enforces access, the ent privacy policies in ent/schema, so GraphQL
// and REST get the same rules; it knows nothing of HTTP or tokens (those are
// internal/authn).
package access

import (
	"context"
	"slices"
	"strings"

	"github.com/google/uuid"

	"custgraph/internal/apperr"
)

// Kind is the kind of caller.
type Kind string

// The kinds of caller.
const (
	KindClient Kind = "client" // an API client (OAuth2 client credentials)
	KindUser   Kind = "user"   // a user (OBP DirectLogin, or an external identity provider's subject)
	KindSystem Kind = "system" // custgraph itself: start-up, the CLI, demo data, tests' set-up
)

// Grant is one entitlement as the viewer holds it: a role at a bank, or a
// system-wide role (Bank is uuid.Nil).
type Grant struct {
	Role Role
	Bank uuid.UUID
}

// Viewer is the caller of one request.
type Viewer struct {
	Kind Kind
	ID   uuid.UUID // the APIClient's or User's id; uuid.Nil for the system
	Name string    // the client_id or username, for logs and the audit trail
	// Bank, when set, confines the viewer to one bank whatever its
	// entitlements say: an API client bound to a bank (and a user who logged
	// in through such a client).
	Bank *uuid.UUID
	// RequestorID is the request's Requestor-ID header, recorded in the
	// audit trail.
	RequestorID string
	// RequestID is the request's X-Request-Id, recorded in the audit trail.
	RequestID string
	grants    []Grant
}

// NewViewer returns a viewer holding grants.
func NewViewer(kind Kind, id uuid.UUID, name string, bank *uuid.UUID, grants []Grant) *Viewer {
	return &Viewer{Kind: kind, ID: id, Name: name, Bank: bank, grants: slices.Clone(grants)}
}

// Copy returns a copy of v for one request (its grants are shared: they
// never change).
func (v *Viewer) Copy() *Viewer {
	c := *v
	return &c
}

// Grants returns the viewer's entitlements.
func (v *Viewer) Grants() []Grant { return slices.Clone(v.grants) }

type ctxKey struct{}

// NewContext returns ctx carrying v.
func NewContext(ctx context.Context, v *Viewer) context.Context {
	return context.WithValue(ctx, ctxKey{}, v)
}

// FromContext returns the viewer of ctx, or nil when nobody is logged in.
func FromContext(ctx context.Context) *Viewer {
	v, _ := ctx.Value(ctxKey{}).(*Viewer)
	return v
}

var system = &Viewer{Kind: KindSystem, Name: "system"}

// System returns ctx acting as custgraph itself, which may do anything. Use
// it for start-up work, the admin CLI, demo data and tests' set-up; never
// for work done on a request's behalf.
func System(ctx context.Context) context.Context { return NewContext(ctx, system) }

// SystemAs is System with a name recorded in the audit trail (e.g. "cli").
func SystemAs(ctx context.Context, name string) context.Context {
	return NewContext(ctx, &Viewer{Kind: KindSystem, Name: name})
}

// IsSystem reports whether v acts as custgraph itself.
func (v *Viewer) IsSystem() bool { return v != nil && v.Kind == KindSystem }

// inScope reports whether the viewer's binding lets it near bank at all.
func (v *Viewer) inScope(bank uuid.UUID) bool { return v.Bank == nil || *v.Bank == bank }

// Has reports whether the viewer holds role r at bank (uuid.Nil for a
// system role): the role at that bank, or its AtAnyBank variant.
func (v *Viewer) Has(r Role, bank uuid.UUID) bool {
	if v == nil {
		return false
	}
	if v.IsSystem() {
		return true
	}
	if bank != uuid.Nil && !v.inScope(bank) {
		return false
	}
	if v.Bank != nil && slices.Contains(systemRoles, r) {
		// A caller confined to one bank (a bound client, or a user who
		// logged in through one) cannot act on the whole system.
		return false
	}
	any := AtAnyBank(r)
	for _, g := range v.grants {
		if (g.Role == r && (g.Bank == bank || IsSystem(r))) || (g.Role == any && g.Bank == uuid.Nil) {
			return true
		}
	}
	return false
}

// HasAny reports whether the viewer holds one of roles at bank.
func (v *Viewer) HasAny(bank uuid.UUID, roles ...Role) bool {
	for _, r := range roles {
		if v.Has(r, bank) {
			return true
		}
	}
	return false
}

// Banks is a set of banks: every bank (All), or the listed ones.
type Banks struct {
	All bool
	IDs []uuid.UUID
}

// Empty reports whether the set has no bank.
func (b Banks) Empty() bool { return !b.All && len(b.IDs) == 0 }

// Contains reports whether bank is in the set.
func (b Banks) Contains(bank uuid.UUID) bool { return b.All || slices.Contains(b.IDs, bank) }

// BanksWith returns the banks where the viewer holds one of roles.
func (v *Viewer) BanksWith(roles ...Role) Banks {
	if v == nil {
		return Banks{}
	}
	if v.IsSystem() {
		return Banks{All: true}
	}
	var out Banks
	for _, g := range v.grants {
		for _, r := range roles {
			switch {
			case g.Role == AtAnyBank(r) && g.Bank == uuid.Nil && AtAnyBank(r) != r:
				out.All = true
			case g.Role == r && g.Bank != uuid.Nil && v.inScope(g.Bank) && !slices.Contains(out.IDs, g.Bank):
				out.IDs = append(out.IDs, g.Bank)
			}
		}
	}
	return v.bound(out)
}

// Scope returns the banks the viewer may see anything of: those where it
// holds any entitlement (every bank for an AtAnyBank one), narrowed to its
// binding. Records of other banks do not exist for it.
func (v *Viewer) Scope() Banks {
	if v == nil {
		return Banks{}
	}
	if v.IsSystem() {
		return Banks{All: true}
	}
	var out Banks
	for _, g := range v.grants {
		if g.Bank == uuid.Nil {
			// The AtAnyBank variants of data roles reach every bank; the
			// system roles (banks, callers, the firehose) reach no data.
			out.All = out.All || !slices.Contains(systemRoles, g.Role)
		} else if v.inScope(g.Bank) && !slices.Contains(out.IDs, g.Bank) {
			out.IDs = append(out.IDs, g.Bank)
		}
	}
	return v.bound(out)
}

// bound narrows a set to the viewer's binding.
func (v *Viewer) bound(b Banks) Banks {
	if v.Bank != nil && b.All {
		return Banks{IDs: []uuid.UUID{*v.Bank}}
	}
	return b
}

// ErrUnauthenticated is the error of a request without valid credentials.
var ErrUnauthenticated = &apperr.Error{Code: apperr.Unauthenticated, Message: "authentication is required"}

// Missing is the error of a viewer that lacks every one of roles (each
// also satisfied by its AtAnyBank variant); bank is the bank's code, empty
// for a system role.
func Missing(bank string, roles ...Role) *apperr.Error {
	names := make([]string, 0, 2*len(roles))
	for _, r := range roles {
		names = append(names, string(r))
		if a := AtAnyBank(r); a != r {
			names = append(names, string(a))
		}
	}
	msg := "missing role: " + strings.Join(names, " or ")
	if bank != "" {
		msg += " at bank " + bank
	}
	return &apperr.Error{Code: apperr.Forbidden, Message: msg, Roles: names, Bank: bank}
}
