package validate_test

import (
	"testing"

	"custgraph/internal/validate"
)

func TestLine(t *testing.T) {
	for _, s := range []string{"", "Eveline Tripman", "Zoë Ŝmith-O'Brien", "山田 太郎", "می‌خواهم" /* ZWNJ */, "👩‍💻" /* ZWJ */, "\u200fשלום", /* RLM */
		"สมชาย\u200bใจดี" /* Thai's word break */, "\u2067محمد\u2069 Smith" /* an isolate, as phones write it */} {
		if err := validate.Line(s); err != nil {
			t.Errorf("Line(%q) = %v, want nil", s, err)
		}
	}
	for _, s := range []string{"a\nb", "a\tb", "a\x00", "a\x1b[31m", "a\x7f", "a\u0085", "a\u2028b", "a\u2029b",
		"John\u202eeoD", "a\u202ab", "a\u2060b", "\ufeffa", "a\xffb"} {
		if err := validate.Line(s); err == nil {
			t.Errorf("Line(%q) = nil, want an error", s)
		}
	}
}

func TestTrimmed(t *testing.T) {
	for _, s := range []string{"", "5987953", "A B"} {
		if err := validate.Trimmed(s); err != nil {
			t.Errorf("Trimmed(%q) = %v", s, err)
		}
	}
	for _, s := range []string{" ", "5987953 ", " 5987953", "\t1", "1\u00a0"} {
		if err := validate.Trimmed(s); err == nil {
			t.Errorf("Trimmed(%q) = nil, want an error", s)
		}
	}
}

func TestImageURL(t *testing.T) {
	for _, s := range []string{"", "www.openbankproject", "http://www.example.com/id-docs/123/image.png", "HTTPS://x.example/a:b",
		"/images/face.png?size=2", "face.png#x:y"} {
		if err := validate.ImageURL(s); err != nil {
			t.Errorf("ImageURL(%q) = %v", s, err)
		}
	}
	for _, s := range []string{"javascript:alert(1)", "  JaVaScRiPt:alert(1)", "java\tscript:alert(1)", "data:image/png;base64,AA",
		"vbscript:x", "file:///etc/passwd", "http://a\u2028b"} {
		if err := validate.ImageURL(s); err == nil {
			t.Errorf("ImageURL(%q) = nil, want an error", s)
		}
	}
}

func TestEmailIsOneLine(t *testing.T) {
	if err := validate.Email("a@example.com"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"a@example.com\u2028", "a\u202e@example.com"} {
		if err := validate.Email(s); err == nil {
			t.Errorf("Email(%q) = nil, want an error", s)
		}
	}
}

func TestNumber(t *testing.T) {
	if err := validate.Number("5987953"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"\u200b", "59\u200b87953", "5987953\u200e", "59\u2067879\u2069", "59\n87"} {
		if err := validate.Number(s); err == nil {
			t.Errorf("Number(%q) = nil, want an error", s)
		}
	}
}
