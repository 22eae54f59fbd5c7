package tradevest

import (
	"net/http"
	"strconv"

	"custgraph/internal/changes"
	"custgraph/rest/restcore"
)

// The partner change feed: GET /entities-changelog, the change stream
// (internal/changes) a page at a time in Tradevest's list envelope. A
// partner keeps pagination.cursor and asks again with it: it gets every
// change committed since, in order, exactly once, whichever door made it,
// of the records it may read (the entity's read role at its bank; a
// partner bound to a bank sees that bank's only). Without a cursor the
// feed starts at the beginning of the stream, which keeps everything (the
// audit trail is never deleted).

// tvChange is one entry of the feed.
type tvChange struct {
	Cursor        string   `json:"cursor"`
	Operation     string   `json:"operation"`
	EntityType    string   `json:"entityType"`
	EntityID      string   `json:"entityId"`
	BankID        *string  `json:"bankId"`
	CustomerID    *string  `json:"customerId"`
	ChangedFields []string `json:"changedFields"`
	ActorKind     string   `json:"actorKind"`
	ChangedOn     string   `json:"changedOn"`
}

// tvChangePage is the feed's page. Unlike a list's, its cursor is always
// set: the position to ask from next, the one given when nothing is new.
type tvChangePage struct {
	Data       []tvChange   `json:"data"`
	Pagination tvPagination `json:"pagination"`
}

// tvChangelog is GET /entities-changelog.
func (a *api) tvChangelog(w http.ResponseWriter, r *http.Request) {
	if a.tvViewer(w, r) == nil {
		return
	}
	limit := tvDefaultLimit
	if s, ok, err := tvQuery(r, "limit"); err != nil {
		a.tvWriteErr(w, r, err)
		return
	} else if ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > tvMaxLimit {
			a.tvWriteErr(w, r, tvBad("limit", tvCodeInvalid, "limit must be a whole number from 1 to %d, not %q", tvMaxLimit, s))
			return
		}
		limit = n
	}
	var after changes.Cursor
	if s, ok, err := tvQuery(r, "cursor"); err != nil {
		a.tvWriteErr(w, r, err)
		return
	} else if ok {
		if after, err = changes.ParseCursor(s); err != nil {
			a.tvWriteErr(w, r, tvBad("cursor", tvCodeInvalid, "not a cursor of the change feed; pass pagination.cursor of the previous page as it is"))
			return
		}
	}
	var f changes.Filter
	if s, ok, err := tvQuery(r, "entityType"); err != nil {
		a.tvWriteErr(w, r, err)
		return
	} else if ok {
		f.EntityTypes = []string{s}
	}
	if err := f.Check("entityType"); err != nil {
		a.tvWriteErr(w, r, err)
		return
	}
	page, err := changes.Since(r.Context(), a.Client, after, f, limit)
	if err != nil {
		a.tvWriteErr(w, r, err)
		return
	}
	next := page.Next.String()
	out := tvChangePage{Data: make([]tvChange, len(page.Events)), Pagination: tvPagination{Cursor: &next, Limit: limit}}
	for i, e := range page.Events {
		out.Data[i] = tvChange{
			Cursor: e.Cursor.String(), Operation: e.Op, EntityType: e.EntityType, EntityID: e.EntityID.String(),
			ChangedFields: e.Fields, ActorKind: e.ActorKind, ChangedOn: restcore.Stamp(e.At),
		}
		if e.BankID != nil {
			s := e.BankID.String()
			out.Data[i].BankID = &s
		}
		if e.CustomerID != nil {
			s := e.CustomerID.String()
			out.Data[i].CustomerID = &s
		}
	}
	restcore.WriteJSON(w, http.StatusOK, out)
}
