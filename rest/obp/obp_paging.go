package obp

import (
	"net/http"
	"strconv"
	"strings"
)

// obpMaxLimit bounds one page of the firehose (OBP sets no bound; one
// request must not dump a whole bank: page with offset).
const obpMaxLimit = 1000

// obpPage is the paging a request asked for with limit and offset (or
// their obp_ aliases): the firehose's parameters (§3.2).
type obpPage struct {
	limit, offset int
	limited       bool // limit was given
	given         bool // limit or offset was given
}

// paging reads limit and offset; a bad one is answered 400 OBP-10016
// chained with OBP-10025 (limit: 1 to obpMaxLimit) or OBP-10024 (offset:
// 0 or more), and paging returns false.
func (o *obpCall) paging() (obpPage, bool) {
	bad := func(msg string) (obpPage, bool) {
		o.fail(http.StatusBadRequest, obpChain(strings.TrimSpace(obpInvalidFilter), msg))
		return obpPage{}, false
	}
	var p obpPage
	if v, ok := obpParam(o.r, "limit"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return bad(obpLimit)
		}
		if n > obpMaxLimit {
			return bad(obpLimit + " The largest limit is " + strconv.Itoa(obpMaxLimit) + ".")
		}
		p.limit, p.limited, p.given = n, true, true
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
