package observe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/go-chi/chi/v5"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Tracing is OpenTelemetry tracing: the provider that makes the spans and
// the propagator that reads an incoming trace context (W3C traceparent).
// A nil *Tracing is tracing off: nothing is traced and nothing costs.
type Tracing struct {
	Provider   trace.TracerProvider
	Propagator propagation.TextMapPropagator // nil: W3C trace context and baggage
	// Exporters names where the spans go (for the start-up log line).
	Exporters []string
	shutdown  func(context.Context) error
}

// TracingFromEnv configures tracing from the standard OpenTelemetry
// environment, and returns nil (tracing off) unless it asks for tracing:
//
//   - OTEL_TRACES_EXPORTER: a comma-separated list of otlp, console
//     (spans as JSON on standard output) or none; unset means otlp when
//     OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is
//     set, and off otherwise;
//   - OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or OTEL_EXPORTER_OTLP_PROTOCOL:
//     http/protobuf (the default) or grpc; the OTLP exporters read the rest
//     of OTEL_EXPORTER_OTLP_* themselves (endpoint, headers, timeout,
//     compression, certificates, insecure);
//   - OTEL_SDK_DISABLED=true turns tracing off whatever the rest says;
//   - OTEL_PROPAGATORS: tracecontext, baggage or none (default
//     tracecontext,baggage);
//   - the SDK reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the
//     service name defaults to custgraph), OTEL_TRACES_SAMPLER and
//     OTEL_TRACES_SAMPLER_ARG (default parentbased_always_on), and the
//     batch processor's OTEL_BSP_*.
//
// A value it does not support is an error, not silently ignored.
func TracingFromEnv(ctx context.Context) (*Tracing, error) {
	if strings.EqualFold(strings.TrimSpace(os.Getenv("OTEL_SDK_DISABLED")), "true") {
		return nil, nil
	}
	list := strings.TrimSpace(os.Getenv("OTEL_TRACES_EXPORTER"))
	if list == "" {
		if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
			return nil, nil
		}
		list = "otlp"
	}
	prop, err := propagatorFromEnv()
	if err != nil {
		return nil, err
	}
	var (
		opts  []sdktrace.TracerProviderOption
		names []string
	)
	for _, name := range strings.Split(list, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		var exp sdktrace.SpanExporter
		switch name {
		case "none", "":
			continue
		case "console":
			exp, err = stdouttrace.New(stdouttrace.WithWriter(os.Stdout))
		case "otlp":
			protocol := os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
			if protocol == "" {
				protocol = os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
			}
			switch protocol {
			case "", "http/protobuf":
				exp, err = otlptracehttp.New(ctx)
				name = "otlp (http/protobuf)"
			case "grpc":
				exp, err = otlptracegrpc.New(ctx)
				name = "otlp (grpc)"
			default:
				err = fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q: custgraph supports http/protobuf and grpc", protocol)
			}
		default:
			err = fmt.Errorf("OTEL_TRACES_EXPORTER %q: custgraph supports otlp, console and none", name)
		}
		if err != nil {
			return nil, fmt.Errorf("tracing: %w", err)
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
		names = append(names, name)
	}
	if len(names) == 0 {
		return nil, nil // OTEL_TRACES_EXPORTER=none
	}
	// Later detectors win: the environment overrides the default name.
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName("custgraph")),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv())
	if err != nil {
		return nil, fmt.Errorf("tracing: the resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(append(opts, sdktrace.WithResource(res))...)
	return &Tracing{Provider: tp, Propagator: prop, Exporters: names, shutdown: tp.Shutdown}, nil
}

// propagatorFromEnv reads OTEL_PROPAGATORS.
func propagatorFromEnv() (propagation.TextMapPropagator, error) {
	list := strings.TrimSpace(os.Getenv("OTEL_PROPAGATORS"))
	if list == "" {
		list = "tracecontext,baggage"
	}
	var ps []propagation.TextMapPropagator
	for _, name := range strings.Split(list, ",") {
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "tracecontext":
			ps = append(ps, propagation.TraceContext{})
		case "baggage":
			ps = append(ps, propagation.Baggage{})
		case "none", "":
		default:
			return nil, fmt.Errorf("tracing: OTEL_PROPAGATORS %q: custgraph supports tracecontext, baggage and none", name)
		}
	}
	return propagation.NewCompositeTextMapPropagator(ps...), nil
}

// Install makes t the process's global tracer provider and propagator
// (for libraries that use otel's globals) and sends the SDK's errors, such
// as a collector that cannot be reached, to log.
func (t *Tracing) Install(log *slog.Logger) {
	if t == nil {
		return
	}
	otel.SetTracerProvider(t.Provider)
	otel.SetTextMapPropagator(t.propagator())
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn("tracing: the OpenTelemetry SDK failed", "err", err)
	}))
}

// Shutdown sends the spans still buffered and stops the exporters.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil || t.shutdown == nil {
		return nil
	}
	err := t.shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("tracing: spans still unsent at shutdown: %w", err)
	}
	return err
}

func (t *Tracing) propagator() propagation.TextMapPropagator {
	if t.Propagator != nil {
		return t.Propagator
	}
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// untraced are the paths of probes and scrapes: frequent, and no one's
// request.
var untraced = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// Middleware returns the HTTP middleware that gives each request its server
// span (otelhttp), a child of the incoming trace context when the request
// carries one (traceparent), named by chi's route pattern once routed
// ("GET /query"). Mount it with the chi router's Use, first. A nil *Tracing
// returns a middleware that does nothing.
func (t *Tracing) Middleware() func(http.Handler) http.Handler {
	if t == nil {
		return func(next http.Handler) http.Handler { return next }
	}
	server := otelhttp.NewMiddleware("http.server",
		otelhttp.WithTracerProvider(t.Provider),
		otelhttp.WithPropagators(t.propagator()),
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()), // the metrics are Prometheus's
		otelhttp.WithFilter(func(r *http.Request) bool { return !untraced[r.URL.Path] }),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method }),
	)
	return func(next http.Handler) http.Handler {
		return server(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r)
			// Routed now: name the span after the route.
			if rc := chi.RouteContext(r.Context()); rc != nil {
				if route := rc.RoutePattern(); route != "" {
					span := trace.SpanFromContext(r.Context())
					span.SetName(r.Method + " " + route)
					span.SetAttributes(semconv.HTTPRoute(route))
				}
			}
		}))
	}
}
