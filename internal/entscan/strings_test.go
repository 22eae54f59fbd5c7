package entscan

import (
	"encoding/json"
	"reflect"
	"testing"
)

// jsonStringsSeeds are texts ent and PostgreSQL write, and texts the fast
// path must leave to json.Unmarshal.
var jsonStringsSeeds = []string{
	`["vip","new"]`, `["vip", "new"]`, ` [ "a" , "b" ] `, "[\n\"a\"\r\n,\t\"b\"]", `[]`, ` [ ] `, `[""]`,
	`["Müller","日本"]`, `["a\"b"]`, `["a\\b"]`, `["\u00fc"]`, "[\"tab\there\"]", "[\"\xff\xfe\"]",
	`null`, ``, `[`, `[,]`, `["a",]`, `["a" "b"]`, `["a"]x`, `["a"]]`, `[1]`, `["a",1]`, `[null]`, `{}`, `"a"`,
	`["a"`, `["a`, `[["a"]]`, "[\"\x7f\"]",
}

// TestJSONStringsDecodesAsEncodingJSON: the same slice (nil, empty or not)
// and the same error or none as json.Unmarshal, and the fast path taken
// for what ent and PostgreSQL write.
func TestJSONStringsDecodesAsEncodingJSON(t *testing.T) {
	for _, in := range jsonStringsSeeds {
		sameAsEncodingJSON(t, []byte(in))
	}
	for _, in := range []string{`["vip","new"]`, `["vip", "new"]`, `[]`, `["Müller"]`} {
		if _, ok := plainStrings([]byte(in)); !ok {
			t.Errorf("%s: not read by the fast path", in)
		}
	}
	data, s := []byte(`["vip", "new"]`), new([]string)
	if n := testing.AllocsPerRun(100, func() { _ = JSONStrings(data, s) }); n != 3 { // (the slice and its two strings)
		t.Errorf("%v allocations for two labels, want 3", n)
	}
}

func FuzzJSONStrings(f *testing.F) {
	for _, in := range jsonStringsSeeds {
		f.Add([]byte(in))
	}
	f.Fuzz(sameAsEncodingJSON)
}

func sameAsEncodingJSON(t *testing.T, in []byte) {
	var want, got []string
	wantErr := json.Unmarshal(in, &want)
	gotErr := JSONStrings(in, &got)
	if (wantErr == nil) != (gotErr == nil) || !reflect.DeepEqual(want, got) || (want == nil) != (got == nil) {
		t.Errorf("%q: got %#v (%v), json.Unmarshal %#v (%v)", in, got, gotErr, want, wantErr)
	}
}
