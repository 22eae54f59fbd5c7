package graph

import (
	"context"

	"github.com/google/uuid"

	"custgraph/ent"
	"custgraph/internal/access"
)

// viewerOf describes the request's caller.
func viewerOf(ctx context.Context) (*Viewer, error) {
	v := access.FromContext(ctx)
	if v == nil {
		return nil, access.ErrUnauthenticated
	}
	out := &Viewer{Kind: string(v.Kind), Name: v.Name, BankID: v.Bank, Entitlements: []*ViewerEntitlement{}}
	if v.ID != uuid.Nil {
		out.ID = &v.ID
	}
	for _, g := range v.Grants() {
		e := &ViewerEntitlement{RoleName: string(g.Role)}
		if g.Bank != uuid.Nil {
			e.BankID = &g.Bank
		}
		out.Entitlements = append(out.Entitlements, e)
	}
	return out, nil
}

// withSecret pairs a client with its newly made secret.
func withSecret(cl *ent.APIClient, secret string, err error) (*APIClientWithSecret, error) {
	if err != nil {
		return nil, err
	}
	return &APIClientWithSecret{Client: cl, ClientSecret: secret}, nil
}
