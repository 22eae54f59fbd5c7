package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const buildTimeout = 5 * time.Minute // cold builds of ent + SQLite are slow on 2 cores

// buildBinary builds the repository's main package (the parent directory).
func buildBinary(t *testing.T) string {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "custgraph")
	ctx, cancel := context.WithTimeout(t.Context(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build in %s: %v\n%s", root, err, out)
	}
	trackSources(t, root)
	return bin
}

// trackSources stats every file of the source tree at root. go test caches
// a passing result keyed on the files the test itself touched; without this
// the binary's sources would be invisible to that cache and a stale "ok"
// could hide a broken server.
func trackSources(t *testing.T, root string) {
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules"):
			return filepath.SkipDir
		case !d.IsDir():
			_, err = os.Stat(p)
		}
		return err
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
}

// The administrator API client every server started by launch creates at
// first start (its database is always new). The secret is a test fixture,
// not a credential of any real deployment.
const (
	adminClientID     = "e2e-admin"
	adminClientSecret = "e2e-admin-secret-for-tests-only-0123456789"
)

// startServer runs bin on a free loopback port with a fresh SQLite file,
// waits for /healthz and returns the process. It is killed at the end of the
// test; its output is logged if the test failed.
func startServer(t *testing.T, ctx context.Context, bin string) *process {
	return launch(t, ctx, bin, "--database-url", filepath.Join(t.TempDir(), "e2e.db"))
}

// process is a custgraph started by launch.
type process struct {
	addr   string // host:port it listens on
	base   string // "http://" + addr
	cmd    *exec.Cmd
	stdout syncBuffer
	stderr syncBuffer // custgraph logs here
	done   chan struct{}
	err    error // cmd.Wait's result, set before done is closed
}

// launch runs bin with --addr on a free loopback port plus args, waits until
// /healthz answers 200 and returns the process. On an empty database the
// process creates the administrator adminClientID/adminClientSecret (see
// accessToken). Whatever is still running is killed at the end of the test;
// the output is logged if the test failed.
func launch(t *testing.T, ctx context.Context, bin string, args ...string) *process {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	p := &process{addr: addr, base: "http://" + addr, done: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"--addr", addr}, args...)...)
	p.cmd.Env = append(serverEnv(),
		"CUSTGRAPH_ADMIN_CLIENT_ID="+adminClientID,
		"CUSTGRAPH_ADMIN_CLIENT_SECRET="+adminClientSecret)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill() // fails harmlessly if it has exited
		<-p.done
		if t.Failed() {
			t.Logf("custgraph stdout:\n%s", p.stdout.String())
			t.Logf("custgraph stderr:\n%s", p.stderr.String())
		}
	})

	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	last := "no answer"
	for {
		select {
		case <-p.done:
			t.Fatalf("custgraph exited before serving: %v", p.err)
		case <-ctx.Done():
			t.Fatalf("waiting for %s/healthz: %v", p.base, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := client.Get(p.base + "/healthz")
		if err != nil {
			last = err.Error()
		} else {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				client.CloseIdleConnections()
				return p
			}
			last = resp.Status
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/healthz not 200 within 60s (last: %s)", p.base, last)
		}
	}
}

// accessToken gets a token for the administrator from p's token endpoint
// (client credentials grant, client_secret_basic), for an
// "Authorization: Bearer" header.
func (p *process) accessToken(t *testing.T) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, p.base+"/oauth/token",
		strings.NewReader("grant_type=client_credentials"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(adminClientID, adminClientSecret)
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST /oauth/token: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST /oauth/token: reading the body: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /oauth/token: status %s, want 200\n%s", resp.Status, body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	err = json.Unmarshal(body, &tok)
	if err != nil || tok.AccessToken == "" || !strings.EqualFold(tok.TokenType, "Bearer") {
		t.Fatalf("POST /oauth/token: want a Bearer access_token (decoding: %v), got\n%s", err, body)
	}
	return tok.AccessToken
}

// wait waits up to d for the process to exit and returns its exit code, or
// fails the test.
func (p *process) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		t.Fatalf("custgraph still running %v later", d)
	}
	var exit *exec.ExitError
	if p.err != nil && !errors.As(p.err, &exit) {
		t.Fatalf("waiting for custgraph: %v", p.err)
	}
	return p.cmd.ProcessState.ExitCode()
}

// logLine waits up to 30s for a log line containing msg and returns the last
// such line. The process writes its log into a pipe that exec copies into
// p.stderr from another goroutine, so a line the server wrote before it
// answered /healthz may still be on its way when launch returns.
func (p *process) logLine(t *testing.T, msg string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var line string
		for _, l := range strings.Split(p.stderr.String(), "\n") {
			if strings.Contains(l, msg) {
				line = l
			}
		}
		if line != "" {
			return line
		}
		if p.exited() || time.Now().After(deadline) {
			t.Fatalf("no log line with %s:\n%s", msg, p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// exited reports whether the process has exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// serverEnv is the test's environment without the variables custgraph reads
// its settings from (CUSTGRAPH_*, DATABASE_URL), so that, say, a developer's
// CUSTGRAPH_DEMO=true cannot change what the test sees. launch adds the
// administrator's credentials back.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CUSTGRAPH_") && !strings.HasPrefix(kv, "DATABASE_URL=") {
			env = append(env, kv)
		}
	}
	return env
}

// syncBuffer is a bytes.Buffer safe for the process's concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// banksReply is the answer to the tests' query { banks { totalCount } }.
type banksReply struct {
	Data struct {
		Banks struct {
			TotalCount *int `json:"totalCount"`
		} `json:"banks"`
	} `json:"data"`
	Errors []json.RawMessage `json:"errors"`
}
