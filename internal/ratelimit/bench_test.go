package ratelimit_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"

	"custgraph/internal/access"
	"custgraph/internal/ratelimit"
	"custgraph/internal/testdb"
)

type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// BenchmarkMiddleware measures the cost the limiter adds to a request that
// is allowed (the limit is never reached): "none" is the bare handler.
func BenchmarkMiddleware(b *testing.B) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	for _, st := range []string{"none", ratelimit.StoreMemory, ratelimit.StoreDatabase} {
		h := http.Handler(ok)
		if st != "none" {
			db, _ := testdb.Open(b)
			mw, err := ratelimit.New(db, ratelimit.Config{Requests: 1 << 30, Window: time.Hour, Store: st})
			if err != nil {
				b.Fatal(err)
			}
			h = mw(ok)
		}
		b.Run(st, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req = req.WithContext(access.NewContext(req.Context(), access.NewViewer(access.KindClient, uuid.New(), "a", nil, nil)))
			w := &discard{h: http.Header{}}
			for b.Loop() {
				h.ServeHTTP(w, req)
			}
		})
		b.Run(st+"/parallel", func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				// A caller per goroutine, as many callers hit a server.
				req := httptest.NewRequest(http.MethodGet, "/", nil)
				req = req.WithContext(access.NewContext(req.Context(), access.NewViewer(access.KindClient, uuid.New(), "a", nil, nil)))
				w := &discard{h: http.Header{}}
				for pb.Next() {
					h.ServeHTTP(w, req)
				}
			})
		})
	}
}
