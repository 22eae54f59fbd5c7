package obp

import (
	"context"
	"net/http"
	"strconv"
	"strings"
)

// obpMaxLimit bounds one page of a list: the firehose's, and the lists OBP
// serves whole (OBP sets no bound; one request must not dump a whole bank).
const obpMaxLimit = 1000

// obpMaxCustomersWithAttributes bounds a page of the current user's
// customers, which carry all their attributes (up to 100 each, of up to
// 255 characters a name and a value): 1,000 of them made an answer of up
// to some 60 MB.
const obpMaxCustomersWithAttributes = 100

// obpPage is the paging a request asked for with limit and offset (or
// their obp_ aliases): the firehose's parameters (§3.2), which custgraph
// also takes on the lists OBP serves whole.
type obpPage struct {
	limit, offset int    // limit: 0 when not given
	max           int    // the largest limit, and the longest list answered whole
	what          string // what the list holds, for fits's refusal
	given         bool   // limit or offset was given
}

// paging reads limit and offset; a bad one is answered 400 OBP-10016
// chained with OBP-10025 (limit: 1 to obpMaxLimit) or OBP-10024 (offset:
// 0 or more), and paging returns false.
func (o *obpCall) paging() (obpPage, bool) { return o.pagingUpTo(obpMaxLimit, "records") }

// pagingUpTo is paging with max for obpMaxLimit, of a list of what.
func (o *obpCall) pagingUpTo(max int, what string) (obpPage, bool) {
	bad := func(msg string) (obpPage, bool) {
		o.fail(http.StatusBadRequest, obpChain(strings.TrimSpace(obpInvalidFilter), msg))
		return obpPage{}, false
	}
	p := obpPage{max: max, what: what}
	if v, ok := obpParam(o.r, "limit"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return bad(obpLimit)
		}
		if n > max {
			return bad(obpLimit + " The largest limit is " + strconv.Itoa(max) + ".")
		}
		p.limit, p.given = n, true
	}
	if v, ok := obpParam(o.r, "offset"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return bad(obpOffset)
		}
		p.offset, p.given = n, true
	}
	return p, true
}

// paged is an ent query that pages (every ent query type).
type paged[Q any] interface {
	Limit(int) Q
	Offset(int) Q
}

// wholeList bounds q, a list that OBP serves whole (a customer's addresses
// or messages, a bank's CRM events), by the paging p the request asked
// for (o.paging, read after OBP's own checks, as the firehose reads its
// parameters): without limit and offset the whole list is read, but no
// more than one row past p.max, which fits then refuses; with them, the
// page they name (limit defaults to p.max).
func wholeList[Q paged[Q]](p obpPage, q Q) Q {
	if !p.given {
		return q.Limit(p.max + 1)
	}
	limit := p.limit
	if limit == 0 {
		limit = p.max
	}
	return q.Limit(limit).Offset(p.offset)
}

// fits refuses a list read whole (wholeList) that holds more than p.max
// records: 400 OBP-10016 asking for pages, rather than an answer of any
// size or a list cut short without saying so.
func (o *obpCall) fits(p obpPage, n int) bool {
	if !p.given && n > p.max {
		return o.fail(http.StatusBadRequest, obpChain(strings.TrimSpace(obpInvalidFilter),
			"This list holds more than "+strconv.Itoa(p.max)+" "+p.what+": ask for it in pages, with limit (at most "+
				strconv.Itoa(p.max)+") and offset."))
	}
	return true
}

// listQuery is an ent query of a list that OBP serves whole.
type listQuery[T, Q any] interface {
	paged[Q]
	All(context.Context) ([]T, error)
}

// readWhole reads a list that OBP serves whole (a customer's addresses or
// messages, a bank's CRM events): the paging the request asked for, then
// the list (readPage). false: the request is answered.
func readWhole[T any, Q listQuery[T, Q]](o *obpCall, q Q) ([]T, bool) {
	page, ok := o.paging()
	if !ok {
		return nil, false
	}
	return readPage[T](o, page, q)
}

// readPage reads q bounded by page (wholeList), and refuses a list read
// whole that is too long (fits). false: the request is answered.
func readPage[T any, Q listQuery[T, Q]](o *obpCall, page obpPage, q Q) ([]T, bool) {
	rows, err := wholeList(page, q).All(o.ctx)
	if err != nil {
		o.err(err, "")
		return nil, false
	}
	if !o.fits(page, len(rows)) {
		return nil, false
	}
	return rows, true
}
