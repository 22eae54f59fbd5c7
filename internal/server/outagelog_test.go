package server

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestOutageLogIsBounded: however many requests an outage fails, it logs
// its first one (error level), then one line per interval saying how many
// were left out, then one line when the database answers again.
func TestOutageLogIsBounded(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	o := &outageLog{log: slog.New(slog.NewJSONHandler(&buf, nil)), interval: 5 * time.Second, now: func() time.Time { return now }}
	ctx := context.Background()
	o.reached(ctx) // no outage: nothing to say
	// A 14-second outage, 100 failed requests a second.
	for range 14 {
		for range 100 {
			o.failedRequest(ctx, "connection refused", []any{"status", 503})
		}
		now = now.Add(time.Second)
	}
	o.reached(ctx)
	o.reached(ctx) // once only

	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		lines = append(lines, m)
	}
	// t=0 (first), t=5 and t=10 (still), the end.
	if len(lines) != 4 {
		t.Fatalf("1,400 failed requests logged %d lines, want 4:\n%s", len(lines), buf.String())
	}
	want := []struct {
		level, msg string
		suppressed float64
	}{
		{"ERROR", "request failed: the database is unavailable; answering 503 until it is back", -1},
		{"WARN", "request failed: the database is still unavailable", 499},
		{"WARN", "request failed: the database is still unavailable", 499},
		{"INFO", "the database is reachable again", 399},
	}
	for i, w := range want {
		l := lines[i]
		if l["level"] != w.level || l["msg"] != w.msg {
			t.Errorf("line %d: %v %q, want %v %q", i, l["level"], l["msg"], w.level, w.msg)
		}
		if w.suppressed >= 0 && l["suppressed"] != w.suppressed {
			t.Errorf("line %d: suppressed %v, want %v", i, l["suppressed"], w.suppressed)
		}
		if i < 3 && l["unavailable"] != "connection refused" {
			t.Errorf("line %d: cause %v", i, l["unavailable"])
		}
	}
	if got := lines[3]["failed_requests"]; got != float64(1400) {
		t.Errorf("failed_requests %v, want 1400", got)
	}
	if got := lines[3]["outage_s"]; got != float64(14) {
		t.Errorf("outage_s %v, want 14", got)
	}
}
