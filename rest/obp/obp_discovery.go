package obp

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"custgraph/ent"
	"custgraph/ent/bank"
	"custgraph/ent/entitlement"
	"custgraph/internal/access"
	"custgraph/rest/restcore"
)

// This file serves OBP's discovery routes, with which an OBP client finds
// the API, its banks and itself: GET /root (API info), GET /banks, GET
// /banks/{BANK_ID} and GET /users/current (the caller's user_id, username
// and entitlements), under /obp/v3.1.0 in the v3.1.0 shapes (APIInfoJSON,
// BanksJson of BankJSON, UserJsonV300) and under /obp/v5.1.0 in the v5.1.0
// ones (APIInfoJsonV510, BanksJson400, BankJson500, UserJsonV300). Banks are
// public reference data (ent's privacy rules show every bank to every
// authenticated caller); /root needs no credentials, as in OBP.

// obpDiscoveryRoutes registers the discovery routes inside /obp.
func (a *api) obpDiscoveryRoutes(r chi.Router) {
	r.Get("/v3.1.0/root", a.obpRoot("v3.1.0"))
	r.Get("/v5.1.0/root", a.obpRoot("v5.1.0"))
	r.Get("/v3.1.0/banks", a.obpBanks(false))
	r.Get("/v5.1.0/banks", a.obpBanks(true))
	r.Get("/v3.1.0/banks/{bankId}", a.obpBank(false))
	r.Get("/v5.1.0/banks/{bankId}", a.obpBank(true))
	r.Get("/v3.1.0/users/current", a.obpCurrentUser)
	r.Get("/v5.1.0/users/current", a.obpCurrentUser)
}

// obpCorrelationID sets OBP's Correlation-Id response header, the
// request's id (the X-Request-Id the server echoes), on every OBP answer.
func obpCorrelationID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := middleware.GetReqID(r.Context()); id != "" {
			w.Header().Set("Correlation-Id", id)
		}
		next.ServeHTTP(w, r)
	})
}

// --- root ---------------------------------------------------------------------

// obpHostedBy is OBP's HostedBy (v1.2.1) and HostedBy400.
type obpHostedBy struct {
	Organisation        string `json:"organisation"`
	Email               string `json:"email"`
	Phone               string `json:"phone"`
	OrganisationWebsite string `json:"organisation_website"`
}

// obpOrganisation is OBP's HostedAt400 and EnergySource400.
type obpOrganisation struct {
	Organisation        string `json:"organisation"`
	OrganisationWebsite string `json:"organisation_website"`
}

// obpAPIInfo is APIInfoJSON (v1.2.1, served by v3.1.0's root).
type obpAPIInfo struct {
	Version       string      `json:"version"`
	VersionStatus string      `json:"version_status"`
	GitCommit     string      `json:"git_commit"`
	Connector     string      `json:"connector"`
	HostedBy      obpHostedBy `json:"hosted_by"`
}

// obpAPIInfoV510 is APIInfoJsonV510.
type obpAPIInfoV510 struct {
	Version                  string          `json:"version"`
	VersionStatus            string          `json:"version_status"`
	GitCommit                string          `json:"git_commit"`
	Stage                    string          `json:"stage"`
	Connector                string          `json:"connector"`
	Hostname                 string          `json:"hostname"`
	LocalIdentityProvider    string          `json:"local_identity_provider"`
	HostedBy                 obpHostedBy     `json:"hosted_by"`
	HostedAt                 obpOrganisation `json:"hosted_at"`
	EnergySource             obpOrganisation `json:"energy_source"`
	ResourceDocsRequiresRole bool            `json:"resource_docs_requires_role"`
}

// obpConnector names custgraph's data source where OBP names its connector.
const obpConnectorName = "custgraph"

// obpRoot is GET /obp/{version}/root: the API's version and host. No
// credentials are needed (bad ones are still 401).
func (a *api) obpRoot(version string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		hosted := obpHostedBy{Organisation: "custgraph"}
		if version == "v3.1.0" {
			restcore.WriteJSON(w, http.StatusOK, obpAPIInfo{Version: version, VersionStatus: "STABLE", Connector: obpConnectorName, HostedBy: hosted})
			return
		}
		restcore.WriteJSON(w, http.StatusOK, obpAPIInfoV510{Version: version, VersionStatus: "BLEEDING_EDGE", Stage: "production",
			Connector: obpConnectorName, Hostname: "http://" + r.Host, LocalIdentityProvider: "http://" + r.Host,
			HostedBy: hosted, HostedAt: obpOrganisation{Organisation: "custgraph"}, EnergySource: obpOrganisation{}})
	}
}

// --- banks --------------------------------------------------------------------

// obpBankRouting is BankRoutingJsonV121: a bank's OBP routing is its BANK_ID.
type obpBankRouting struct {
	Scheme  string `json:"scheme"`
	Address string `json:"address"`
}

// obpBankJSON is BankJSON (v1.2.1; v3.1.0's banks and bank).
type obpBankJSON struct {
	ID          string         `json:"id"`
	ShortName   string         `json:"short_name"`
	FullName    string         `json:"full_name"`
	Logo        string         `json:"logo"`
	Website     string         `json:"website"`
	BankRouting obpBankRouting `json:"bank_routing"`
}

// obpBankJSON400 is BankJson400 (v5.1.0's banks).
type obpBankJSON400 struct {
	ID           string           `json:"id"`
	ShortName    string           `json:"short_name"`
	FullName     string           `json:"full_name"`
	Logo         string           `json:"logo"`
	Website      string           `json:"website"`
	BankRoutings []obpBankRouting `json:"bank_routings"`
}

// obpBankJSON500 is BankJson500 (v5.1.0's bank).
type obpBankJSON500 struct {
	ID           string           `json:"id"`
	BankCode     string           `json:"bank_code"`
	FullName     string           `json:"full_name"`
	Logo         string           `json:"logo"`
	Website      string           `json:"website"`
	BankRoutings []obpBankRouting `json:"bank_routings"`
}

func obpRouting(b *ent.Bank) obpBankRouting { return obpBankRouting{Scheme: "OBP", Address: b.Code} }

func obpBankV310(b *ent.Bank) obpBankJSON {
	return obpBankJSON{ID: b.Code, ShortName: b.Name, FullName: b.Name, BankRouting: obpRouting(b)}
}

// obpBanks is GET /obp/{version}/banks: every bank (public reference
// data), by code. A→ the list.
func (a *api) obpBanks(v510 bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		o := a.obp(w, r)
		if !o.auth() {
			return
		}
		banks, err := a.Client.Bank.Query().Order(ent.Asc(bank.FieldCode)).All(o.ctx)
		if err != nil {
			o.err(err, "")
			return
		}
		if v510 {
			out := struct {
				Banks []obpBankJSON400 `json:"banks"`
			}{Banks: make([]obpBankJSON400, len(banks))}
			for i, b := range banks {
				out.Banks[i] = obpBankJSON400{ID: b.Code, ShortName: b.Name, FullName: b.Name, BankRoutings: []obpBankRouting{obpRouting(b)}}
			}
			restcore.WriteJSON(w, http.StatusOK, out)
			return
		}
		out := struct {
			Banks []obpBankJSON `json:"banks"`
		}{Banks: make([]obpBankJSON, len(banks))}
		for i, b := range banks {
			out.Banks[i] = obpBankV310(b)
		}
		restcore.WriteJSON(w, http.StatusOK, out)
	}
}

// obpBank is GET /obp/{version}/banks/{BANK_ID}: A→B, the bank.
func (a *api) obpBank(v510 bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		o := a.obp(w, r)
		if !o.auth() || !o.requireBank() {
			return
		}
		b := o.bank
		if v510 {
			restcore.WriteJSON(w, http.StatusOK, obpBankJSON500{ID: b.Code, BankCode: b.Code, FullName: b.Name, BankRoutings: []obpBankRouting{obpRouting(b)}})
			return
		}
		restcore.WriteJSON(w, http.StatusOK, obpBankV310(b))
	}
}

// --- the current user -----------------------------------------------------------

// obpEntitlement is EntitlementJSON: bank_id is the bank's code, "" for a
// system-wide grant.
type obpEntitlement struct {
	EntitlementID string `json:"entitlement_id"`
	RoleName      string `json:"role_name"`
	BankID        string `json:"bank_id"`
}

// obpUserV300 is UserJsonV300 (views left out: custgraph has no account views).
type obpUserV300 struct {
	UserID       string `json:"user_id"`
	Email        string `json:"email"`
	ProviderID   string `json:"provider_id"`
	Provider     string `json:"provider"`
	Username     string `json:"username"`
	Entitlements struct {
		List []obpEntitlement `json:"list"`
	} `json:"entitlements"`
}

// obpProvider names custgraph as the identity provider of its own callers.
const obpProvider = "custgraph"

// obpCurrentUser is GET /obp/{version}/users/current: who is calling (a
// user, or an API client: its id, and its username or client_id) and its
// entitlements (roles, at banks by code). A→ the caller.
func (a *api) obpCurrentUser(w http.ResponseWriter, r *http.Request) {
	o := a.obp(w, r)
	if !o.auth() {
		return
	}
	v := o.viewer
	out := obpUserV300{UserID: v.ID.String(), Username: v.Name, ProviderID: v.Name, Provider: obpProvider}
	q := a.Client.Entitlement.Query().WithBank().Order(ent.Asc(entitlement.FieldRoleName), ent.Asc(entitlement.FieldID))
	switch v.Kind {
	case access.KindUser:
		u, err := a.Client.User.Get(o.ctx, v.ID)
		if err != nil {
			o.err(err, "")
			return
		}
		out.Email = u.Email
		if u.ExternalSubject != nil {
			out.ProviderID = *u.ExternalSubject
		}
		q.Where(entitlement.UserID(v.ID))
	case access.KindClient:
		q.Where(entitlement.APIClientID(v.ID))
	default:
		q = nil
	}
	out.Entitlements.List = []obpEntitlement{}
	if q != nil {
		ents, err := q.All(o.ctx)
		if err != nil {
			o.err(err, "")
			return
		}
		for _, e := range ents {
			code := ""
			if e.Edges.Bank != nil {
				code = e.Edges.Bank.Code
			}
			out.Entitlements.List = append(out.Entitlements.List, obpEntitlement{EntitlementID: e.ID.String(), RoleName: e.RoleName, BankID: code})
		}
	}
	restcore.WriteJSON(w, http.StatusOK, out)
}
