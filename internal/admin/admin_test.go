package admin_test

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"custgraph/ent"
	"custgraph/ent/apiclient"
	"custgraph/ent/auditevent"
	"custgraph/ent/user"
	"custgraph/internal/access"
	"custgraph/internal/admin"
	"custgraph/internal/authn"
	"custgraph/internal/testdb"
)

var quiet = slog.New(slog.DiscardHandler)

func TestBootstrapCreatesOneAdministrator(t *testing.T) {
	db, _ := testdb.Open(t)
	ctx := access.System(context.Background())
	t.Setenv(admin.EnvAdminClientID, "")
	t.Setenv(admin.EnvAdminClientSecret, "")

	// Replicas starting together: exactly one administrator.
	outs := make([]bytes.Buffer, 4)
	var wg sync.WaitGroup
	errs := make([]error, len(outs))
	for i := range outs {
		wg.Go(func() { errs[i] = admin.Bootstrap(context.Background(), db.Client, db.Dialect, &outs[i], quiet) })
	}
	wg.Wait()
	printed := 0
	for i := range outs {
		if errs[i] != nil && !ent.IsConstraintError(errs[i]) { // SQLite: a losing writer may see the winner's row
			require.NoError(t, errs[i])
		}
		if outs[i].Len() > 0 {
			printed++
		}
	}
	require.Equal(t, 1, printed, "the secret is printed once")
	cl, err := db.Client.APIClient.Query().WithEntitlements().Only(ctx)
	require.NoError(t, err, "exactly one client")
	require.Equal(t, "admin", cl.ClientID)
	require.Len(t, cl.Edges.Entitlements, len(admin.AdminRoles()))
	secret := regexp.MustCompile(`client_secret: (\S+)`).FindStringSubmatch(strings.Join([]string{outs[0].String(), outs[1].String(), outs[2].String(), outs[3].String()}, ""))
	require.Len(t, secret, 2)
	require.True(t, authn.CheckSecret(secret[1], cl.SecretHash), "the printed secret is the client's")

	// A database with a client is left alone.
	var again bytes.Buffer
	require.NoError(t, admin.Bootstrap(context.Background(), db.Client, db.Dialect, &again, quiet))
	require.Zero(t, again.Len())
	require.Equal(t, 1, db.Client.APIClient.Query().CountX(ctx))
}

func TestBootstrapTakesCredentialsFromTheEnvironment(t *testing.T) {
	db, _ := testdb.Open(t)
	t.Setenv(admin.EnvAdminClientID, "ops-admin")
	t.Setenv(admin.EnvAdminClientSecret, "ops-admin-secret-0123456789abcdefghijklmnop")
	var out bytes.Buffer
	require.NoError(t, admin.Bootstrap(context.Background(), db.Client, db.Dialect, &out, quiet))
	require.Zero(t, out.Len(), "nothing to print: the operator chose the secret")
	cl, err := db.Client.APIClient.Query().Where(apiclient.ClientID("ops-admin")).Only(access.System(context.Background()))
	require.NoError(t, err)
	require.True(t, authn.CheckSecret("ops-admin-secret-0123456789abcdefghijklmnop", cl.SecretHash))

	t.Setenv(admin.EnvAdminClientSecret, "short")
	db2, _ := testdb.Open(t)
	require.ErrorContains(t, admin.Bootstrap(context.Background(), db2.Client, db2.Dialect, &out, quiet), "32 to 256 characters")
}

func TestCLI(t *testing.T) {
	db, _ := testdb.Open(t)
	ctx := access.System(context.Background())
	run := func(stdin string, args ...string) (string, error) {
		var out bytes.Buffer
		err := admin.Run(context.Background(), db.Client, args, strings.NewReader(stdin), &out)
		return out.String(), err
	}
	out, err := run("", "create-bank", "--code", "gh.29.uk", "--name", "Test Bank")
	require.NoError(t, err)
	require.Contains(t, out, "created bank gh.29.uk")

	out, err = run("", "create-client", "--client-id", "partner-1", "--name", "Partner 1", "--bank", "gh.29.uk")
	require.NoError(t, err)
	m := regexp.MustCompile(`client_secret: (\S+)`).FindStringSubmatch(out)
	require.Len(t, m, 2, out)
	cl, err := db.Client.APIClient.Query().Where(apiclient.ClientID("partner-1")).WithBank().Only(ctx)
	require.NoError(t, err)
	require.True(t, authn.CheckSecret(m[1], cl.SecretHash))
	require.Equal(t, "gh.29.uk", cl.Edges.Bank.Code)

	_, err = run("", "grant", "--client-id", "partner-1", "--role", "CanGetCustomer", "--bank", "gh.29.uk")
	require.NoError(t, err)
	_, err = run("a long enough password\n", "create-user", "--username", "jane")
	require.NoError(t, err)
	u, err := db.Client.User.Query().Where(user.Username("jane")).Only(ctx)
	require.NoError(t, err)
	require.True(t, authn.CheckSecret("a long enough password", u.PasswordHash))
	_, err = run("", "grant", "--username", "jane", "--role", "CanCreateCustomerAtAnyBank")
	require.NoError(t, err)
	out, err = run("", "revoke", "--username", "jane", "--role", "CanCreateCustomerAtAnyBank")
	require.NoError(t, err)
	require.Contains(t, out, "revoked CanCreateCustomerAtAnyBank (1 entitlement)")
	require.Equal(t, 1, db.Client.Entitlement.Query().CountX(ctx))

	// Every change is in the audit trail as the CLI's.
	n := db.Client.AuditEvent.Query().Where(auditevent.ActorName("cli"), auditevent.ActorKindEQ(auditevent.ActorKindSystem)).CountX(ctx)
	require.Equal(t, 7, n, "bank, client, entitlement, user, password, entitlement, its deletion")

	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"grant", "--role", "CanGetCustomer"}, "give exactly one of --client-id and --username"},
		{[]string{"grant", "--username", "jane", "--role", "CanGetCustomer"}, "CanGetCustomer is granted at a bank"},
		{[]string{"grant", "--username", "jane", "--role", "CanFly"}, `unknown role "CanFly"`},
		{[]string{"create-user", "--username", "bob"}, "at least 12 characters"},
		{[]string{"create-client", "--client-id", "x", "--name", "X", "--bank", "no.such.bank"}, "bank no.such.bank"},
		{[]string{"frobnicate"}, "unknown admin command"},
		{nil, "usage: custgraph admin"},
	} {
		before := db.Client.AuditEvent.Query().CountX(ctx)
		_, err := run("short\n", bad.args...)
		require.ErrorContains(t, err, bad.want, bad.args)
		require.Equal(t, before, db.Client.AuditEvent.Query().CountX(ctx), "a failed command changes nothing: %v", bad.args)
	}

	out, err = run("", "roles")
	require.NoError(t, err)
	require.Contains(t, out, "CanManageCallers")
	out, err = run("", "keygen")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(out, "-----BEGIN PRIVATE KEY-----"))
}
