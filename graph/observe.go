package graph

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"custgraph/internal/observe"
)

// observer measures and traces each GraphQL operation (internal/observe):
//
//   - the request's log lines get the operation's name;
//   - the server's metrics get its duration (from reading the request to
//     the answer built) by name, type and outcome code, its errors by code,
//     and a refusal by a cost limit (limitCodes) by the limit's code;
//   - when the request's span records (tracing on, the trace sampled), the
//     operation gets a span of its own, a child of the HTTP request's span
//     and the parent of its SQL statements' spans (internal/store), with
//     graphql.operation.name, graphql.operation.type and, when it failed,
//     graphql.error.codes. The document is not recorded: its literals may
//     be customer data.
//
// Every operation's answer passes InterceptResponse, which records it: one
// that runs, and one refused before it could run (it does not parse or
// validate, a limit refuses it). InterceptOperation only starts the span of
// an operation that runs, when traced, so that its statements' spans are
// the operation's children; with tracing off it costs nothing. Register
// the extension first, so that it sees the final answer (after the
// transactioner's commit).
type observer struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
	graphql.ResponseInterceptor
} = observer{}

func (observer) ExtensionName() string                   { return "Observe" }
func (observer) Validate(graphql.ExecutableSchema) error { return nil }

// opSpanKey holds the span InterceptOperation started.
type opSpanKey struct{}

// tracerName is the instrumentation scope of the operations' spans.
const tracerName = "custgraph/graph"

func (observer) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	name, typ := operationOf(oc)
	observe.FromContext(ctx).SetOperation(name) // for the lines logged while it runs
	span := startSpan(ctx, name, typ, operationStart(oc))
	if span == nil {
		return next(ctx)
	}
	ctx = context.WithValue(trace.ContextWithSpan(ctx, span), opSpanKey{}, span)
	h := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		defer span.End() // (ended already by InterceptResponse, unless gqlgen skipped it)
		return h(ctx)
	}
}

func (observer) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if !graphql.HasOperationContext(ctx) {
		return resp
	}
	oc := graphql.GetOperationContext(ctx)
	name, typ := operationOf(oc)
	start := operationStart(oc)
	span, ran := ctx.Value(opSpanKey{}).(trace.Span)
	if !ran { // refused before it could run (or not traced)
		observe.FromContext(ctx).SetOperation(name)
		span = startSpan(ctx, name, typ, start)
	}
	finish(ctx, name, typ, start, span, resp)
	return resp
}

// operationOf returns the operation's name and type: the document's when
// it was parsed, else the request's operationName and no type.
func operationOf(oc *graphql.OperationContext) (name, typ string) {
	if oc.Operation != nil {
		return oc.Operation.Name, string(oc.Operation.Operation)
	}
	name = oc.OperationName
	if len(name) > 128 { // the client's parameter, unchecked
		name = name[:128]
	}
	return name, ""
}

// operationStart is when the request began to be read (the transport's
// mark), else when the operation began.
func operationStart(oc *graphql.OperationContext) time.Time {
	switch {
	case !oc.Stats.Read.Start.IsZero():
		return oc.Stats.Read.Start
	case !oc.Stats.OperationStart.IsZero():
		return oc.Stats.OperationStart
	}
	return time.Now()
}

// startSpan starts the operation's span when the context's span records;
// nil otherwise.
func startSpan(ctx context.Context, name, typ string, start time.Time) trace.Span {
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		return nil
	}
	spanName := "GraphQL Operation"
	attrs := make([]attribute.KeyValue, 0, 2)
	if typ != "" {
		spanName = typ
		attrs = append(attrs, semconv.GraphQLOperationTypeKey.String(typ))
	}
	if name != "" {
		spanName += " " + name
		attrs = append(attrs, semconv.GraphQLOperationName(name))
	}
	_, span := parent.TracerProvider().Tracer(tracerName).Start(ctx, spanName,
		trace.WithTimestamp(start), trace.WithAttributes(attrs...))
	return span
}

// errorCodesKey is the attribute of a failed operation's span that lists
// its errors' codes.
const errorCodesKey = attribute.Key("graphql.error.codes")

// finish records the operation's outcome and ends its span (when not nil).
func finish(ctx context.Context, name, typ string, start time.Time, span trace.Span, resp *graphql.Response) {
	var codes []string
	if resp != nil {
		for _, e := range resp.Errors {
			code, _ := e.Extensions["code"].(string)
			if code == "" {
				code = "UNKNOWN"
			}
			codes = append(codes, code)
		}
	}
	if m := observe.FromContext(ctx).Metrics(); m != nil {
		m.ObserveOperation(observe.Operation{Name: name, Type: typ, Codes: codes, Duration: time.Since(start)})
		for _, c := range codes {
			if limitCodes[c] {
				m.CostRefused(c)
				break // one refusal per operation
			}
		}
	}
	if span != nil {
		if len(codes) > 0 {
			span.SetAttributes(errorCodesKey.StringSlice(codes))
			span.SetStatus(otelcodes.Error, codes[0])
		}
		span.End()
	}
}
