package admin

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/uuid"

	"custgraph/ent"
	"custgraph/ent/bank"
	"custgraph/ent/user"
	"custgraph/internal/access"
	"custgraph/internal/authn"
)

// Usage is the help of `custgraph admin`.
const Usage = `usage: custgraph admin <command> [flags]

Commands (each runs in one transaction, recorded in the audit trail as "cli"):
  create-bank   --code gh.29.uk --name "Test Bank"
  create-client --client-id ID --name NAME [--bank CODE]     prints the new secret once
  rotate-secret --client-id ID                                prints the new secret once
  create-user   --username NAME                               reads the password from stdin
  set-password  --username NAME                               reads the password from stdin
  grant         (--client-id ID | --username NAME) --role ROLE [--bank CODE]
  revoke        (--client-id ID | --username NAME) --role ROLE [--bank CODE]
  roles                                                       lists every role
  keygen                                                      prints a new ES256 private key (PEM) for --jwt-key-files
The database is DATABASE_URL, or --database-url given right after "admin".`

// Run runs one admin command against the database of c.
func Run(ctx context.Context, c *ent.Client, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(Usage)
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("custgraph admin "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	code := fs.String("code", "", "bank code")
	name := fs.String("name", "", "name")
	clientID := fs.String("client-id", "", "API client id")
	bankCode := fs.String("bank", "", "bank code")
	username := fs.String("username", "", "username")
	role := fs.String("role", "", "role name")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w\n\n%s", err, Usage)
	}
	switch cmd {
	case "roles":
		for _, r := range access.All() {
			scope := "bank"
			if access.IsSystem(r) {
				scope = "system"
			}
			fmt.Fprintf(stdout, "%-45s %s\n", r, scope)
		}
		return nil
	case "keygen":
		pem, err := authn.GenerateKeyPEM()
		if err != nil {
			return err
		}
		_, err = stdout.Write(pem)
		return err
	}
	ctx = access.SystemAs(ctx, "cli")
	return withTx(ctx, c, func(tx *ent.Client) error {
		switch cmd {
		case "create-bank":
			b, err := tx.Bank.Create().SetCode(*code).SetName(*name).Save(ctx)
			if err == nil {
				fmt.Fprintf(stdout, "created bank %s (id %s)\n", b.Code, b.ID)
			}
			return err
		case "create-client":
			bankID, err := bankByCode(ctx, tx, *bankCode)
			if err != nil {
				return err
			}
			cl, secret, err := CreateClient(ctx, tx, ClientInput{ClientID: *clientID, Name: *name, BankID: bankID})
			if err == nil {
				fmt.Fprintf(stdout, "created API client %s (id %s)\nclient_secret: %s\n", cl.ClientID, cl.ID, secret)
			}
			return err
		case "rotate-secret":
			cl, err := ClientByID(ctx, tx, *clientID)
			if err != nil {
				return err
			}
			_, secret, err := RotateClientSecret(ctx, tx, cl.ID)
			if err == nil {
				fmt.Fprintf(stdout, "client_secret: %s\n", secret)
			}
			return err
		case "create-user", "set-password":
			pw, err := readPassword(stdin)
			if err != nil {
				return err
			}
			var u *ent.User
			if cmd == "create-user" {
				u, err = tx.User.Create().SetUsername(*username).Save(ctx)
			} else {
				u, err = tx.User.Query().Where(user.Username(*username)).Only(ctx)
			}
			if err != nil {
				return err
			}
			if _, err := SetPassword(ctx, tx, u.ID, pw); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "user %s (id %s): password set\n", u.Username, u.ID)
			return nil
		case "grant", "revoke":
			return grantOrRevoke(ctx, tx, cmd == "grant", *clientID, *username, access.Role(*role), *bankCode, stdout)
		}
		return fmt.Errorf("unknown admin command %q\n\n%s", cmd, Usage)
	})
}

func grantOrRevoke(ctx context.Context, tx *ent.Client, grant bool, clientID, username string, role access.Role, bankCode string, out io.Writer) error {
	var cid, uid *uuid.UUID
	switch {
	case (clientID == "") == (username == ""):
		return errors.New("give exactly one of --client-id and --username")
	case clientID != "":
		cl, err := ClientByID(ctx, tx, clientID)
		if err != nil {
			return err
		}
		cid = &cl.ID
	default:
		u, err := tx.User.Query().Where(user.Username(username)).Only(ctx)
		if err != nil {
			return err
		}
		uid = &u.ID
	}
	bankID, err := bankByCode(ctx, tx, bankCode)
	if err != nil {
		return err
	}
	if grant {
		e, err := Grant(ctx, tx, cid, uid, role, bankID)
		if err == nil {
			fmt.Fprintf(out, "granted %s (entitlement %s)\n", role, e.ID)
		}
		return err
	}
	n, err := Revoke(ctx, tx, cid, uid, role, bankID)
	if err == nil {
		fmt.Fprintf(out, "revoked %s (%d entitlement)\n", role, n)
	}
	return err
}

func bankByCode(ctx context.Context, c *ent.Client, code string) (*uuid.UUID, error) {
	if code == "" {
		return nil, nil
	}
	id, err := c.Bank.Query().Where(bank.Code(code)).OnlyID(ctx)
	if err != nil {
		return nil, fmt.Errorf("bank %s: %w", code, err)
	}
	return &id, nil
}

// readPassword reads one line: the password, typed or piped.
func readPassword(r io.Reader) (string, error) {
	if f, ok := r.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprint(os.Stderr, "password: ")
		}
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func withTx(ctx context.Context, c *ent.Client, fn func(*ent.Client) error) error {
	tx, err := c.Tx(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx.Client()); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
