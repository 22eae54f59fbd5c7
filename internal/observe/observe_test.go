package observe_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"custgraph/internal/observe"
)

// TestOperationLabel: the operation label's values are bounded: names past
// the first MaxOperationNames, and what is no GraphQL name, are "other".
func TestOperationLabel(t *testing.T) {
	m := observe.NewMetrics()
	require.Equal(t, "anonymous", m.OperationLabel(""))
	require.Equal(t, "other", m.OperationLabel("not a name"))
	require.Equal(t, "other", m.OperationLabel("9lives"))
	for i := range observe.MaxOperationNames {
		name := fmt.Sprintf("Op%d", i)
		require.Equal(t, name, m.OperationLabel(name))
	}
	require.Equal(t, "other", m.OperationLabel("OneTooMany"))
	require.Equal(t, "Op7", m.OperationLabel("Op7"), "a name kept stays kept")
}

// TestTracingFromEnv: tracing is off unless the environment configures it;
// an OTLP endpoint alone turns it on, and the spans reach the collector.
func TestTracingFromEnv(t *testing.T) {
	unset := func(t *testing.T) {
		for _, k := range []string{"OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT",
			"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
			"OTEL_PROPAGATORS", "OTEL_SERVICE_NAME"} {
			t.Setenv(k, "")
		}
	}
	ctx := context.Background()
	t.Run("off by default", func(t *testing.T) {
		unset(t)
		tr, err := observe.TracingFromEnv(ctx)
		require.NoError(t, err)
		require.Nil(t, tr)
	})
	t.Run("none, or the SDK disabled, is off", func(t *testing.T) {
		unset(t)
		t.Setenv("OTEL_TRACES_EXPORTER", "none")
		tr, err := observe.TracingFromEnv(ctx)
		require.NoError(t, err)
		require.Nil(t, tr)
		t.Setenv("OTEL_TRACES_EXPORTER", "console")
		t.Setenv("OTEL_SDK_DISABLED", "true")
		tr, err = observe.TracingFromEnv(ctx)
		require.NoError(t, err)
		require.Nil(t, tr)
	})
	t.Run("what is not supported is an error", func(t *testing.T) {
		unset(t)
		t.Setenv("OTEL_TRACES_EXPORTER", "zipkin")
		_, err := observe.TracingFromEnv(ctx)
		require.ErrorContains(t, err, "zipkin")
		t.Setenv("OTEL_TRACES_EXPORTER", "otlp")
		t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
		_, err = observe.TracingFromEnv(ctx)
		require.ErrorContains(t, err, "http/json")
		t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "")
		t.Setenv("OTEL_PROPAGATORS", "b3")
		_, err = observe.TracingFromEnv(ctx)
		require.ErrorContains(t, err, "b3")
	})
	t.Run("console", func(t *testing.T) {
		unset(t)
		t.Setenv("OTEL_TRACES_EXPORTER", "console")
		tr, err := observe.TracingFromEnv(ctx)
		require.NoError(t, err)
		require.NotNil(t, tr)
		require.Equal(t, []string{"console"}, tr.Exporters)
		require.NoError(t, tr.Shutdown(ctx))
	})
	t.Run("an OTLP endpoint: spans sent over OTLP/HTTP", func(t *testing.T) {
		unset(t)
		var (
			mu   sync.Mutex
			got  []*coltracepb.ExportTraceServiceRequest
			path string
		)
		collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			req := new(coltracepb.ExportTraceServiceRequest)
			if err := proto.Unmarshal(body, req); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			mu.Lock()
			got, path = append(got, req), r.URL.Path
			mu.Unlock()
			w.Header().Set("Content-Type", "application/x-protobuf")
			b, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
			_, _ = w.Write(b)
		}))
		defer collector.Close()
		t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
		t.Setenv("OTEL_SERVICE_NAME", "custgraph-test")
		tr, err := observe.TracingFromEnv(ctx)
		require.NoError(t, err)
		require.NotNil(t, tr)
		require.Equal(t, []string{"otlp (http/protobuf)"}, tr.Exporters)

		// A request through the middleware, continuing the caller's trace.
		h := tr.Middleware()(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
		r := httptest.NewRequest(http.MethodGet, "/query", nil)
		r.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
		h.ServeHTTP(httptest.NewRecorder(), r)
		require.NoError(t, tr.Shutdown(ctx), "flushes the batch")

		mu.Lock()
		defer mu.Unlock()
		require.Equal(t, "/v1/traces", path)
		require.Len(t, got, 1)
		rs := got[0].ResourceSpans
		require.Len(t, rs, 1)
		var service string
		for _, a := range rs[0].Resource.Attributes {
			if a.Key == "service.name" {
				service = a.Value.GetStringValue()
			}
		}
		require.Equal(t, "custgraph-test", service, "OTEL_SERVICE_NAME")
		spans := rs[0].ScopeSpans[0].Spans
		require.Len(t, spans, 1)
		require.Equal(t, "GET", spans[0].Name, "no chi route: the method")
		require.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", fmt.Sprintf("%x", spans[0].TraceId))
		require.Equal(t, "00f067aa0ba902b7", fmt.Sprintf("%x", spans[0].ParentSpanId))
	})
}

// TestLogger: a line logged in a request's context carries its trace and
// span ids, its caller and its operation; one without, none of them.
func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	log := observe.Logger(slog.New(slog.NewJSONHandler(&buf, nil)).With("service", "custgraph"))
	require.Same(t, log, observe.Logger(log), "wrapped once")
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	ctx, span := tp.Tracer("test").Start(context.Background(), "request")
	ctx, req := observe.NewContext(ctx, nil)
	req.SetCaller("user", "alice")
	req.SetOperation("Customers")
	log.InfoContext(ctx, "inside")
	span.End()
	log.Info("outside")

	var lines []map[string]any
	for _, l := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var m map[string]any
		require.NoError(t, json.Unmarshal(l, &m))
		lines = append(lines, m)
	}
	require.Len(t, lines, 2)
	in, out := lines[0], lines[1]
	require.Equal(t, span.SpanContext().TraceID().String(), in["trace_id"])
	require.Equal(t, span.SpanContext().SpanID().String(), in["span_id"])
	require.Equal(t, "user:alice", in["caller"])
	require.Equal(t, "Customers", in["operation"])
	require.Equal(t, "custgraph", in["service"])
	for _, k := range []string{"trace_id", "span_id", "caller", "operation"} {
		require.NotContains(t, out, k)
	}
}
