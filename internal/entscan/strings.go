package entscan

import (
	"encoding/json"
	"unicode/utf8"
)

// JSONStrings decodes data, the JSON text ent stores for a []string field
// (labels, tags, proxy ids), into *dst exactly as json.Unmarshal does.
// ent's generated assignValues called json.Unmarshal for every row; its
// reflection and validating scan were ~2% of a page's CPU. An array of
// strings with no escape in them, as ent writes them and as PostgreSQL's
// jsonb gives them back, is read here directly; anything else (null, an
// escape, invalid UTF-8, not an array of strings) goes to json.Unmarshal.
// ent/entc.go (jsonStrings) has the generated code call it.
func JSONStrings(data []byte, dst *[]string) error {
	if s, ok := plainStrings(data); ok {
		*dst = s
		return nil
	}
	return json.Unmarshal(data, dst)
}

// plainStrings reads b when it is a JSON array of strings without escapes
// or control characters, of valid UTF-8; ok is false otherwise.
func plainStrings(b []byte) (s []string, ok bool) {
	i := space(b, 0)
	if i == len(b) || b[i] != '[' {
		return nil, false
	}
	n := 0 // (strings have two quotes each: room for all of them)
	for _, c := range b {
		if c == '"' {
			n++
		}
	}
	s = make([]string, 0, n/2)
	if i = space(b, i+1); i < len(b) && b[i] == ']' {
		return s, space(b, i+1) == len(b)
	}
	for {
		if i == len(b) || b[i] != '"' {
			return nil, false
		}
		j := i + 1
		for j < len(b) && b[j] != '"' {
			if b[j] < 0x20 || b[j] == '\\' {
				return nil, false
			}
			j++
		}
		if j == len(b) || !utf8.Valid(b[i+1:j]) {
			return nil, false
		}
		s = append(s, string(b[i+1:j]))
		switch i = space(b, j+1); {
		case i < len(b) && b[i] == ',':
			i = space(b, i+1)
		case i < len(b) && b[i] == ']':
			return s, space(b, i+1) == len(b)
		default:
			return nil, false
		}
	}
}

// space returns the index of the first byte at or after i that is not
// JSON whitespace.
func space(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
