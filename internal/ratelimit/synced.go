package ratelimit

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"
	"github.com/go-chi/httprate"
)

// DefaultSync is how often a replica reconciles its counts with the shared
// table (Config.Sync).
const DefaultSync = 250 * time.Millisecond

// batchRows bounds the rows of one batched statement (3 parameters each for
// the upsert, 1 for the read; far below SQLite's and PostgreSQL's limits).
const batchRows = 500

// idleSyncs is how many syncs with nothing to do the background loop waits
// before it stops; the next request starts it again.
const idleSyncs = 8

// syncedCounter is the database store's httprate.LimitCounter. A request
// costs no statement: Get and IncrementBy work on this replica's view of each
// caller's counts, which is what the shared table held at the last sync plus
// what this replica has admitted since. A background loop reconciles the view
// every Sync: it adds this replica's new counts to the table in one batched
// upsert and reads back the totals of every caller seen since the last sync
// in one batched read, so it learns what the other replicas admitted.
// A caller this replica has not seen yet is read from the table once, on its
// first request, so a replica joining late does not start it from zero.
type syncedCounter struct {
	table  *dbCounter
	every  time.Duration
	window time.Duration
	warn   func(op string, err error)
	now    func() time.Time

	mu      sync.Mutex
	keys    map[string]*keyState
	touched map[string]struct{} // keys read or counted since the last sync

	running     atomic.Bool // the background loop is running
	syncMu      sync.Mutex  // one sync at a time
	lastCleanup int64       // start (Unix ms) of the window the last cleanup and eviction ran in; under syncMu
}

var _ httprate.LimitCounter = (*syncedCounter)(nil)

// slot is one caller's count in one window: synced is the table's total at
// the last sync, inflight what this replica is adding to the table right now,
// pending what it admitted since.
type slot struct {
	start                     int64 // window start, Unix ms; 0 when unused
	synced, inflight, pending int
}

func (s *slot) count() int { return s.synced + s.inflight + s.pending }

// keyState holds a caller's two most recent windows (all the sliding window
// reads) and when they were last read from the table.
type keyState struct {
	s       [2]slot
	fresh   int64         // Unix ns of the last read from the table
	reading chan struct{} // a read of the key from the table in flight (closed when it ends); nil when none
}

func (k *keyState) find(start int64) *slot {
	for i := range k.s {
		if k.s[i].start == start {
			return &k.s[i]
		}
	}
	return nil
}

// add returns the slot of window start, replacing the older slot; nil when
// start is older than both (a clock step back), which is then not counted.
func (k *keyState) add(start int64) *slot {
	if s := k.find(start); s != nil {
		return s
	}
	i := 0
	if k.s[1].start < k.s[0].start {
		i = 1
	}
	if start < k.s[i].start {
		return nil
	}
	k.s[i] = slot{start: start}
	return &k.s[i]
}

func (k *keyState) count(start int64) int {
	if s := k.find(start); s != nil {
		return s.count()
	}
	return 0
}

func newSyncedCounter(table *dbCounter, every time.Duration, warn func(string, error)) *syncedCounter {
	if every <= 0 {
		every = DefaultSync
	}
	return &syncedCounter{table: table, every: every, warn: warn, now: time.Now,
		keys: map[string]*keyState{}, touched: map[string]struct{}{}}
}

// Config is called by httprate with the limiter's settings.
func (c *syncedCounter) Config(_ int, window time.Duration) { c.window = window }

func (c *syncedCounter) Increment(key string, current time.Time) error {
	return c.IncrementBy(key, current, 1)
}

// IncrementBy counts amount admitted requests in this replica's view; the
// next sync adds them to the table.
func (c *syncedCounter) IncrementBy(key string, current time.Time, amount int) error {
	c.mu.Lock()
	k := c.keys[key]
	if k == nil {
		k = &keyState{}
		c.keys[key] = k
	}
	if s := k.add(current.UnixMilli()); s != nil {
		s.pending += amount
	}
	c.touched[key] = struct{}{}
	c.mu.Unlock()
	c.start()
	return nil
}

// Get returns the key's counts in this replica's view. When the replica has
// not seen the key yet, or its view of it is more than two syncs old (the
// caller has not called this replica lately), it reads them from the table
// first, waiting at most readWait for the answer: a decision rests on a
// view at most about one sync old when the table answers, and a stalled
// database does not hold the request (a read stalled with the connection
// held requests ~6 s). A read that answers later still updates the view.
func (c *syncedCounter) Get(key string, current, previous time.Time) (int, int, error) {
	cs, ps := current.UnixMilli(), previous.UnixMilli()
	now := c.now().UnixNano()
	c.mu.Lock()
	k := c.keys[key]
	if k == nil {
		k = &keyState{}
		c.keys[key] = k
	}
	if k.fresh == 0 || now-k.fresh > int64(2*c.every) {
		if k.reading == nil { // (one read of a key at a time)
			k.reading = make(chan struct{})
			go c.read(k, key, current, previous, now)
		}
		reading := k.reading
		c.mu.Unlock()
		select {
		case <-reading:
		case <-time.After(readWait):
		}
		c.mu.Lock()
		// (cleanup may have dropped the key meanwhile: it is not touched
		// yet. The view is k, which the read fills.)
		if now := c.keys[key]; now == nil {
			c.keys[key] = k
		} else {
			k = now
		}
	}
	c.touched[key] = struct{}{}
	cur, prev := k.count(cs), k.count(ps)
	c.mu.Unlock()
	c.start()
	return cur, prev, nil
}

// readWait is the longest a request waits for its caller's counts to be
// read from the table.
var readWait = 100 * time.Millisecond

// read reads k's counts (key's) from the table into this replica's view.
func (c *syncedCounter) read(k *keyState, key string, current, previous time.Time, now int64) {
	cur, prev, err := c.table.Get(key, current, previous)
	c.mu.Lock()
	defer c.mu.Unlock()
	defer func() { close(k.reading); k.reading = nil }()
	if err != nil {
		c.warn("reading a caller's counters", err) // this replica's view decides until the table answers
		return
	}
	if s := k.add(previous.UnixMilli()); s != nil {
		s.synced = prev
	}
	if s := k.add(current.UnixMilli()); s != nil {
		s.synced = cur
	}
	k.fresh = now
}

// start runs the background loop unless it is running.
func (c *syncedCounter) start() {
	if !c.running.Load() && c.running.CompareAndSwap(false, true) {
		go c.loop()
	}
}

// loop syncs every c.every while requests come, and stops after idleSyncs
// syncs with nothing to do: an idle replica runs no statement.
func (c *syncedCounter) loop() {
	t := time.NewTicker(c.every)
	defer t.Stop()
	idle := 0
	for range t.C {
		if c.Sync(context.Background()) > 0 {
			idle = 0
			continue
		}
		if idle++; idle < idleSyncs {
			continue
		}
		c.running.Store(false)
		c.mu.Lock()
		more := len(c.touched) > 0
		c.mu.Unlock()
		// A request between the Store and the check started its own loop
		// or left work for this one.
		if !more || !c.running.CompareAndSwap(false, true) {
			return
		}
		idle = 0
	}
}

type counterRow struct {
	key   string
	start int64
	count int
}

// Sync reconciles this replica's view with the table: it adds the counts
// admitted since the last sync, then reads the totals of every key seen
// since then. It returns how many keys it synced. A failed write keeps the
// counts pending, to be added at the sync after the caller's next request;
// meanwhile the replica goes on counting in its view (the limit then holds
// per replica) and logs a warning.
func (c *syncedCounter) Sync(ctx context.Context) int {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	now := c.now()
	if c.window > 0 {
		c.cleanup(now)
	}

	c.mu.Lock()
	if len(c.touched) == 0 {
		c.mu.Unlock()
		return 0
	}
	keys := make([]string, 0, len(c.touched))
	var adds []counterRow
	for key := range c.touched {
		k := c.keys[key]
		if k == nil { // (not expected: a touched key is kept; a sync must not end the process)
			continue
		}
		keys = append(keys, key)
		for i := range k.s {
			if s := &k.s[i]; s.pending > 0 {
				adds = append(adds, counterRow{key, s.start, s.pending})
				s.inflight, s.pending = s.pending, 0
			}
		}
	}
	clear(c.touched)
	c.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, 2*dbTimeout)
	defer cancel()
	if err := c.table.add(ctx, adds); err != nil {
		c.warn("adding to the counters", err)
		c.settle(keys, nil, func(s *slot) { s.pending += s.inflight }, 0)
		return len(keys)
	}
	var totals map[counterRow]int
	var oldest int64
	if c.window > 0 {
		oldest = now.Add(-c.window).Truncate(c.window).UnixMilli()
	}
	totals, err := c.table.totals(ctx, keys, oldest)
	if err != nil {
		c.warn("reading the counters", err)
		c.settle(keys, nil, func(s *slot) { s.synced += s.inflight }, 0)
		return len(keys)
	}
	c.settle(keys, totals, nil, now.UnixNano())
	return len(keys)
}

// settle ends a sync: with totals, every slot of keys takes the table's
// count as of read (Unix ns); otherwise fail decides what becomes of the
// in-flight counts.
func (c *syncedCounter) settle(keys []string, totals map[counterRow]int, fail func(*slot), read int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, key := range keys {
		k := c.keys[key]
		if k == nil { // (dropped by cleanup during the sync)
			continue
		}
		if fail == nil {
			k.fresh = read
		}
		for i := range k.s {
			s := &k.s[i]
			if s.start == 0 {
				continue
			}
			if fail != nil {
				// Not touched again: the counts wait in the view for the
				// caller's next request, so an idle replica stops trying.
				fail(s)
			} else {
				s.synced = totals[counterRow{key: key, start: s.start}]
			}
			s.inflight = 0
		}
	}
}

// cleanup runs once per window: it deletes the table's windows older than
// the previous one and forgets the keys nobody used since then.
func (c *syncedCounter) cleanup(now time.Time) {
	start := now.Truncate(c.window).UnixMilli()
	if start <= c.lastCleanup {
		return
	}
	c.lastCleanup = start
	prev := now.Add(-c.window).Truncate(c.window).UnixMilli()
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	if _, err := c.table.db.ExecContext(ctx, c.table.cleanup, prev); err != nil {
		c.warn("deleting old windows", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for key, k := range c.keys {
		if _, busy := c.touched[key]; !busy && k.reading == nil && k.s[0].start < prev && k.s[1].start < prev {
			delete(c.keys, key)
		}
	}
}

// add adds rows to the table (in one statement, or in one transaction when
// they need several), in key order so that replicas adding the same keys at
// once lock them in the same order.
func (t *dbCounter) add(ctx context.Context, rows []counterRow) error {
	if len(rows) == 0 {
		return nil
	}
	slices.SortFunc(rows, func(a, b counterRow) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return int(a.start - b.start)
	})
	// One statement is atomic on its own; more go in one transaction.
	var exec interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	} = t.db
	var tx *sql.Tx
	if len(rows) > batchRows {
		var err error
		if tx, err = t.db.BeginTx(ctx, nil); err != nil {
			return err
		}
		defer func() { _ = tx.Rollback() }()
		exec = tx
	}
	for chunk := range slices.Chunk(rows, batchRows) {
		var q strings.Builder
		q.WriteString(`INSERT INTO rate_limit_counters (key, window_start, count) VALUES `)
		args := make([]any, 0, 3*len(chunk))
		for i, r := range chunk {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString(t.placeholders(len(args), 3))
			args = append(args, r.key, r.start, r.count)
		}
		q.WriteString(` ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limit_counters.count + excluded.count`)
		if _, err := exec.ExecContext(ctx, q.String(), args...); err != nil {
			return err
		}
	}
	if tx != nil {
		return tx.Commit()
	}
	return nil
}

// totals reads the counts of keys in the windows from oldest on.
func (t *dbCounter) totals(ctx context.Context, keys []string, oldest int64) (map[counterRow]int, error) {
	out := make(map[counterRow]int, len(keys))
	for chunk := range slices.Chunk(keys, batchRows) {
		args := make([]any, 0, len(chunk)+1)
		for _, k := range chunk {
			args = append(args, k)
		}
		args = append(args, oldest)
		in := t.placeholders(0, len(chunk))
		q := `SELECT key, window_start, count FROM rate_limit_counters WHERE key IN ` + in +
			` AND window_start >= ` + t.placeholder(len(chunk)+1)
		rows, err := t.db.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var r counterRow
			var n int
			if err := rows.Scan(&r.key, &r.start, &n); err != nil {
				rows.Close()
				return nil, err
			}
			out[r] = n
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// placeholders is "(p1, …, pn)" for the parameters after the first skip.
func (t *dbCounter) placeholders(skip, n int) string {
	var b strings.Builder
	b.WriteByte('(')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(t.placeholder(skip + i + 1))
	}
	b.WriteByte(')')
	return b.String()
}

func (t *dbCounter) placeholder(n int) string {
	if t.dialect == dialect.Postgres {
		return fmt.Sprintf("$%d", n)
	}
	return "?"
}
