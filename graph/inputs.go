package graph

import (
	"custgraph/ent"
	"custgraph/ent/predicate"
	"custgraph/internal/filters"
)

// addLabels adds a checked label filter to a customer where-input.
func addLabels(w *ent.CustomerWhereInput, field string, labels []string, p func(...string) predicate.Customer) error {
	if err := filters.Labels(field, labels); err != nil {
		return err
	}
	if labels != nil { // (null filters nothing; [] is an empty set of labels)
		w.AddPredicates(p(labels...))
	}
	return nil
}

// entgql v0.7.0's generated Update…Input.Mutate appends the *set* value
// (m.AppendLabels(i.Labels)) instead of the append value for JSON list
// fields. Until a fixed entgql is pinned, the update resolvers take the
// append lists out of the input and apply them here, once.

func updateCustomer(u *ent.CustomerUpdateOne, in ent.UpdateCustomerInput) *ent.CustomerUpdateOne {
	labels, dobs := in.AppendLabels, in.AppendDobOfDependants
	in.AppendLabels, in.AppendDobOfDependants = nil, nil
	u.SetInput(in)
	if labels != nil {
		u.AppendLabels(labels)
	}
	if dobs != nil {
		u.AppendDobOfDependants(dobs)
	}
	return u
}

func updateAddress(u *ent.AddressUpdateOne, in ent.UpdateAddressInput) *ent.AddressUpdateOne {
	tags := in.AppendTags
	in.AppendTags = nil
	u.SetInput(in)
	if tags != nil {
		u.AppendTags(tags)
	}
	return u
}

func updateProduct(u *ent.ProductUpdateOne, in ent.UpdateProductInput) *ent.ProductUpdateOne {
	proxies := in.AppendProxyIds
	in.AppendProxyIds = nil
	u.SetInput(in)
	if proxies != nil {
		u.AppendProxyIds(proxies)
	}
	return u
}
