package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"custgraph/ent"
	"custgraph/ent/address"
	"custgraph/ent/apiclient"
	"custgraph/ent/bank"
	"custgraph/ent/customer"
	"custgraph/ent/product"
	"custgraph/ent/user"
	"custgraph/internal/access"
	"custgraph/internal/admin"
	"custgraph/internal/authn"
	"custgraph/internal/store"
	"custgraph/internal/testdb"
	"custgraph/internal/validate"
)

// openDB returns a fresh database: in-memory SQLite, or a new PostgreSQL
// database when TEST_DATABASE_URL is set (see internal/testdb).
func openDB(t *testing.T) *ent.Client {
	t.Helper()
	if testdb.Name() == "postgres" {
		db, _ := testdb.Open(t)
		return db.Client
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	db, err := store.Open(access.System(context.Background()), "file:demo_"+hex.EncodeToString(b)+"?mode=memory&cache=shared", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db.Client
}

func TestLoad(t *testing.T) {
	ctx := access.System(context.Background())
	client := openDB(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	const n = 200

	start := time.Now()
	if err := Load(ctx, client, Options{Customers: n, Logger: log}); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: loaded %d generated customers in %v", testdb.Name(), n, time.Since(start))
	if !strings.Contains(logs.String(), "demo data loaded") {
		t.Errorf("no load summary logged: %s", logs.String())
	}

	// What the generator planned, plus the seed customer's records.
	people := generate(n)
	wantCodes := map[product.ProductCode]int{}
	wantAddresses, wantSecond := 2, 0
	for _, p := range people {
		for _, pr := range p.Products {
			wantCodes[pr.Code]++
		}
		wantAddresses += len(p.Addresses)
		if p.SecondBank {
			wantSecond++
		}
	}
	for _, c := range productCodes {
		wantCodes[c]++ // one of each for Eveline
	}
	if wantSecond == 0 || wantSecond == n {
		t.Fatalf("both banks should get generated customers, second bank has %d of %d", wantSecond, n)
	}

	check := func(stage string) {
		t.Helper()
		if got := client.Bank.Query().CountX(ctx); got != 2 {
			t.Errorf("%s: %d banks, want 2", stage, got)
		}
		if got := client.Customer.Query().CountX(ctx); got != n+1 {
			t.Errorf("%s: %d customers, want %d", stage, got, n+1)
		}
		if got := client.Customer.Query().Where(customer.HasBankWith(bank.Code(SecondBankCode))).CountX(ctx); got != wantSecond {
			t.Errorf("%s: %d customers at %s, want %d", stage, got, SecondBankCode, wantSecond)
		}
		for _, code := range productCodes {
			if got := client.Product.Query().Where(product.ProductCodeEQ(code)).CountX(ctx); got != wantCodes[code] {
				t.Errorf("%s: %d %s products, want %d", stage, got, code, wantCodes[code])
			}
		}
		if got := client.Address.Query().CountX(ctx); got != wantAddresses {
			t.Errorf("%s: %d addresses, want %d", stage, got, wantAddresses)
		}
		for _, q := range []struct {
			name string
			got  int
		}{
			{"user links", client.UserCustomerLink.Query().CountX(ctx)},
			{"tax residences", client.TaxResidence.Query().CountX(ctx)},
			{"social handles", client.SocialHandle.Query().CountX(ctx)},
			{"attributes", client.CustomerAttribute.Query().CountX(ctx)},
			{"messages", client.CustomerMessage.Query().CountX(ctx)},
			{"CRM events", client.CrmEvent.Query().CountX(ctx)},
		} {
			if q.got != 1 {
				t.Errorf("%s: %d %s, want 1", stage, q.got, q.name)
			}
		}
	}
	check("first load")
	checkCallers(t, client)

	// Eveline Tripman, as the seed documents show her.
	eve := client.Customer.Query().
		Where(customer.CustomerNumber(SeedCustomerNumber), customer.HasBankWith(bank.Code(BankCode))).
		WithBank().WithProducts().WithAddresses().WithAttributes().WithTaxResidences().
		WithSocialHandles().WithMessages().WithUserLinks().WithCrmEvents().
		OnlyX(ctx)
	str := func(field, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("Eveline's %s = %q, want %q", field, got, want)
		}
	}
	str("bank name", eve.Edges.Bank.Name, BankName)
	str("legal_name", eve.LegalName, "Eveline Tripman")
	str("mobile_phone_number", eve.MobilePhoneNumber, "+44 07972 444 876")
	str("email", eve.Email, "felixsmith@example.com")
	str("relationship_status", eve.RelationshipStatus, "single")
	str("credit_rating", eve.CreditRating, "OBP")
	str("credit_source", eve.CreditSource, "OBP")
	str("credit_limit_currency", eve.CreditLimitCurrency, "EUR")
	str("highest_education_attained", eve.HighestEducationAttained, "Master")
	str("employment_status", eve.EmploymentStatus, "worker")
	str("title", eve.Title, "Dr.")
	str("branch_id", eve.BranchID, "DERBY6")
	str("name_suffix", eve.NameSuffix, "Sr")
	str("face_image_url", eve.FaceImageURL, "http://www.example.com/id-docs/123/image.png")
	if eve.CreditLimitAmount == nil || !eve.CreditLimitAmount.Decimal.Equal(decimal.Zero) {
		t.Errorf("credit_limit_amount = %v, want 0", eve.CreditLimitAmount)
	}
	if eve.Dependants != 1 || len(eve.DobOfDependants) != 1 || !eve.DobOfDependants[0].Equal(day(2019, 9, 8)) {
		t.Errorf("dependants = %d %v, want 1 [2019-09-08]", eve.Dependants, eve.DobOfDependants)
	}
	if eve.DateOfBirth == nil || !eve.DateOfBirth.Equal(day(2018, 3, 9)) {
		t.Errorf("date_of_birth = %v", eve.DateOfBirth)
	}
	if eve.LastOkDate == nil || !eve.LastOkDate.Equal(time.Date(2023, 9, 16, 11, 32, 33, 422e6, time.UTC)) {
		t.Errorf("last_ok_date = %v", eve.LastOkDate)
	}
	if eve.KycStatus {
		t.Error("kyc_status = true, want false")
	}
	if eve.EntityID == nil || eve.EntityType == nil || *eve.EntityType != customer.EntityTypeNATURAL_PERSON {
		t.Errorf("entity = %v %v, want an id and NATURAL_PERSON", eve.EntityID, eve.EntityType)
	}
	if len(eve.Labels) == 0 {
		t.Error("Eveline has no labels")
	}
	if len(eve.Edges.Products) != 4 {
		t.Errorf("Eveline has %d products, want 4", len(eve.Edges.Products))
	}
	for _, p := range eve.Edges.Products {
		if p.ProductCode == product.ProductCodeBALANCE_ACCOUNT {
			if p.Status != product.StatusACTIVE || p.OpenedOn == nil || p.Iban != SeedIBAN || p.Currency != "EUR" {
				t.Errorf("balance account = %s opened %v iban %q currency %q", p.Status, p.OpenedOn, p.Iban, p.Currency)
			}
		}
	}
	if len(eve.Edges.Addresses) != 2 || len(eve.Edges.Attributes) != 1 || len(eve.Edges.TaxResidences) != 1 ||
		len(eve.Edges.SocialHandles) != 1 || len(eve.Edges.Messages) != 1 || len(eve.Edges.UserLinks) != 1 ||
		len(eve.Edges.CrmEvents) != 1 {
		t.Errorf("Eveline's records: %d addresses, %d attributes, %d tax residences, %d handles, %d messages, %d links, %d CRM events",
			len(eve.Edges.Addresses), len(eve.Edges.Attributes), len(eve.Edges.TaxResidences), len(eve.Edges.SocialHandles),
			len(eve.Edges.Messages), len(eve.Edges.UserLinks), len(eve.Edges.CrmEvents))
	}
	if a := eve.Edges.Attributes; len(a) == 1 && (a[0].Name != "SPECIAL_TAX_NUMBER" || a[0].Type != "STRING" || a[0].Value != "123456789") {
		t.Errorf("attribute = %s %s %s", a[0].Name, a[0].Type, a[0].Value)
	}
	primary := client.Address.Query().Where(address.CustomerID(eve.ID), address.IsPrimary(true)).OnlyX(ctx)
	if primary.Line1 != "No 1 the Road" || primary.Line2 != "The Place" || primary.Line3 != "The Hill" ||
		primary.City != "Berlin" || primary.State != "Brandenburg" || primary.Postcode != "13359" ||
		primary.CountryCode != "DE" || primary.Status != "OK" || strings.Join(primary.Tags, ",") != "mailing,home" {
		t.Errorf("primary address = %+v", primary)
	}
	structured := client.Address.Query().Where(address.CustomerID(eve.ID), address.IsPrimary(false)).OnlyX(ctx)
	if structured.Premise == nil || *structured.Premise != 58 || structured.SubPremise != "A" ||
		structured.City != "Hoofddorp" || structured.State != "Noord-Holland" || structured.CountryCode != "NL" ||
		structured.Line1 != "Polarisavenue 58A" {
		t.Errorf("structured address = %+v", structured)
	}

	// Generated data is valid and varied.
	customers := client.Customer.Query().Where(customer.CustomerNumberNEQ(SeedCustomerNumber)).AllX(ctx)
	statuses := map[customer.CustomerStatus]bool{}
	for _, c := range customers {
		if err := validate.Phone(c.MobilePhoneNumber); err != nil || c.MobilePhoneNumber == "" {
			t.Errorf("%s: phone %q: %v", c.CustomerNumber, c.MobilePhoneNumber, err)
		}
		if err := validate.Email(c.Email); err != nil || c.Email == "" {
			t.Errorf("%s: email %q: %v", c.CustomerNumber, c.Email, err)
		}
		if err := validate.StringSet("label", c.Labels, validate.MaxLabels, validate.MaxLabelLength); err != nil {
			t.Errorf("%s: labels %q: %v", c.CustomerNumber, c.Labels, err)
		}
		if c.LegalName == "" || len(c.CustomerNumber) != 12 {
			t.Errorf("customer %q %q", c.CustomerNumber, c.LegalName)
		}
		statuses[c.CustomerStatus] = true
	}
	if len(statuses) < 4 {
		t.Errorf("only %d different customer statuses", len(statuses))
	}
	for _, p := range client.Product.Query().Where(product.IbanNEQ("")).AllX(ctx) {
		if err := validate.IBAN(p.Iban); err != nil {
			t.Errorf("IBAN %q: %v", p.Iban, err)
		}
	}
	for _, p := range client.Product.Query().Where(product.StatusEQ(product.StatusACTIVE)).AllX(ctx) {
		if p.OpenedOn == nil {
			t.Errorf("active product %s has no opened_on", p.ID)
		}
	}
	// At most one primary address per customer, and one for every customer with addresses.
	withAddr := client.Customer.Query().Where(customer.HasAddresses()).CountX(ctx)
	if got := client.Address.Query().Where(address.IsPrimary(true)).CountX(ctx); got != withAddr {
		t.Errorf("%d primary addresses for %d customers with addresses", got, withAddr)
	}

	// Idempotent: a second load writes nothing.
	logs.Reset()
	if err := Load(ctx, client, Options{Customers: n, Logger: log}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "already present") {
		t.Errorf("second load did not say the data was present: %s", logs.String())
	}
	check("second load")
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, b := generate(50), generate(50)
	for i := range a {
		if a[i].Number != b[i].Number || a[i].Email != b[i].Email || len(a[i].Products) != len(b[i].Products) {
			t.Fatalf("customer %d differs between runs", i)
		}
	}
	seen := map[string]bool{}
	for _, p := range generate(3000) {
		if seen[p.Number] {
			t.Fatalf("customer number %s generated twice", p.Number)
		}
		seen[p.Number] = true
	}
}

func TestIBAN(t *testing.T) {
	if got := iban("DE", "370400440532013000"); got != SeedIBAN {
		t.Errorf("iban = %s, want %s", got, SeedIBAN)
	}
}

// checkCallers: the demo callers exist with the documented credentials and
// entitlements (the README's examples depend on them).
func checkCallers(t *testing.T, client *ent.Client) {
	t.Helper()
	ctx := access.System(context.Background())
	for _, c := range []struct {
		id, secret string
		bank       string // code of the bank the client is bound to, "" for none
		roles      int
	}{
		{AdminClientID, AdminClientSecret, "", len(admin.AdminRoles())},
		{PartnerClientID, PartnerClientSecret, BankCode, len(access.BankRoles())},
		{SecondPartnerClientID, SecondPartnerClientSecret, SecondBankCode, len(access.BankRoles())},
		{ConsumerKey, ConsumerSecret, "", 0},
	} {
		cl, err := client.APIClient.Query().Where(apiclient.ClientID(c.id)).WithBank().WithEntitlements().Only(ctx)
		require.NoError(t, err, c.id)
		require.True(t, authn.CheckSecret(c.secret, cl.SecretHash), "%s: the documented secret", c.id)
		bank := ""
		if cl.Edges.Bank != nil {
			bank = cl.Edges.Bank.Code
		}
		require.Equal(t, c.bank, bank, "%s: bound bank", c.id)
		require.Len(t, cl.Edges.Entitlements, c.roles, "%s: entitlements", c.id)
	}
	for _, u := range []struct {
		name, password string
		roles          int
	}{{BankerUsername, BankerPassword, len(access.BankRoles())}, {"eveline.tripman", SeedUserPassword, 0}} {
		got, err := client.User.Query().Where(user.Username(u.name)).WithEntitlements().Only(ctx)
		require.NoError(t, err, u.name)
		require.True(t, authn.CheckSecret(u.password, got.PasswordHash), "%s: the documented password", u.name)
		require.Len(t, got.Edges.Entitlements, u.roles, "%s: entitlements", u.name)
	}
	require.Equal(t, 2, client.User.Query().CountX(ctx), "users")
}

// TestLoadRefusesARealDatabase: the demo callers' secrets are published, so
// demo data never goes into a database that already holds other banks.
func TestLoadRefusesARealDatabase(t *testing.T) {
	db, _ := testdb.Open(t)
	ctx := access.System(context.Background())
	db.Client.Bank.Create().SetCode("real.bank").SetName("Real").SaveX(ctx)
	err := Load(ctx, db.Client, Options{Customers: 1, Logger: slog.New(slog.DiscardHandler)})
	require.ErrorContains(t, err, "refusing to add demo callers")
	require.Zero(t, db.Client.APIClient.Query().CountX(ctx), "nothing loaded")
}
