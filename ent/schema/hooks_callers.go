package schema

import (
	"context"

	"entgo.io/ent"

	gen "custgraph/ent"
	"custgraph/ent/hook"
	"custgraph/internal/notify"
)

// This file keeps what replicas derive from callers (the authentication
// cache of internal/authn) and the tokens issued to them true to the data:
//   - every change of an API client, a user, an entitlement or a bank
//     signals notify.Callers in the change's own transaction, so every
//     replica forgets what it cached of that caller once the change commits
//     (and never for a change that rolled back);
//   - a new client secret or password bumps the caller's
//     credential_generation, which tokens carry: the tokens issued before
//     die with the old secret.

// callerSignals is a hook of every entity (BaseMixin): it signals the
// changes that concern callers.
func callerSignals(next ent.Mutator) ent.Mutator {
	return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
		payload, ok := callerPayload(m)
		if !ok {
			return next.Mutate(ctx, m)
		}
		v, err := next.Mutate(ctx, m)
		if err != nil {
			return nil, err
		}
		if err := notify.Send(ctx, clientOf(m), notify.Callers, payload); err != nil {
			return nil, err
		}
		return v, nil
	})
}

// callerPayload says whom a change concerns: a client's or user's id, or
// notify.All. A new client or user concerns nobody yet (nothing of it can
// be cached); a change of many records, a removed entitlement or a removed
// bank (whose entitlements go with it) may concern anyone.
func callerPayload(m ent.Mutation) (string, bool) {
	single := m.Op().Is(ent.OpUpdateOne | ent.OpDeleteOne)
	switch m := m.(type) {
	case *gen.APIClientMutation:
		if m.Op().Is(ent.OpCreate) {
			return "", false
		}
		if id, ok := m.ID(); ok && single {
			return id.String(), true
		}
	case *gen.UserMutation:
		if m.Op().Is(ent.OpCreate) {
			return "", false
		}
		if id, ok := m.ID(); ok && single {
			return id.String(), true
		}
	case *gen.EntitlementMutation:
		if m.Op().Is(ent.OpCreate) {
			if id, ok := m.APIClientID(); ok {
				return id.String(), true
			}
			if id, ok := m.UserID(); ok {
				return id.String(), true
			}
		}
	case *gen.BankMutation:
		if !m.Op().Is(ent.OpDelete | ent.OpDeleteOne) {
			return "", false
		}
	default:
		return "", false
	}
	return notify.All, true
}

// Hooks of APIClient.
func (APIClient) Hooks() []ent.Hook {
	return []ent.Hook{hook.On(func(next ent.Mutator) ent.Mutator {
		return hook.APIClientFunc(func(ctx context.Context, m *gen.APIClientMutation) (ent.Value, error) {
			if _, ok := m.SecretHash(); ok {
				m.AddCredentialGeneration(1)
			}
			return next.Mutate(ctx, m)
		})
	}, ent.OpUpdateOne|ent.OpUpdate)}
}

// Hooks of User.
func (User) Hooks() []ent.Hook {
	return []ent.Hook{hook.On(func(next ent.Mutator) ent.Mutator {
		return hook.UserFunc(func(ctx context.Context, m *gen.UserMutation) (ent.Value, error) {
			_, set := m.PasswordHash()
			if set || m.PasswordHashCleared() {
				m.AddCredentialGeneration(1)
			}
			return next.Mutate(ctx, m)
		})
	}, ent.OpUpdateOne|ent.OpUpdate)}
}
