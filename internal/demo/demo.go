// Package demo loads the example records of the seed documents and a few
// thousand generated customers, so a newcomer sees real-looking data at once.
//
// What Load writes, in one transaction:
//
//   - the bank gh.29.uk ("Test Bank") and a second tenant, at.02.0061
//     ("Demo Bank Austria");
//   - the seed documents' example customer, Eveline Tripman (customer number
//     5987953 at gh.29.uk), with her OBP address (primary), a structured
//     bankingservice.ai address in Hoofddorp, a tax residence, a social media
//     handle, the SPECIAL_TAX_NUMBER attribute, a message, a CRM event, one
//     product of every product code, a user and the user's link to her;
//   - Options.Customers generated customers (every tenth one at the Austrian
//     bank), each with 0–4 products and 0–2 addresses. The data is
//     deterministic: the same count always gives the same names, numbers,
//     statuses, labels, products and addresses (ids and timestamps differ).
package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"custgraph/ent"
	"custgraph/ent/bank"
	"custgraph/ent/customer"
	"custgraph/ent/customerattribute"
	"custgraph/ent/product"
	"custgraph/internal/access"
	"custgraph/internal/admin"
	"custgraph/internal/exact"
)

// Options of Load.
type Options struct {
	Customers int // generated customers besides the seed examples
	Logger    *slog.Logger
}

// Codes and names of the demo banks.
const (
	BankCode       = "gh.29.uk"
	BankName       = "Test Bank"
	SecondBankCode = "at.02.0061"
	SecondBankName = "Demo Bank Austria"
)

// Seed customer of the OBP documentation examples.
const (
	SeedCustomerNumber = "5987953"
	SeedLegalName      = "Eveline Tripman"
	SeedIBAN           = "DE89370400440532013000"
)

// batchSize is the number of rows per CreateBulk (one INSERT statement):
// 500 customers of ~35 columns stay under SQLite's and PostgreSQL's limits on
// bound parameters.
const batchSize = 500

// Load writes the demo data unless it is already there (idempotent: the
// presence of bank gh.29.uk means it was loaded).
func Load(ctx context.Context, client *ent.Client, o Options) error {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	if o.Customers < 0 {
		o.Customers = 0
	}
	ctx = access.SystemAs(ctx, "demo")
	start := time.Now()
	loaded, err := client.Bank.Query().Where(bank.Code(BankCode)).Exist(ctx)
	if err != nil {
		return fmt.Errorf("demo: looking for bank %s: %w", BankCode, err)
	}
	if loaded {
		log.InfoContext(ctx, "demo data already present: nothing loaded", "bank", BankCode)
		return nil
	}
	// The demo callers have well-known secrets: never next to real data.
	if n, err := client.Bank.Query().Count(ctx); err != nil || n > 0 {
		return errors.Join(err, fmt.Errorf("demo: the database already holds %d banks: refusing to add demo callers with published secrets to it", n))
	}
	tx, err := client.Tx(ctx)
	if err != nil {
		return fmt.Errorf("demo: starting the transaction: %w", err)
	}
	st, err := load(ctx, tx.Client(), o.Customers)
	if err != nil {
		_ = tx.Rollback()
		// Another replica may have loaded the demo data meanwhile: the
		// unique bank code made our transaction fail, and theirs stands.
		if ent.IsConstraintError(err) {
			if ok, qerr := client.Bank.Query().Where(bank.Code(BankCode)).Exist(ctx); qerr == nil && ok {
				log.InfoContext(ctx, "demo data loaded concurrently by another process", "bank", BankCode)
				return nil
			}
		}
		return fmt.Errorf("demo: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("demo: committing: %w", err)
	}
	log.InfoContext(ctx, "demo data loaded",
		"banks", st.banks, "customers", st.customers, "products", st.products,
		"addresses", st.addresses, "duration_ms", time.Since(start).Milliseconds())
	return nil
}

type stats struct{ banks, customers, products, addresses int }

func load(ctx context.Context, c *ent.Client, n int) (stats, error) {
	var st stats
	banks, err := c.Bank.CreateBulk(
		c.Bank.Create().SetCode(BankCode).SetName(BankName),
		c.Bank.Create().SetCode(SecondBankCode).SetName(SecondBankName),
	).Save(ctx)
	if err != nil {
		return st, fmt.Errorf("creating the banks: %w", err)
	}
	st.banks = len(banks)
	home, second := banks[0], banks[1]
	if err := callers(ctx, c, home, second); err != nil {
		return st, fmt.Errorf("creating the demo callers: %w", err)
	}
	if err := seedCustomer(ctx, c, home); err != nil {
		return st, fmt.Errorf("creating the seed customer: %w", err)
	}
	st.customers, st.products, st.addresses = 1, 4, 2

	people := generate(n)
	for lo := 0; lo < len(people); lo += batchSize {
		batch := people[lo:min(lo+batchSize, len(people))]
		custs := make([]*ent.CustomerCreate, len(batch))
		var prods []*ent.ProductCreate
		var addrs []*ent.AddressCreate
		for i := range batch {
			p := &batch[i]
			id := uuid.Must(uuid.NewV7())
			b := home
			if p.SecondBank {
				b = second
			}
			custs[i] = customerCreate(c, p).SetID(id).SetBankID(b.ID)
			for _, gp := range p.Products {
				prods = append(prods, productCreate(c, gp).SetCustomerID(id))
			}
			for _, ga := range p.Addresses {
				addrs = append(addrs, addressCreate(c, ga).SetCustomerID(id))
			}
		}
		if err := c.Customer.CreateBulk(custs...).Exec(ctx); err != nil {
			return st, fmt.Errorf("creating customers %d–%d: %w", lo+1, lo+len(batch), err)
		}
		for i := 0; i < len(prods); i += batchSize {
			if err := c.Product.CreateBulk(prods[i:min(i+batchSize, len(prods))]...).Exec(ctx); err != nil {
				return st, fmt.Errorf("creating products: %w", err)
			}
		}
		for i := 0; i < len(addrs); i += batchSize {
			if err := c.Address.CreateBulk(addrs[i:min(i+batchSize, len(addrs))]...).Exec(ctx); err != nil {
				return st, fmt.Errorf("creating addresses: %w", err)
			}
		}
		st.customers += len(custs)
		st.products += len(prods)
		st.addresses += len(addrs)
	}
	return st, nil
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// seedCustomer writes Eveline Tripman and her records as the OBP and
// bankingservice.ai documentation examples show them (the dates are those of
// the documented request bodies).
func seedCustomer(ctx context.Context, c *ent.Client, b *ent.Bank) error {
	eve, err := c.Customer.Create().
		SetBankID(b.ID).
		SetCustomerNumber(SeedCustomerNumber).
		SetLegalName(SeedLegalName).
		SetFirstName("Eveline").
		SetLastName("Tripman").
		SetMobilePhoneNumber("+44 07972 444 876").
		SetEmail("felixsmith@example.com").
		SetFaceImageURL("http://www.example.com/id-docs/123/image.png").
		SetFaceImageDate(day(2020, 1, 27)).
		SetDateOfBirth(day(2018, 3, 9)).
		SetRelationshipStatus("single").
		SetDependants(1).
		SetDobOfDependants([]time.Time{day(2019, 9, 8)}).
		SetCreditRating("OBP").
		SetCreditSource("OBP").
		SetCreditLimitCurrency("EUR").
		SetCreditLimitAmount(exact.New(decimal.Zero)).
		SetHighestEducationAttained("Master").
		SetEmploymentStatus("worker").
		SetKycStatus(false).
		SetLastOkDate(time.Date(2023, 9, 16, 11, 32, 33, 422_000_000, time.UTC)).
		SetTitle("Dr.").
		SetBranchID("DERBY6").
		SetNameSuffix("Sr").
		SetEntityID(uuid.MustParse("0190a1b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b")).
		SetEntityType(customer.EntityTypeNATURAL_PERSON).
		SetCustomerType(customer.CustomerTypeNATURAL_PERSON).
		SetCustomerStatus(customer.CustomerStatusACTIVE).
		SetLabels([]string{"obp-example", "vip"}).
		Save(ctx)
	if err != nil {
		return err
	}
	if err := c.Address.Create().
		SetCustomerID(eve.ID).
		SetLine1("No 1 the Road").SetLine2("The Place").SetLine3("The Hill").
		SetCity("Berlin").SetCounty("").SetState("Brandenburg").SetPostcode("13359").SetCountryCode("DE").
		SetTags([]string{"mailing", "home"}).SetStatus("OK").
		SetIsPrimary(true).
		Exec(ctx); err != nil {
		return fmt.Errorf("address: %w", err)
	}
	if err := c.Address.Create().
		SetCustomerID(eve.ID).
		SetPremise(58).SetSubPremise("A").SetBuilding("Polaris Avenue Offices").
		SetThoroughfare("Polarisavenue").SetPostcode("2132 JH").SetCity("Hoofddorp").
		SetState("Noord-Holland").SetCountryCode("NL").
		SetTags([]string{"work"}).SetStatus("OK").
		Exec(ctx); err != nil {
		return fmt.Errorf("structured address: %w", err)
	}
	if err := c.TaxResidence.Create().SetCustomerID(eve.ID).SetDomain("DE").SetTaxNumber("456").Exec(ctx); err != nil {
		return fmt.Errorf("tax residence: %w", err)
	}
	if err := c.SocialHandle.Create().SetCustomerID(eve.ID).SetType("twitter").SetHandle("@eveline_tripman").
		SetDateAdded(day(2020, 1, 27)).SetDateActivated(day(2020, 1, 28)).Exec(ctx); err != nil {
		return fmt.Errorf("social handle: %w", err)
	}
	if err := c.CustomerAttribute.Create().SetCustomerID(eve.ID).SetName("SPECIAL_TAX_NUMBER").
		SetType(customerattribute.TypeSTRING).SetValue("123456789").Exec(ctx); err != nil {
		return fmt.Errorf("attribute: %w", err)
	}
	if err := c.CustomerMessage.Create().SetCustomerID(eve.ID).
		SetMessage("Your one-time code is 123456").SetTransport("SMS").
		SetFromDepartment("Open Bank").SetFromPerson("Tom").Exec(ctx); err != nil {
		return fmt.Errorf("message: %w", err)
	}
	if err := c.CrmEvent.Create().SetBankID(b.ID).SetCustomerID(eve.ID).
		SetCustomerName(SeedLegalName).SetCustomerNumber(SeedCustomerNumber).
		SetCategory("Onboarding").SetDetail("Welcome call after account opening").SetChannel("Phone").
		SetScheduledDate(day(2020, 1, 27)).SetActualDate(day(2020, 1, 27)).SetResult("Completed").
		Exec(ctx); err != nil {
		return fmt.Errorf("CRM event: %w", err)
	}
	prods, err := c.Product.CreateBulk(
		c.Product.Create().SetCustomerID(eve.ID).SetProductCode(product.ProductCodeWALLET).SetCurrency("EUR"),
		c.Product.Create().SetCustomerID(eve.ID).SetProductCode(product.ProductCodeBALANCE_ACCOUNT).SetIban(SeedIBAN),
		c.Product.Create().SetCustomerID(eve.ID).SetProductCode(product.ProductCodeDEPOSITORY_ACCOUNT).
			SetCurrency("EUR").SetStatus(product.StatusPENDING),
		c.Product.Create().SetCustomerID(eve.ID).SetProductCode(product.ProductCodeCURRENCY_WALLET).
			SetCurrency("USD").SetProxyIds([]uuid.UUID{uuid.MustParse("0190a1b2-7c3d-7e4f-9a5b-000000000001")}),
	).Save(ctx)
	if err != nil {
		return fmt.Errorf("products: %w", err)
	}
	// Through the lifecycle, as a client would: opened_on is stamped.
	if err := c.Product.UpdateOne(prods[1]).SetStatus(product.StatusACTIVE).Exec(ctx); err != nil {
		return fmt.Errorf("activating the balance account: %w", err)
	}
	u, err := c.User.Create().SetUsername("eveline.tripman").SetEmail("felixsmith@example.com").
		SetDisplayName(SeedLegalName).Save(ctx)
	if err != nil {
		return fmt.Errorf("user: %w", err)
	}
	if err := c.UserCustomerLink.Create().SetUserID(u.ID).SetCustomerID(eve.ID).Exec(ctx); err != nil {
		return fmt.Errorf("user customer link: %w", err)
	}
	// She can log in too (OBP DirectLogin), and sees her own customer record
	// through GET /obp/v3.0.0/users/current/customers; she holds no role.
	if _, err := admin.SetPassword(ctx, c, u.ID, SeedUserPassword); err != nil {
		return fmt.Errorf("user password: %w", err)
	}
	return nil
}

// Demo callers, with fixed credentials so that the README's examples work
// as written. They exist only in demo data: never load it into a database
// that holds real customers.
const (
	// AdminClientID holds every system role and every AtAnyBank role.
	AdminClientID     = "demo-admin"
	AdminClientSecret = "demo-admin-secret-not-for-production"
	// PartnerClientID is bound to bank gh.29.uk and holds every bank role there.
	PartnerClientID     = "demo-partner-gh"
	PartnerClientSecret = "demo-partner-gh-secret-not-for-production"
	// SecondPartnerClientID is bound to bank at.02.0061 and holds every bank role there.
	SecondPartnerClientID     = "demo-partner-at"
	SecondPartnerClientSecret = "demo-partner-at-secret-not-for-production"
	// ConsumerKey is the OBP consumer (an API client with no roles of its
	// own) that users log in through with DirectLogin.
	ConsumerKey    = "demo-obp-consumer"
	ConsumerSecret = "demo-obp-consumer-secret-not-for-production"
	// BankerUsername is an OBP user holding every bank role at gh.29.uk.
	BankerUsername = "demo.banker"
	BankerPassword = "demo-banker-password"
	// SeedUserPassword is the password of the seed customer's user, eveline.tripman.
	SeedUserPassword = "demo-eveline-password"
)

// callers creates the demo callers.
func callers(ctx context.Context, c *ent.Client, home, second *ent.Bank) error {
	grantAll := func(clientID, userID *uuid.UUID, b *ent.Bank) error {
		for _, r := range access.BankRoles() {
			if _, err := admin.Grant(ctx, c, clientID, userID, r, &b.ID); err != nil {
				return err
			}
		}
		return nil
	}
	adm, _, err := admin.CreateClient(ctx, c, admin.ClientInput{
		ClientID: AdminClientID, Name: "Demo administrator", Secret: AdminClientSecret})
	if err != nil {
		return err
	}
	for _, r := range admin.AdminRoles() {
		if _, err := admin.Grant(ctx, c, &adm.ID, nil, r, nil); err != nil {
			return err
		}
	}
	for _, p := range []struct {
		id, secret string
		bank       *ent.Bank
	}{{PartnerClientID, PartnerClientSecret, home}, {SecondPartnerClientID, SecondPartnerClientSecret, second}} {
		cl, _, err := admin.CreateClient(ctx, c, admin.ClientInput{
			ClientID: p.id, Name: "Demo partner of " + p.bank.Name, Secret: p.secret, BankID: &p.bank.ID})
		if err != nil {
			return err
		}
		if err := grantAll(&cl.ID, nil, p.bank); err != nil {
			return err
		}
	}
	if _, _, err := admin.CreateClient(ctx, c, admin.ClientInput{
		ClientID: ConsumerKey, Name: "Demo OBP consumer", Secret: ConsumerSecret}); err != nil {
		return err
	}
	u, err := c.User.Create().SetUsername(BankerUsername).SetDisplayName("Demo banker").Save(ctx)
	if err != nil {
		return err
	}
	if _, err := admin.SetPassword(ctx, c, u.ID, BankerPassword); err != nil {
		return err
	}
	return grantAll(nil, &u.ID, home)
}

// --- generated customers ----------------------------------------------------

// person is one generated customer with its products and addresses.
type person struct {
	SecondBank     bool
	Number         string
	Type           customer.CustomerType
	First, Last    string
	Company        string
	Email, Phone   string
	Title          string
	Birth          time.Time
	Relationship   string
	DependantDOBs  []time.Time
	Education      string
	Employment     string
	Status         customer.CustomerStatus
	KYC            bool
	LastOK         *time.Time
	Branch         string
	CreditRating   string
	CreditCurrency string
	CreditLimit    *decimal.Decimal
	EntityID       uuid.UUID
	Labels         []string
	Products       []genProduct
	Addresses      []genAddress
}

type genProduct struct {
	Code     product.ProductCode
	Status   product.Status
	Currency string
	IBAN     string
	Opened   *time.Time // of products that were active once (ACTIVE ones get "now" from the product hook)
}

type genAddress struct {
	Primary                        bool
	Structured                     bool
	Street, Number, City, Postcode string
	State, Country                 string
	Tags                           []string
}

var (
	firstNames = []string{
		"Emma", "Liam", "Olivia", "Noah", "Sophie", "Lukas", "Mia", "Felix", "Hannah", "Jonas",
		"Charlotte", "Oliver", "Amelia", "George", "Isla", "Harry", "Lena", "Maximilian", "Anna", "Paul",
		"Clara", "Elias", "Zoë", "Jürgen", "Aoife", "Seán", "Priya", "Arjun", "Fatima", "Omar",
		"Mei", "Wei", "Yuki", "Kenji", "Ana", "João", "Lucía", "Mateo", "Chloé", "Théo",
		"Ingrid", "Lars", "Sanne", "Daan", "Kwame", "Ama", "Nia", "Tomasz", "Agnieszka", "Björn",
	}
	lastNames = []string{
		"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Thomas", "Roberts", "Walker",
		"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann", "Schäfer",
		"Gruber", "Huber", "Bauer", "Pichler", "Steiner", "de Vries", "Jansen", "van Dijk", "Bakker", "Visser",
		"O'Brien", "Murphy", "Kelly", "Patel", "Sharma", "Khan", "Mensah", "Owusu", "Nowak", "Kowalski",
		"García", "Fernández", "Silva", "Santos", "Dubois", "Moreau", "Rossi", "Bianchi", "Nakamura", "Chen",
	}
	companySuffixes = []string{"GmbH", "Ltd", "B.V.", "AG", "KG", "LLP", "& Co. KG"}
	companyWords    = []string{
		"Alpine", "Harbour", "Northwind", "Bluebell", "Kestrel", "Meridian", "Oakridge", "Silverline",
		"Danube", "Thames", "Polder", "Granite", "Copperleaf", "Lakeside", "Summit", "Redwood",
	}
	companyTrades = []string{"Logistics", "Bakery", "Consulting", "Software", "Trading", "Dental Care", "Architects", "Motors"}
	labelPool     = []string{
		"vip", "newsletter", "student", "private-banking", "sme", "dormant", "high-net-worth", "online-only",
		"premium", "salary-account", "mortgage-lead", "pep", "paperless", "referral", "complaint-open", "young-adult",
	}
	educations  = []string{"Secondary", "Bachelor", "Master", "Doctorate", "Vocational", "Apprenticeship"}
	employments = []string{"worker", "employed", "self-employed", "student", "retired", "unemployed"}
	relations   = []string{"single", "married", "divorced", "widowed", "partnership"}
	titles      = []string{"", "", "", "Mr.", "Ms.", "Mrs.", "Dr.", "Prof."}
	statuses    = []struct {
		s customer.CustomerStatus
		w int
	}{
		{customer.CustomerStatusACTIVE, 60}, {customer.CustomerStatusCREATED, 8}, {customer.CustomerStatusPENDING, 8},
		{customer.CustomerStatusREVIEW, 5}, {customer.CustomerStatusINACTIVE, 6}, {customer.CustomerStatusSUSPENDED, 3},
		{customer.CustomerStatusARCHIVED, 4}, {customer.CustomerStatusRECEIVED, 3}, {customer.CustomerStatusREJECTED, 2},
		{customer.CustomerStatusDECEASED, 1},
	}
	productStatuses = []struct {
		s product.Status
		w int
	}{
		{product.StatusACTIVE, 60}, {product.StatusRECEIVED, 10}, {product.StatusPENDING, 10},
		{product.StatusBLOCKED, 3}, {product.StatusINACTIVE, 5}, {product.StatusCLOSED, 10}, {product.StatusREJECTED, 2},
	}
	productCodes = []product.ProductCode{
		product.ProductCodeWALLET, product.ProductCodeBALANCE_ACCOUNT,
		product.ProductCodeDEPOSITORY_ACCOUNT, product.ProductCodeCURRENCY_WALLET,
	}
	walletCurrencies = []string{"USD", "GBP", "CHF", "JPY", "PLN", "SEK"}
)

type place struct {
	city, state, country, phonePrefix string
	streets                           []string
	postcode                          func(r *rand.Rand) string
}

var (
	homePlaces = []place{
		{"London", "Greater London", "GB", "+44 7", []string{"Baker Street", "Fleet Street", "Camden Road", "Kings Road"},
			func(r *rand.Rand) string {
				return fmt.Sprintf("N%d %d%c%c", 1+r.IntN(20), r.IntN(10), 'A'+r.IntN(26), 'A'+r.IntN(26))
			}},
		{"Derby", "Derbyshire", "GB", "+44 7", []string{"Friar Gate", "Iron Gate", "London Road"},
			func(r *rand.Rand) string {
				return fmt.Sprintf("DE%d %d%c%c", 1+r.IntN(24), r.IntN(10), 'A'+r.IntN(26), 'A'+r.IntN(26))
			}},
		{"Berlin", "Berlin", "DE", "+49 15", []string{"Torstraße", "Kastanienallee", "Sonnenallee", "Karl-Marx-Allee"},
			func(r *rand.Rand) string { return fmt.Sprintf("1%04d", r.IntN(4000)) }},
		{"Potsdam", "Brandenburg", "DE", "+49 17", []string{"Brandenburger Straße", "Zeppelinstraße"},
			func(r *rand.Rand) string { return fmt.Sprintf("144%02d", 67+r.IntN(15)) }},
		{"Hoofddorp", "Noord-Holland", "NL", "+31 6", []string{"Kruisweg", "Polarisavenue", "Raadhuisplein"},
			func(r *rand.Rand) string {
				return fmt.Sprintf("21%02d %c%c", 30+r.IntN(10), 'A'+r.IntN(26), 'A'+r.IntN(26))
			}},
		{"Amsterdam", "Noord-Holland", "NL", "+31 6", []string{"Prinsengracht", "Damrak", "Overtoom"},
			func(r *rand.Rand) string {
				return fmt.Sprintf("10%02d %c%c", 11+r.IntN(80), 'A'+r.IntN(26), 'A'+r.IntN(26))
			}},
		{"Dublin", "Leinster", "IE", "+353 8", []string{"Grafton Street", "Dame Street"},
			func(r *rand.Rand) string {
				return fmt.Sprintf("D%02d X%d%d%d", 1+r.IntN(24), r.IntN(10), r.IntN(10), r.IntN(10))
			}},
	}
	austrianPlaces = []place{
		{"Wien", "Wien", "AT", "+43 664", []string{"Mariahilfer Straße", "Praterstraße", "Landstraßer Hauptstraße"},
			func(r *rand.Rand) string { return fmt.Sprintf("1%02d0", 1+r.IntN(23)) }},
		{"Graz", "Steiermark", "AT", "+43 676", []string{"Herrengasse", "Annenstraße"},
			func(r *rand.Rand) string { return fmt.Sprintf("80%02d", 10+r.IntN(50)) }},
		{"Linz", "Oberösterreich", "AT", "+43 699", []string{"Landstraße", "Hauptplatz"},
			func(r *rand.Rand) string { return fmt.Sprintf("40%02d", 10+r.IntN(50)) }},
	}
)

// generate returns n customers, the same ones for the same n: the random
// source has a fixed seed.
func generate(n int) []person {
	r := rand.New(rand.NewPCG(0x637573746772, 29))
	out := make([]person, n)
	for i := range out {
		out[i] = newPerson(r, i)
	}
	return out
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func weighted[T any](r *rand.Rand, xs []struct {
	s T
	w int
}) T {
	total := 0
	for _, x := range xs {
		total += x.w
	}
	n := r.IntN(total)
	for _, x := range xs {
		if n < x.w {
			return x.s
		}
		n -= x.w
	}
	return xs[0].s
}

func newPerson(r *rand.Rand, i int) person {
	p := person{SecondBank: i%10 == 9}
	places := homePlaces
	if p.SecondBank {
		places = austrianPlaces
	}
	home := pick(r, places)
	// Customer numbers: 12 digits, unique per bank by construction.
	p.Number = strconv.Itoa(300_000_000_000 + i*7 + r.IntN(7))
	p.First, p.Last = pick(r, firstNames), pick(r, lastNames)
	p.Type = customer.CustomerTypeNATURAL_PERSON
	mailDomain := pick(r, []string{"example.com", "example.org", "example.net"})
	if r.IntN(10) == 0 {
		p.Type = customer.CustomerTypeLEGAL_ENTITY
		p.Company = fmt.Sprintf("%s %s %s", pick(r, companyWords), pick(r, companyTrades), pick(r, companySuffixes))
		p.Email = fmt.Sprintf("info%d@%s.example.com", i, slug(strings.Fields(p.Company)[0]))
	} else {
		p.Email = fmt.Sprintf("%s.%s%d@%s", slug(p.First), slug(p.Last), i, mailDomain)
		p.Title = pick(r, titles)
		p.Birth = day(1940+r.IntN(66), time.Month(1+r.IntN(12)), 1+r.IntN(28))
		p.Relationship = pick(r, relations)
		for range r.IntN(4) * r.IntN(2) {
			p.DependantDOBs = append(p.DependantDOBs, day(1990+r.IntN(34), time.Month(1+r.IntN(12)), 1+r.IntN(28)))
		}
		p.Education = pick(r, educations)
		p.Employment = pick(r, employments)
	}
	p.Phone = fmt.Sprintf("%s%d %03d %04d", home.phonePrefix, r.IntN(10), r.IntN(1000), r.IntN(10000))
	p.Status = weighted(r, statuses)
	p.KYC = p.Status == customer.CustomerStatusACTIVE && r.IntN(5) > 0
	if p.KYC {
		t := time.Date(2023+r.IntN(3), time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), 0, 0, time.UTC)
		p.LastOK = &t
	}
	p.Branch = fmt.Sprintf("%s%d", strings.ToUpper(slug(home.city))[:min(5, len(slug(home.city)))], 1+r.IntN(9))
	if r.IntN(3) > 0 {
		p.CreditRating = pick(r, []string{"AAA", "AA", "A", "BBB", "BB", "B"})
		p.CreditCurrency = "EUR"
		if home.country == "GB" {
			p.CreditCurrency = "GBP"
		}
		d := decimal.New(int64(r.IntN(200))*250, 0)
		if r.IntN(4) == 0 {
			d = d.Add(decimal.New(int64(r.IntN(100)), -2))
		}
		p.CreditLimit = &d
	}
	var eid uuid.UUID
	for j := range eid {
		eid[j] = byte(r.Uint32())
	}
	eid[6] = eid[6]&0x0f | 0x40 // version 4
	eid[8] = eid[8]&0x3f | 0x80 // RFC 4122 variant
	p.EntityID = eid
	nLabels := []int{0, 0, 1, 1, 1, 2, 2, 3, 4}[r.IntN(9)]
	for _, k := range r.Perm(len(labelPool))[:nLabels] {
		p.Labels = append(p.Labels, labelPool[k])
	}
	for range []int{0, 1, 1, 2, 2, 2, 3, 4}[r.IntN(8)] {
		gp := genProduct{Code: pick(r, productCodes), Status: weighted(r, productStatuses)}
		switch gp.Status {
		case product.StatusBLOCKED, product.StatusINACTIVE, product.StatusCLOSED:
			t := time.Date(2015+r.IntN(9), time.Month(1+r.IntN(12)), 1+r.IntN(28), 9+r.IntN(8), r.IntN(60), 0, 0, time.UTC)
			gp.Opened = &t
		}
		switch gp.Code {
		case product.ProductCodeBALANCE_ACCOUNT:
			gp.Currency = "EUR"
			if home.country == "AT" {
				gp.IBAN = iban("AT", fmt.Sprintf("%05d%011d", 12000+r.IntN(80000), r.Int64N(1e11)))
			} else {
				gp.IBAN = iban("DE", fmt.Sprintf("%08d%010d", 10000000+r.IntN(89999999), r.Int64N(1e10)))
			}
		case product.ProductCodeCURRENCY_WALLET:
			gp.Currency = pick(r, walletCurrencies)
		default:
			gp.Currency = "EUR"
		}
		p.Products = append(p.Products, gp)
	}
	for k := range []int{0, 1, 1, 1, 2}[r.IntN(5)] {
		a := genAddress{
			Primary:    k == 0,
			Structured: r.IntN(3) == 0,
			Street:     pick(r, home.streets),
			Number:     strconv.Itoa(1 + r.IntN(180)),
			City:       home.city,
			Postcode:   home.postcode(r),
			State:      home.state,
			Country:    home.country,
			Tags:       []string{"home"},
		}
		if k == 0 {
			a.Tags = append(a.Tags, "mailing")
		} else {
			a.Tags = []string{pick(r, []string{"work", "holiday", "previous"})}
		}
		p.Addresses = append(p.Addresses, a)
	}
	return p
}

func customerCreate(c *ent.Client, p *person) *ent.CustomerCreate {
	b := c.Customer.Create().
		SetCustomerNumber(p.Number).
		SetEmail(p.Email).
		SetMobilePhoneNumber(p.Phone).
		SetCustomerStatus(p.Status).
		SetCustomerType(p.Type).
		SetEntityID(p.EntityID).
		SetEntityType(customer.EntityType(p.Type)).
		SetKycStatus(p.KYC).
		SetBranchID(p.Branch).
		SetDependants(len(p.DependantDOBs))
	if p.Company != "" {
		b.SetCompany(p.Company).SetLegalName(p.Company)
	} else {
		b.SetFirstName(p.First).SetLastName(p.Last).SetLegalName(p.First + " " + p.Last).
			SetDateOfBirth(p.Birth).SetRelationshipStatus(p.Relationship).
			SetHighestEducationAttained(p.Education).SetEmploymentStatus(p.Employment)
		if p.Title != "" {
			b.SetTitle(p.Title)
		}
	}
	if len(p.DependantDOBs) > 0 {
		b.SetDobOfDependants(p.DependantDOBs)
	}
	if p.LastOK != nil {
		b.SetLastOkDate(*p.LastOK)
	}
	if p.CreditLimit != nil {
		b.SetCreditRating(p.CreditRating).SetCreditSource("internal").
			SetCreditLimitCurrency(p.CreditCurrency).SetCreditLimitAmount(exact.New(*p.CreditLimit))
	}
	if len(p.Labels) > 0 {
		b.SetLabels(p.Labels)
	}
	return b
}

func productCreate(c *ent.Client, g genProduct) *ent.ProductCreate {
	b := c.Product.Create().SetProductCode(g.Code).SetStatus(g.Status).SetCurrency(g.Currency)
	if g.IBAN != "" {
		b.SetIban(g.IBAN)
	}
	if g.Opened != nil {
		b.SetOpenedOn(*g.Opened)
	}
	return b
}

func addressCreate(c *ent.Client, g genAddress) *ent.AddressCreate {
	b := c.Address.Create().SetCity(g.City).SetPostcode(g.Postcode).SetState(g.State).
		SetCountryCode(g.Country).SetTags(g.Tags).SetStatus("OK").SetIsPrimary(g.Primary)
	if g.Structured {
		// bankingservice.ai's form: line_1 is derived by the address hook.
		n, _ := strconv.Atoi(g.Number)
		return b.SetThoroughfare(g.Street).SetPremise(n)
	}
	if g.Country == "GB" || g.Country == "IE" {
		return b.SetLine1(g.Number + " " + g.Street)
	}
	return b.SetLine1(g.Street + " " + g.Number)
}

// iban builds an IBAN with correct ISO 7064 mod-97 check digits.
func iban(country, bban string) string {
	mod := 0
	for _, ch := range bban + country + "00" {
		switch {
		case ch >= '0' && ch <= '9':
			mod = (mod*10 + int(ch-'0')) % 97
		case ch >= 'A' && ch <= 'Z':
			mod = (mod*100 + int(ch-'A'+10)) % 97
		}
	}
	return fmt.Sprintf("%s%02d%s", country, 98-mod, bban)
}

// slug folds a name to lower-case ASCII letters for e-mail addresses.
func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r)
		case r == 'ä':
			b.WriteString("ae")
		case r == 'ö':
			b.WriteString("oe")
		case r == 'ü':
			b.WriteString("ue")
		case r == 'ß':
			b.WriteString("ss")
		case strings.ContainsRune("áàâã", r):
			b.WriteRune('a')
		case strings.ContainsRune("éèêë", r):
			b.WriteRune('e')
		case strings.ContainsRune("íìîï", r):
			b.WriteRune('i')
		case strings.ContainsRune("óòôõø", r):
			b.WriteRune('o')
		case strings.ContainsRune("úùû", r):
			b.WriteRune('u')
		}
	}
	return b.String()
}
