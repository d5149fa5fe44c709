package providers

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
)

func TestDecodeJSON(t *testing.T) {
	type answer struct{ Items []string }
	for _, tt := range []struct {
		name, body string
		ok         bool
	}{
		{"documented", `{"Items":["a"]}`, true},
		{"documented, spaces around", " \n{\"Items\":[]}\r\n", true},
		{"empty", ``, false},
		{"blank", " \n", false},
		{"HTML", `<html><body>Service unavailable</body></html>`, false},
		{"truncated", `{"Items":["a"`, false},
		{"unrelated JSON", `{"ok":true}`, false},
		{"null", `null`, false},
		{"another value after it", `{"Items":[]}{"Items":[]}`, false},
		{"HTML after it", `{"Items":[]}<html>`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var a answer
			err := DecodeJSON(200, []byte(tt.body), "the items", &a, func() error {
				if a.Items == nil {
					return errors.New("no items")
				}
				return nil
			})
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var pe *Error
			if !errors.As(err, &pe) || pe.Class != Retryable || pe.Reason != ReasonUnreadable || pe.Status != 200 {
				t.Fatalf("got %v, want a retryable %s", err, ReasonUnreadable)
			}
			if !strings.Contains(err.Error(), "the items") {
				t.Errorf("%q does not say what was expected", err)
			}
		})
	}
}

func TestBodyLimits(t *testing.T) {
	item := strings.Repeat("x", MaxItemSize-10)
	for _, tt := range []struct {
		name   string
		parts  []string // StartItem before each part but the first
		limit  int64
		reason string
	}{
		{"within the limit", []string{strings.Repeat("x", 100)}, 100, ""},
		{"one byte over", []string{strings.Repeat("x", 101)}, 100, ReasonTooLarge},
		// The start of a listing is an item too: a first token of a
		// gigabyte is not buffered whole.
		{"the start over the item limit", []string{strings.Repeat("x", MaxItemSize+1)}, MaxListingSize, ReasonTooLarge},
		{"items within the item limit", []string{item, item, item}, MaxListingSize, ""},
		{"one item over", []string{item, item + strings.Repeat("x", 11)}, MaxListingSize, ReasonTooLarge},
		{"items within, answer over", []string{strings.Repeat("x", 1500), strings.Repeat("x", 1500)}, 2000, ReasonTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBody(iotest.HalfReader(strings.NewReader(strings.Join(tt.parts, ""))), 200, tt.limit)
			var err error
			for i, part := range tt.parts {
				if i > 0 {
					b.StartItem()
				}
				if _, err = io.ReadFull(b, make([]byte, len(part))); err != nil {
					break
				}
			}
			if err == nil {
				_, err = io.ReadAll(b)
			}
			if tt.reason == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			err = b.Fail(err, "anything")
			var pe *Error
			if !errors.As(err, &pe) || pe.Reason != tt.reason || pe.Class != Fatal || !strings.Contains(pe.Error(), "--endpoint") {
				t.Fatalf("got %v, want a fatal %s that says what to check", err, tt.reason)
			}
		})
	}
}

func TestBodyCutByTheTransport(t *testing.T) {
	b := NewBody(io.MultiReader(strings.NewReader(`{"Items":`), iotest.ErrReader(io.ErrUnexpectedEOF)), 200, MaxAnswerSize)
	_, err := io.ReadAll(b)
	if err = b.Fail(err, "anything"); ClassOf(err) != Retryable || reasonOf(err) != "network_error" {
		t.Fatalf("got %v, want a network error", err)
	}
	if err := b.Fail(errors.New("invalid character"), "anything"); reasonOf(err) != "network_error" {
		t.Fatalf("a decode error after a cut body: %v", err)
	}
}

func reasonOf(err error) string {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Reason
	}
	return ""
}

func TestRedact(t *testing.T) {
	const secret = "me+sms@example.com/k<3>&"
	for _, tt := range []struct{ secret, form string }{
		{secret, "me+sms@example.com/k<3>&"},
		{secret, "me%2Bsms%40example.com%2Fk%3C3%3E%26"},     // a form or a query
		{secret, "me+sms@example.com%2Fk%3C3%3E&"},           // a path segment
		{secret, `me+sms@example.com/k\u003c3\u003e\u0026`},  // Go's JSON
		{secret, `me+sms@example.com\/k\u003c3\u003e\u0026`}, // PHP's json_encode
		{`pa"ss\word`, `pa\"ss\\word`},                       // JSON, or a quoted Go string
	} {
		got := Redact("before "+tt.form+" after", []string{tt.secret})
		if got != "before [redacted] after" {
			t.Errorf("%q: got %q", tt.form, got)
		}
	}
	if got := Redact("abc", []string{"abc"}); got != "abc" {
		t.Errorf("a secret shorter than %d characters is not redacted: got %q", MinSecretLen, got)
	}
	// Redacted before it is cut: the head of a secret that straddles the
	// cut is gone too.
	body := strings.Repeat("x", ExcerptLen-5) + secret
	if got := Excerpt([]byte(body), []string{secret}); strings.Contains(got, "me+s") || len(got) > ExcerptLen+2 {
		t.Errorf("excerpt %q", got)
	}
	if got := Clip(strings.Repeat("é", ExcerptLen+10), nil); len([]rune(got)) != ExcerptLen+1 {
		t.Errorf("clip of %d characters", len([]rune(got)))
	}
}

// No redirect is followed, to another host or the same one: the run stops,
// naming the target without its user info or query, and nothing reaches the
// target.
func TestRedirectsRefused(t *testing.T) {
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		var reached atomic.Int32
		other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Add(1) }))
		defer other.Close()
		for _, target := range []string{other.URL, "/same-host"} {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/same-host" {
					reached.Add(1)
					return
				}
				http.Redirect(w, r, strings.Replace(target, "://", "://user:pw@", 1)+"/v1/x?key=secret-in-query", code)
			}))
			for name, client := range map[string]*http.Client{"default": nil, "given": srv.Client()} {
				cfg, err := Config{HTTPClient: client}.Ready(nil)
				if err != nil {
					t.Fatal(err)
				}
				resp, err := cfg.HTTPClient.Post(srv.URL+"/v1/x", "application/json", strings.NewReader(`{"secret":1}`))
				if err == nil {
					resp.Body.Close()
				}
				err = NetworkError(err)
				var pe *Error
				if !errors.As(err, &pe) || pe.Class != Fatal || pe.Status != code {
					t.Fatalf("%d to %s, %s client: got %v, want a fatal error", code, target, name, err)
				}
				msg := err.Error()
				if !strings.Contains(msg, "/v1/x") || !strings.Contains(msg, "--endpoint") || strings.Contains(msg, "secret-in-query") || strings.Contains(msg, "pw@") {
					t.Errorf("message %q", msg)
				}
			}
			srv.Close()
		}
		if n := reached.Load(); n != 0 {
			t.Errorf("%d: %d requests reached the redirect's target", code, n)
		}
	}
}
