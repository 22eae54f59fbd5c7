// Command floor is the reference of the peer benchmark (bench/peer/run.sh): the
// least a Go server can do to answer the benchmark's operations from custgraph's
// own tables — net/http + a pgx pool + encoding/json, fixed SQL per operation, one
// pipelined pgx batch (one round trip) per request, no GraphQL parsing, no
// authentication, no access rules. It answers in custgraph's JSON shape (Relay
// edges/node, also for the nested products and addresses; "" for NULL strings;
// RFC 3339 timestamps) so the benchmark can check that it returns the same data.
// It reads the POSTed body (the same bodies custgraph gets) and dispatches on
// "operationName" (Q1, Q2, Q3, Q4a, Q4b).
//
// It is its own Go module so that the main module's go vet/go test do not see it:
//
//	cd bench/peer/floor && DATABASE_URL=postgres://… ADDR=127.0.0.1:5679 PG_POOL_MAX=10 go run .
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ---- response shapes (field names and order follow custgraph's response) ----

type Product struct {
	ID          string    `json:"id"`
	ProductCode string    `json:"productCode"`
	ProductType string    `json:"productType"`
	Currency    string    `json:"currency"`
	Status      string    `json:"status"`
	CreatedAt   time.Time `json:"createdAt"`
}

type Address struct {
	ID          string `json:"id"`
	Line1       string `json:"line1"`
	Line2       string `json:"line2"`
	City        string `json:"city"`
	Postcode    string `json:"postcode"`
	CountryCode string `json:"countryCode"`
}

type ProductEdge struct {
	Node Product `json:"node"`
}
type AddressEdge struct {
	Node Address `json:"node"`
}
type ProductConn struct {
	Edges []ProductEdge `json:"edges"`
}
type AddressConn struct {
	Edges []AddressEdge `json:"edges"`
}

type Customer struct {
	ID                string       `json:"id"`
	CustomerNumber    string       `json:"customerNumber"`
	LegalName         string       `json:"legalName"`
	FirstName         string       `json:"firstName"`
	LastName          string       `json:"lastName"`
	Email             string       `json:"email"`
	MobilePhoneNumber string       `json:"mobilePhoneNumber"`
	Labels            []string     `json:"labels"`
	CustomerStatus    string       `json:"customerStatus"`
	CreatedAt         time.Time    `json:"createdAt"`
	Products          *ProductConn `json:"products,omitempty"`
	Addresses         *AddressConn `json:"addresses,omitempty"`

	id [16]byte // for grouping children
}

type Edge struct {
	Cursor string    `json:"cursor"`
	Node   *Customer `json:"node"`
}

type PageInfo struct {
	HasNextPage     bool    `json:"hasNextPage"`
	HasPreviousPage bool    `json:"hasPreviousPage"`
	StartCursor     *string `json:"startCursor"`
	EndCursor       *string `json:"endCursor"`
}

type Connection struct {
	TotalCount *int64   `json:"totalCount,omitempty"`
	PageInfo   PageInfo `json:"pageInfo"`
	Edges      []Edge   `json:"edges"`
}

type request struct {
	OperationName string `json:"operationName"`
	Variables     struct {
		ID     string `json:"id"`
		After  string `json:"after"`
		Label  string `json:"label"`
		Status string `json:"status"`
	} `json:"variables"`
}

// ---- SQL (custgraph's tables) ----

const customerCols = `c.id, c.customer_number, c.legal_name, c.first_name, c.last_name, c.email, c.mobile_phone_number, c.labels, c.customer_status, c.created_at`

const (
	pageSize = 20

	sqlCountAll = `SELECT count(*) FROM customers`

	// Q1: first page. 21 rows are read so hasNextPage needs no extra query.
	sqlQ1Page = `SELECT ` + customerCols + ` FROM customers c ORDER BY c.created_at, c.id LIMIT 21`
	sqlQ1Kids = `(SELECT id FROM customers ORDER BY created_at, id LIMIT 20)`

	// Q3: keyset page after (created_at, id).
	sqlQ3Page = `SELECT ` + customerCols + ` FROM customers c WHERE (c.created_at, c.id) > ($1, $2) ORDER BY c.created_at, c.id LIMIT 21`
	sqlQ3Kids = `(SELECT id FROM customers WHERE (created_at, id) > ($1, $2) ORDER BY created_at, id LIMIT 20)`

	// Children in custgraph's default order (created_at, id).
	sqlProductsOf  = `SELECT p.customer_id, p.id, p.product_code, p.product_type, p.currency, p.status, p.created_at FROM products p WHERE p.customer_id IN `
	sqlAddressesOf = `SELECT a.customer_id, a.id, a.line_1, a.line_2, a.city, a.postcode, a.country_code FROM addresses a WHERE a.customer_id IN `
	sqlProductsOrd = ` ORDER BY p.customer_id, p.created_at, p.id`
	sqlAddrOrd     = ` ORDER BY a.customer_id, a.created_at, a.id`

	// Q2: one customer by id with products.
	sqlQ2Customer = `SELECT ` + customerCols + ` FROM customers c WHERE c.id = $1`
	sqlQ2Products = `SELECT p.customer_id, p.id, p.product_code, p.product_type, p.currency, p.status, p.created_at FROM products p WHERE p.customer_id = $1 ORDER BY p.created_at, p.id`

	// Q4a: label filter (jsonb containment, GIN), Q4b: status filter (btree).
	sqlQ4aPage  = `SELECT ` + customerCols + ` FROM customers c WHERE c.labels @> $1::jsonb ORDER BY c.created_at, c.id LIMIT 21`
	sqlQ4aCount = `SELECT count(*) FROM customers WHERE labels @> $1::jsonb`
	sqlQ4bPage  = `SELECT ` + customerCols + ` FROM customers c WHERE c.customer_status = $1 ORDER BY c.created_at, c.id LIMIT 21`
	sqlQ4bCount = `SELECT count(*) FROM customers WHERE customer_status = $1`
)

var pool *pgxpool.Pool

func main() {
	dsn := os.Getenv("DATABASE_URL")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:55433/custgraph"
	}
	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = "127.0.0.1:5679"
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		log.Fatal(err)
	}
	cfg.MaxConns = 10
	if v, err := strconv.Atoi(os.Getenv("PG_POOL_MAX")); err == nil && v > 0 {
		cfg.MaxConns = int32(v)
	}
	pool, err = pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	if err := pool.Ping(context.Background()); err != nil {
		log.Fatal(err)
	}
	http.HandleFunc("/query", handle)
	http.HandleFunc("/graphql", handle)
	log.Printf("floor listening on http://%s/query (pool max %d)", addr, cfg.MaxConns)
	log.Fatal(http.ListenAndServe(addr, nil))
}

func handle(w http.ResponseWriter, r *http.Request) {
	var req request
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	// Finish in-flight queries even if the client goes away: a cancelled pgx query
	// closes its pool connection, which would churn backends whenever wrk stops.
	ctx := context.WithoutCancel(r.Context())
	var (
		field string
		out   any
		err   error
	)
	switch req.OperationName {
	case "Q1":
		field = "customers"
		out, err = listPage(ctx, sqlQ1Page, sqlCountAll, sqlQ1Kids, nil, nil, true, false)
	case "Q2":
		field = "node"
		out, err = customerByID(ctx, req.Variables.ID)
	case "Q3":
		field = "customers"
		var ts time.Time
		var id pgtype.UUID
		ts, id, err = decodeCursor(req.Variables.After)
		if err == nil {
			out, err = listPage(ctx, sqlQ3Page, "", sqlQ3Kids, []any{ts, id}, nil, true, true)
		}
	case "Q4a":
		field = "customers"
		lbl, _ := json.Marshal([]string{req.Variables.Label})
		out, err = listPage(ctx, sqlQ4aPage, sqlQ4aCount, "", []any{string(lbl)}, []any{string(lbl)}, false, false)
	case "Q4b":
		field = "customers"
		out, err = listPage(ctx, sqlQ4bPage, sqlQ4bCount, "", []any{req.Variables.Status}, []any{req.Variables.Status}, false, false)
	default:
		http.Error(w, "unknown operationName", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"message": err.Error()}}})
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{field: out}})
}

// listPage runs, in ONE pipelined round trip (pgx.Batch): the page query (limit 21),
// optionally the count query, and optionally the products and addresses of the
// page's first 20 customers (the page subquery is repeated inside those queries so
// no second round trip is needed). hasPreviousPage is true after a cursor, as
// custgraph (entgql) answers.
func listPage(ctx context.Context, pageSQL, countSQL, kidsSub string, pageArgs, countArgs []any, withKids, afterCursor bool) (*Connection, error) {
	b := &pgx.Batch{}
	b.Queue(pageSQL, pageArgs...)
	if countSQL != "" {
		b.Queue(countSQL, countArgs...)
	}
	if withKids && kidsSub != "" {
		b.Queue(sqlProductsOf+kidsSub+sqlProductsOrd, pageArgs...)
		b.Queue(sqlAddressesOf+kidsSub+sqlAddrOrd, pageArgs...)
	}
	br := pool.SendBatch(ctx, b)
	defer br.Close()

	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	customers, err := scanCustomers(rows)
	if err != nil {
		return nil, err
	}
	conn := &Connection{Edges: make([]Edge, 0, pageSize)}
	conn.PageInfo.HasPreviousPage = afterCursor
	if len(customers) > pageSize {
		conn.PageInfo.HasNextPage = true
		customers = customers[:pageSize]
	}
	if countSQL != "" {
		var n int64
		if err := br.QueryRow().Scan(&n); err != nil {
			return nil, err
		}
		conn.TotalCount = &n
	}
	if withKids {
		byID := make(map[[16]byte]*Customer, len(customers))
		for _, c := range customers {
			c.Products = &ProductConn{Edges: []ProductEdge{}}
			c.Addresses = &AddressConn{Edges: []AddressEdge{}}
			byID[c.id] = c
		}
		if kidsSub != "" {
			if err := scanProducts(br, byID); err != nil {
				return nil, err
			}
			if err := scanAddresses(br, byID); err != nil {
				return nil, err
			}
		}
	}
	for _, c := range customers {
		conn.Edges = append(conn.Edges, Edge{Cursor: encodeCursor(c.CreatedAt, c.ID), Node: c})
	}
	if n := len(conn.Edges); n > 0 {
		conn.PageInfo.StartCursor = &conn.Edges[0].Cursor
		conn.PageInfo.EndCursor = &conn.Edges[n-1].Cursor
	}
	return conn, br.Close()
}

func customerByID(ctx context.Context, id string) (*Customer, error) {
	var uid pgtype.UUID
	if err := uid.Scan(id); err != nil {
		return nil, err
	}
	b := &pgx.Batch{}
	b.Queue(sqlQ2Customer, uid)
	b.Queue(sqlQ2Products, uid)
	br := pool.SendBatch(ctx, b)
	defer br.Close()
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	cs, err := scanCustomers(rows)
	if err != nil || len(cs) == 0 {
		return nil, err
	}
	c := cs[0]
	c.Products = &ProductConn{Edges: []ProductEdge{}}
	if err := scanProducts(br, map[[16]byte]*Customer{c.id: c}); err != nil {
		return nil, err
	}
	return c, br.Close()
}

func scanCustomers(rows pgx.Rows) ([]*Customer, error) {
	defer rows.Close()
	out := make([]*Customer, 0, pageSize+1)
	for rows.Next() {
		c := &Customer{}
		var id pgtype.UUID
		var num, legal, first, last, email, phone pgtype.Text
		if err := rows.Scan(&id, &num, &legal, &first, &last, &email, &phone, &c.Labels, &c.CustomerStatus, &c.CreatedAt); err != nil {
			return nil, err
		}
		c.id = id.Bytes
		c.ID = uuidString(id.Bytes)
		c.CustomerNumber, c.LegalName, c.FirstName = num.String, legal.String, first.String
		c.LastName, c.Email, c.MobilePhoneNumber = last.String, email.String, phone.String
		c.CreatedAt = c.CreatedAt.UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

func scanProducts(br pgx.BatchResults, byID map[[16]byte]*Customer) error {
	rows, err := br.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var cid, id pgtype.UUID
		var p Product
		var cur pgtype.Text
		if err := rows.Scan(&cid, &id, &p.ProductCode, &p.ProductType, &cur, &p.Status, &p.CreatedAt); err != nil {
			return err
		}
		p.ID = uuidString(id.Bytes)
		p.Currency = cur.String
		p.CreatedAt = p.CreatedAt.UTC()
		if c := byID[cid.Bytes]; c != nil {
			c.Products.Edges = append(c.Products.Edges, ProductEdge{Node: p})
		}
	}
	return rows.Err()
}

func scanAddresses(br pgx.BatchResults, byID map[[16]byte]*Customer) error {
	rows, err := br.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var cid, id pgtype.UUID
		var l1, l2, city, pc, cc pgtype.Text
		if err := rows.Scan(&cid, &id, &l1, &l2, &city, &pc, &cc); err != nil {
			return err
		}
		a := Address{ID: uuidString(id.Bytes), Line1: l1.String, Line2: l2.String, City: city.String, Postcode: pc.String, CountryCode: cc.String}
		if c := byID[cid.Bytes]; c != nil {
			c.Addresses.Edges = append(c.Addresses.Edges, AddressEdge{Node: a})
		}
	}
	return rows.Err()
}

// Cursor: base64(JSON ["<created_at RFC3339Nano>","<uuid>"]).
func encodeCursor(t time.Time, id string) string {
	b, _ := json.Marshal([2]string{t.UTC().Format(time.RFC3339Nano), id})
	return base64.StdEncoding.EncodeToString(b)
}

func decodeCursor(s string) (time.Time, pgtype.UUID, error) {
	var parts [2]string
	var id pgtype.UUID
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, id, err
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return time.Time{}, id, err
	}
	t, err := time.Parse(time.RFC3339Nano, parts[0])
	if err != nil {
		return time.Time{}, id, err
	}
	if err := id.Scan(parts[1]); err != nil {
		return time.Time{}, id, err
	}
	if !id.Valid {
		return time.Time{}, id, errors.New("bad cursor")
	}
	return t, id, nil
}

func uuidString(u [16]byte) string {
	const hx = "0123456789abcdef"
	var b [36]byte
	j := 0
	for i, v := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j] = hx[v>>4]
		b[j+1] = hx[v&0xf]
		j += 2
	}
	return string(b[:])
}
