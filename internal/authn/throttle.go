package authn

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"custgraph/ent"
	"custgraph/ent/loginfailure"
	"custgraph/internal/access"
)

// Guessing a client secret or a password is slowed down per account,
// whatever address the guesses come from and whichever replica they reach
// (the counts are in the database, ent/schema LoginFailure):
//
//   - the first freeFailures failed attempts in a row cost nothing more;
//   - each further failure locks the account for twice as long as the one
//     before (1 s, 2 s, 4 s, …, at most maxLock);
//   - while locked, an attempt is refused before its secret is checked (no
//     argon2id work), with the time to wait;
//   - a success clears the count, and so does an hour without failures.
//
// Accounts that do not exist are counted like those that do, so the answers
// do not tell which exist.
const (
	freeFailures  = 5
	maxLock       = 15 * time.Minute
	forgetAfter   = time.Hour
	sweepInterval = time.Minute
)

// throttle is the per-account failure count.
type throttle struct {
	db        *ent.Client
	now       func() time.Time
	lastSweep atomic.Int64 // Unix seconds of the last removal of old rows
}

// Account keys: "client:<client_id>" and "user:<username>".
func clientAccount(clientID string) string { return "client:" + accountName(clientID) }
func userAccount(username string) string   { return "user:" + accountName(username) }

// maxNameLen is the longest client_id and username the schema allows
// (ent/schema: APIClient's client_id is 3 to 100 characters, User's
// username at most 100), both of ASCII characters only: so, in bytes.
const maxNameLen = 100

// possibleName reports whether a client or a user could have name: not
// longer than the schema allows, valid UTF-8 and without NUL. Any other
// name is an unknown caller's, answered as one without being looked up:
// PostgreSQL refuses NUL and invalid UTF-8 in text (SQLSTATE 22021).
func possibleName(name string) bool { return len(name) <= maxNameLen && possibleText(name, maxNameLen) }

// maxSubjectLen is the longest external_subject the schema allows (User
// and APIClient, in characters as ent counts them).
const maxSubjectLen = 255

// possibleText reports whether a text column of at most max characters
// could hold s: PostgreSQL refuses NUL and invalid UTF-8 (SQLSTATE 22021).
// (The byte length is checked first: a string of more than 4×max bytes
// cannot be max characters, and is not counted.)
func possibleText(s string, max int) bool {
	return len(s) <= 4*max && utf8.ValidString(s) && utf8.RuneCountInString(s) <= max && !strings.ContainsRune(s, 0)
}

// accountName is how an account key names a caller: by its name when some
// caller could have it, else by "sha256:" and the hex SHA-256 of the name.
// Such names must be counted like any unknown caller's, but the account
// column refuses a key over 320 bytes (ent/schema LoginFailure) and
// PostgreSQL refuses NUL and invalid UTF-8; the hash is 71 bytes of ASCII
// whatever the name, and still a count of its own for each name. Hashing
// only those keeps every possible caller's key as it was, readable. The
// one overlap, a name spelled "sha256:<hex>" sharing the count of the
// name that hashes to it, touches no caller's count: ':' is in neither a
// client_id nor a username.
func accountName(name string) string {
	if possibleName(name) {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// wait returns how long account must wait before its next attempt (0:
// none), and whether it has failures on record (a success must clear them).
func (t *throttle) wait(ctx context.Context, account string) (time.Duration, bool, error) {
	row, err := t.db.LoginFailure.Query().Where(loginfailure.Account(account)).Only(access.System(ctx))
	switch {
	case ent.IsNotFound(err):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	}
	if row.LockedUntil != nil {
		if d := row.LockedUntil.Sub(t.now()); d > 0 {
			return d, true, nil
		}
	}
	return 0, true, nil
}

// failed counts a failed attempt and locks the account when it is past its
// free failures; it returns how long the account is now locked for.
func (t *throttle) failed(ctx context.Context, account string) (time.Duration, error) {
	ctx = access.System(ctx)
	now := t.now()
	t.sweep(ctx, now)
	for range 3 { // a concurrent first failure may create the row first
		row, err := t.db.LoginFailure.Query().Where(loginfailure.Account(account)).Only(ctx)
		if ent.IsNotFound(err) {
			err = t.db.LoginFailure.Create().SetAccount(account).SetFailures(1).SetUpdatedAt(now).Exec(ctx)
			if ent.IsConstraintError(err) {
				continue
			}
			return 0, err
		}
		if err != nil {
			return 0, err
		}
		failures := row.Failures + 1
		if now.Sub(row.UpdatedAt) > forgetAfter {
			failures = 1
		}
		var lock time.Duration
		if failures > freeFailures {
			lock = time.Duration(math.Min(float64(maxLock), float64(time.Second)*math.Pow(2, float64(failures-freeFailures-1))))
		}
		upd := t.db.LoginFailure.Update().
			Where(loginfailure.ID(row.ID), loginfailure.Failures(row.Failures)). // unless another failure came first
			SetFailures(failures).SetUpdatedAt(now)
		if lock > 0 {
			upd.SetLockedUntil(now.Add(lock))
		}
		n, err := upd.Save(ctx)
		if err != nil {
			return 0, err
		}
		if n == 1 {
			return lock, nil
		}
	}
	return 0, nil
}

// succeeded clears an account's failures.
func (t *throttle) succeeded(ctx context.Context, account string) error {
	_, err := t.db.LoginFailure.Delete().Where(loginfailure.Account(account)).Exec(access.System(ctx))
	return err
}

// sweep removes, at most once a minute, the rows nobody needs any more.
func (t *throttle) sweep(ctx context.Context, now time.Time) {
	last := t.lastSweep.Load()
	if now.Unix()-last < int64(sweepInterval/time.Second) || !t.lastSweep.CompareAndSwap(last, now.Unix()) {
		return
	}
	_, _ = t.db.LoginFailure.Delete().Where(loginfailure.UpdatedAtLT(now.Add(-forgetAfter)),
		loginfailure.Or(loginfailure.LockedUntilIsNil(), loginfailure.LockedUntilLT(now))).Exec(ctx)
}
