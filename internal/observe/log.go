package observe

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// Logger returns log with each line written in a request's context (the
// *Context logging functions) carrying that request's facts: trace_id and
// span_id when the request is traced, caller once authenticated
// ("client:<client_id>", "user:<username>") and operation (the GraphQL
// operation's name) once known.
func Logger(log *slog.Logger) *slog.Logger {
	if _, ok := log.Handler().(contextHandler); ok {
		return log
	}
	return slog.New(contextHandler{log.Handler()})
}

type contextHandler struct{ slog.Handler }

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil {
		if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
			r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
		}
		if req := FromContext(ctx); req != nil {
			if req.caller != "" {
				r.AddAttrs(slog.String("caller", req.caller))
			}
			if req.operation != "" {
				r.AddAttrs(slog.String("operation", req.operation))
			}
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{h.Handler.WithAttrs(attrs)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.Handler.WithGroup(name)}
}
