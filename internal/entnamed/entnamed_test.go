package entnamed

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// TestEdgesActAsEntsMap: Get and Append answer what ent's map of named
// edges answered: unknown names are not loaded, a load with no rows is an
// empty (not nil) slice, and each name keeps its own rows in order.
func TestEdgesActAsEntsMap(t *testing.T) {
	var e Edges[*int]
	_, ok := e.Get("products")
	require.False(t, ok)

	e.Append("products") // loaded, no rows
	got, ok := e.Get("products")
	require.True(t, ok)
	require.NotNil(t, got)
	require.Empty(t, got)

	one, two, three := new(int), new(int), new(int)
	e.Append("cheap", one)
	e.Append("products", two)
	e.Append("cheap", three)
	e.Append("dear")
	got, ok = e.Get("cheap")
	require.True(t, ok)
	require.Equal(t, []*int{one, three}, got)
	got, _ = e.Get("products")
	require.Equal(t, []*int{two}, got)
	got, ok = e.Get("dear")
	require.True(t, ok)
	require.Equal(t, []*int{}, got)
	_, ok = e.Get("Products")
	require.False(t, ok, "names are compared exactly")

	nodes := []*int{one}
	var f Edges[*int]
	f.Append("a", nodes...)
	nodes[0] = two
	got, _ = f.Get("a")
	require.Equal(t, []*int{one}, got, "Append keeps its own copy, as append to a map's nil slice did")
}

// TestOneNameIsOneAllocation: an entity that loads one edge under one name
// (a page's customers and their products) allocates its names and the
// rows' slice, and no map; the entity holds one pointer, as for the map.
func TestOneNameIsOneAllocation(t *testing.T) {
	row := new(int)
	allocs := testing.AllocsPerRun(100, func() {
		var e Edges[*int]
		e.Append("products", row)
		if n, _ := e.Get("products"); len(n) != 1 {
			t.Fatal("lost")
		}
	})
	require.Equal(t, 2.0, allocs)
	require.Equal(t, unsafe.Sizeof(map[string][]*int{}), unsafe.Sizeof(Edges[*int]{}))
}
