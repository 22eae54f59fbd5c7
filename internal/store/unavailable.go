package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"

	"custgraph/internal/apperr"
)

// This file tells an outage from a fault: Unreachable recognises the errors
// of a database that cannot be reached (PostgreSQL stopped or restarting,
// connections refused, reset or terminated, the pool unable to connect,
// SQLite's lock still held when its busy timeout ran out, a full disk or
// one that fails), which Classify
// makes UNAVAILABLE (every door's 503 with Retry-After) instead of
// INTERNAL (500). It also keeps, per request, the summary of the outage
// that failed it, for the request's one log line (WithOutage, Report).

// unavailableMessage is what clients are told of an outage.
const unavailableMessage = "the database is unavailable: retry later"

// Unreachable reports whether err says the database could not be reached
// (rather than that it refused the statement), with a one-line summary of
// the cause for the logs: "connection refused", "the server is shutting
// down (57P01)", "database is locked (SQLITE_BUSY)"…
func Unreachable(err error) (cause string, ok bool) {
	if err == nil {
		return "", false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch c := pgErr.Code; {
		case c == "57P01":
			return "the server is shutting down (57P01 admin_shutdown)", true
		case c == "57P02":
			return "the server crashed (57P02 crash_shutdown)", true
		case c == "57P03":
			return "the server is starting or stopping (57P03 cannot_connect_now)", true
		case c == "53300":
			return "the server has no connection left (53300 too_many_connections)", true
		case c == "53100":
			return "the server's disk is full (53100 disk_full)", true
		case c == "53200":
			return "the server is out of memory (53200 out_of_memory)", true
		case strings.HasPrefix(c, "08"):
			return "connection failure (" + c + ")", true
		}
		var ce *pgconn.ConnectError
		if !errors.As(err, &ce) {
			return "", false // the server answered: not an outage
		}
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case 5: // SQLITE_BUSY, past the busy timeout
			return "database is locked (SQLITE_BUSY)", true
		case 6: // SQLITE_LOCKED
			return "database table is locked (SQLITE_LOCKED)", true
		case 13: // SQLITE_FULL: the disk (or the file's size limit) is full
			return "the disk is full (SQLITE_FULL)", true
		case 10: // SQLITE_IOERR: the file could not be read or written
			return "the database file could not be read or written (SQLITE_IOERR)", true
		}
		return "", false
	}
	var ce *pgconn.ConnectError
	connect := errors.As(err, &ce)
	switch {
	case errors.Is(err, pgconn.ErrConnClosed), errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone):
		return "connection closed", true
	}
	// Errors of the network (EOF, a reset…) say nothing of where they
	// came from: they are the database's only when its driver returned
	// them (fromDriver marked them) or while connecting.
	var de *driverError
	if !connect && !errors.As(err, &de) {
		return "", false
	}
	if cause, ok := networkCause(err); ok {
		return cause, true
	}
	if connect {
		if errors.Is(err, context.Canceled) {
			return "", false // the client left while connecting: not an outage
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return "no connection within the request's time", true
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return "connect timeout", true
		}
		return "cannot connect", true
	}
	return "", false
}

// networkCause summarises an error of the network.
func networkCause(err error) (string, bool) {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused", true
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset", true
	case errors.Is(err, syscall.EPIPE):
		return "connection broken (EPIPE)", true
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "host unreachable", true
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "connection closed by the server", true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "host not found", true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return "network error (" + opErr.Op + ")", true
	}
	return "", false
}

// driverError marks an error of the network that the database driver
// returned (see Unreachable).
type driverError struct{ err error }

func (e *driverError) Error() string { return e.err.Error() }
func (e *driverError) Unwrap() error { return e.err }

// fromDriver marks err, returned by the database driver, when it is an
// error of the network; other errors are returned as they are.
func fromDriver(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := networkCause(err); ok {
		return &driverError{err}
	}
	return err
}

// Outage is the note of one request failed by an outage (see WithOutage).
type Outage struct{ cause atomic.Pointer[string] }

// Cause is the summary of the first outage error the request met, "" when
// it met none.
func (o *Outage) Cause() string {
	if c := o.cause.Load(); c != nil {
		return *c
	}
	return ""
}

type outageKey struct{}

// WithOutage returns a context in which the outage errors met by a request
// are noted (Report), for its log line.
func WithOutage(ctx context.Context) (context.Context, *Outage) {
	o := new(Outage)
	return context.WithValue(ctx, outageKey{}, o), o
}

// noteOutage keeps cause in ctx's Outage, unless one is there already.
func noteOutage(ctx context.Context, cause string) {
	if o, ok := ctx.Value(outageKey{}).(*Outage); ok {
		o.cause.CompareAndSwap(nil, &cause)
	}
}

// Report classifies err for the client (Classify) and takes care of its
// logging: an INTERNAL error is logged at error level with msg and attrs
// (a fault: someone should look); an UNAVAILABLE one is not logged here but
// noted in ctx's Outage (WithOutage), so that the request's one log line
// says why it failed, and an outage under load logs a bounded amount;
// a transaction failed for a concurrent one's sake (Contended) is logged at
// warning level and is no outage.
func Report(ctx context.Context, log *slog.Logger, err error, msg string, attrs ...any) *apperr.Error {
	e := Classify(err)
	if e.Code == apperr.Internal && ctx.Err() != nil {
		// The request's time ran out while a statement waited (for a row
		// lock, say): database/sql then reports the closed rows or the
		// ended transaction, not the deadline.
		e = Classify(ctx.Err())
	}
	switch e.Code {
	case apperr.Internal:
		if log == nil {
			log = slog.Default()
		}
		log.ErrorContext(ctx, msg, append([]any{"err", err}, attrs...)...)
	case apperr.Unavailable:
		if cause, ok := Contended(err); ok { // not an outage, but worth a look when frequent
			if log == nil {
				log = slog.Default()
			}
			log.WarnContext(ctx, msg, append([]any{"err", err, "cause", cause}, attrs...)...)
			return e
		}
		cause, ok := Unreachable(err)
		if !ok {
			cause = "the database is unavailable"
		}
		noteOutage(ctx, cause)
	}
	return e
}
