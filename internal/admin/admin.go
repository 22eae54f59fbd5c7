// Package admin creates and changes the callers of the API (API clients,
// users and their entitlements) and bootstraps the first administrator. It
// is shared by the GraphQL admin mutations, the `custgraph admin` command
// and the demo data, so each rule lives here once; who may call it is ent's
// privacy layer's business (CanManageCallers), not this package's.
package admin

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/google/uuid"

	"custgraph/ent"
	"custgraph/ent/apiclient"
	"custgraph/ent/entitlement"
	"custgraph/internal/access"
	"custgraph/internal/apperr"
	"custgraph/internal/authn"
	"custgraph/internal/validate"
)

// ClientInput describes a new API client.
type ClientInput struct {
	ClientID        string
	Name            string
	BankID          *uuid.UUID // nil: a client of every bank
	ExternalSubject *string
	// Secret, when set, is the client's secret (at least 32 characters);
	// otherwise a random one is made.
	Secret string
}

// CreateClient creates an API client and returns it with its secret, which
// is stored only as a hash: this is the one time it can be shown.
func CreateClient(ctx context.Context, c *ent.Client, in ClientInput) (*ent.APIClient, string, error) {
	secret := in.Secret
	if secret == "" {
		secret = authn.NewClientSecret()
	} else if err := validate.Secret(secret); err != nil {
		return nil, "", apperr.Invalid("client_secret", "%v", err)
	}
	hash, err := authn.HashSecret(secret)
	if err != nil {
		return nil, "", err
	}
	cl, err := c.APIClient.Create().
		SetClientID(in.ClientID).
		SetName(in.Name).
		SetNillableBankID(in.BankID).
		SetNillableExternalSubject(in.ExternalSubject).
		SetSecretHash(hash).
		Save(ctx)
	return cl, secret, err
}

// RotateClientSecret gives a client a new random secret and returns it; the
// old secret stops working at once.
func RotateClientSecret(ctx context.Context, c *ent.Client, id uuid.UUID) (*ent.APIClient, string, error) {
	secret := authn.NewClientSecret()
	hash, err := authn.HashSecret(secret)
	if err != nil {
		return nil, "", err
	}
	cl, err := c.APIClient.UpdateOneID(id).SetSecretHash(hash).Save(ctx)
	return cl, secret, err
}

// SetPassword sets a user's password (stored as an argon2id hash).
func SetPassword(ctx context.Context, c *ent.Client, id uuid.UUID, password string) (*ent.User, error) {
	if err := validate.Password(password); err != nil {
		return nil, apperr.Invalid("password", "%v", err)
	}
	hash, err := authn.HashSecret(password)
	if err != nil {
		return nil, err
	}
	return c.User.UpdateOneID(id).SetPasswordHash(hash).Save(ctx)
}

// Grant gives a client or user a role, at a bank or (bank nil) system-wide.
func Grant(ctx context.Context, c *ent.Client, clientID, userID *uuid.UUID, role access.Role, bank *uuid.UUID) (*ent.Entitlement, error) {
	return c.Entitlement.Create().
		SetNillableAPIClientID(clientID).
		SetNillableUserID(userID).
		SetRoleName(string(role)).
		SetNillableBankID(bank).
		Save(ctx)
}

// AdminRoles are the roles of the bootstrap administrator: every system
// role and the AtAnyBank variant of every bank role.
func AdminRoles() []access.Role {
	var out []access.Role
	for _, r := range access.All() {
		if access.IsSystem(r) {
			out = append(out, r)
		}
	}
	return out
}

// Bootstrap environment variables: the first administrator's credentials,
// when they should not be made up at random.
const (
	EnvAdminClientID     = "CUSTGRAPH_ADMIN_CLIENT_ID"
	EnvAdminClientSecret = "CUSTGRAPH_ADMIN_CLIENT_SECRET"
)

// Bootstrap makes sure the database has an administrator: when it has no
// API client at all, it creates one holding AdminRoles, with the
// credentials of EnvAdminClientID/EnvAdminClientSecret or random ones,
// which it then prints once to out (they cannot be shown again). It runs in
// one transaction; on PostgreSQL an advisory lock keeps two replicas
// starting together from both creating one.
func Bootstrap(ctx context.Context, c *ent.Client, dialect string, out io.Writer, log *slog.Logger) error {
	ctx = access.SystemAs(ctx, "bootstrap")
	tx, err := c.Tx(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if dialect == "postgres" {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7254000301)"); err != nil {
			return fmt.Errorf("bootstrap lock: %w", err)
		}
	}
	n, err := tx.APIClient.Query().Count(ctx)
	if err != nil || n > 0 {
		return err
	}
	id := os.Getenv(EnvAdminClientID)
	if id == "" {
		id = "admin"
	}
	cl, secret, err := CreateClient(ctx, tx.Client(), ClientInput{
		ClientID: id, Name: "Administrator (created at first start)", Secret: os.Getenv(EnvAdminClientSecret),
	})
	if err != nil {
		return fmt.Errorf("creating the administrator client: %w", err)
	}
	for _, r := range AdminRoles() {
		if _, err := Grant(ctx, tx.Client(), &cl.ID, nil, r, nil); err != nil {
			return fmt.Errorf("granting %s to the administrator: %w", r, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	log.Info("created the administrator API client", "client_id", id)
	if os.Getenv(EnvAdminClientSecret) == "" {
		fmt.Fprintf(out, "\nFirst start: created the administrator API client. Its secret is shown only now:\n"+
			"  client_id:     %s\n  client_secret: %s\n"+
			"Get a token: curl -s -u '%s:%s' -d grant_type=client_credentials http://<addr>/oauth/token\n\n",
			id, secret, id, secret)
	}
	return nil
}

// ClientByID finds an API client by its client_id.
func ClientByID(ctx context.Context, c *ent.Client, clientID string) (*ent.APIClient, error) {
	return c.APIClient.Query().Where(apiclient.ClientID(clientID)).Only(ctx)
}

// Revoke deletes a client's or user's entitlement to role at bank (nil:
// system-wide) and returns how many were deleted (0 or 1).
func Revoke(ctx context.Context, c *ent.Client, clientID, userID *uuid.UUID, role access.Role, bank *uuid.UUID) (int, error) {
	q := c.Entitlement.Query().Where(entitlement.RoleName(string(role)))
	if clientID != nil {
		q.Where(entitlement.APIClientID(*clientID))
	} else {
		q.Where(entitlement.UserID(*userID))
	}
	if bank != nil {
		q.Where(entitlement.BankID(*bank))
	} else {
		q.Where(entitlement.BankIDIsNil())
	}
	id, err := q.OnlyID(ctx)
	if ent.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return 1, c.Entitlement.DeleteOneID(id).Exec(ctx)
}
