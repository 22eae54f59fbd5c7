package e2e

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestUnreadableSettingsStopTheStart: a setting the server cannot read,
// given as an environment variable or a flag, stops the start-up with exit
// status 2 and a line naming it, before anything is opened or written.
// Environment variables fell back on their defaults without a word
// (CUSTGRAPH_SHUTDOWN_TIMEOUT=60, without its unit, was 20 s), as did an
// unknown log level or format, and negative durations and sizes started.
func TestUnreadableSettingsStopTheStart(t *testing.T) {
	bin := buildBinary(t)
	for _, tc := range []struct {
		env     []string
		args    []string
		want    []string
		notWant string
	}{
		// A flag wins over its variable, and an empty variable is not set:
		// neither is named (the negative size stops the start-up).
		{env: []string{"CUSTGRAPH_SHUTDOWN_TIMEOUT=60", "CUSTGRAPH_RATE_LIMIT="}, args: []string{"--shutdown-timeout", "60s", "--max-body-bytes", "-1"},
			want: []string{"--max-body-bytes -1: must not be negative"}, notWant: "CUSTGRAPH_"},
		{env: []string{"CUSTGRAPH_SHUTDOWN_TIMEOUT=60"}, want: []string{`CUSTGRAPH_SHUTDOWN_TIMEOUT="60": want a duration`}},
		{env: []string{"CUSTGRAPH_RATE_LIMIT=lots", "CUSTGRAPH_DEMO=yes please"},
			want: []string{`CUSTGRAPH_RATE_LIMIT="lots": want an integer`, `CUSTGRAPH_DEMO="yes please": want true or false`}},
		{env: []string{"CUSTGRAPH_LOG_LEVEL=verbose", "CUSTGRAPH_LOG_FORMAT=xml"},
			want: []string{`log level "verbose"`, `log format "xml"`}},
		{args: []string{"--request-timeout", "-5s", "--max-body-bytes", "-1"},
			want: []string{"--request-timeout -5s: must not be negative", "--max-body-bytes -1: must not be negative"}},
	} {
		dir := t.TempDir()
		db := filepath.Join(dir, "s.db")
		// (A server that starts anyway is stopped after a minute: a bound, not a measure.)
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append([]string{"--addr", "127.0.0.1:0", "--database-url", db}, tc.args...)...)
		cmd.Env = append(serverEnv(), tc.env...)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 {
			t.Fatalf("%v %v: %v, want exit status 2\n%s", tc.env, tc.args, err, out)
		}
		if tc.notWant != "" && strings.Contains(string(out), tc.notWant) {
			t.Errorf("%v %v: the output names %q:\n%s", tc.env, tc.args, tc.notWant, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("%v %v: the output does not say %q:\n%s", tc.env, tc.args, w, out)
			}
		}
		if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%v %v: the database file was created (%v)", tc.env, tc.args, err)
		}
	}
}

// TestPortInUseStopsTheStartFirst: an address already in use stops the
// start-up before the database is opened: a run on a fresh database had
// migrated it, loaded the demo data and printed the administrator's
// one-time secret, and only then failed to listen, so the next run, on a
// free port, had no secret to print.
func TestPortInUseStopsTheStartFirst(t *testing.T) {
	bin := buildBinary(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	db := filepath.Join(t.TempDir(), "p.db")
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // a bound, not a measure
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--addr", busy.Addr().String(), "--database-url", db, "--demo")
	cmd.Env = append(serverEnv(), "CUSTGRAPH_ADMIN_CLIENT_ID=admin")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("%v, want exit status 1\n%s", err, out)
	}
	if !strings.Contains(string(out), "address already in use") {
		t.Errorf("the output does not name the cause:\n%s", out)
	}
	for _, s := range []string{"migrated", "demo data", "client_secret", "secret"} {
		if strings.Contains(string(out), s) {
			t.Errorf("the run did %q before it failed to listen:\n%s", s, out)
		}
	}
	if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the database file was created (%v)", err)
	}
}
