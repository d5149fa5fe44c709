package providers

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"3", 3 * time.Second}, {"0.25", 250 * time.Millisecond}, {"-1", 0}, {"soon", 0},
		{"99999", 99999 * time.Second}, {"99999999999999", maxRetryAfter}, {"1e300", maxRetryAfter},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
	} {
		if got := ParseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestConfigURL(t *testing.T) {
	for _, tt := range []struct{ endpoint, want string }{
		{"", "https://api.example.com/v1/x"},
		{"http://127.0.0.1:9", "http://127.0.0.1:9/v1/x"},
		{"http://127.0.0.1:9/prefix/", "http://127.0.0.1:9/prefix/v1/x"},
	} {
		if got := (Config{Endpoint: tt.endpoint}).URL("https://api.example.com", "/v1/x"); got != tt.want {
			t.Errorf("URL with endpoint %q = %q, want %q", tt.endpoint, got, tt.want)
		}
	}
}

func TestClassOf(t *testing.T) {
	if ClassOf(nil) != 0 || ClassOf(errors.New("x")) != 0 {
		t.Error("unclassified errors must have no class")
	}
	if ClassOf(NetworkError(io.ErrUnexpectedEOF)) != Retryable {
		t.Error("a truncated answer must be retryable")
	}
	wrapped := errors.Join(errors.New("context"), &Error{Class: Fatal})
	if ClassOf(wrapped) != Fatal {
		t.Error("the class of a wrapped error is lost")
	}
}

func TestErrorMessage(t *testing.T) {
	e := &Error{Class: Fatal, Reason: "credentials", Code: "101", Status: 400, Message: "bad login", Hint: "check the key"}
	if got := e.Error(); got != "bad login (code 101, HTTP 400); check the key" {
		t.Fatalf("Error() = %q", got)
	}
}

func TestHarnessFaults(t *testing.T) {
	h := NewHarness(SandboxOptions{Record: true, Faults: Faults{Script: []Fault{Transient, TooMany, Drop, NoFault}, RetryAfter: 1500 * time.Millisecond}},
		func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "try again", http.StatusBadGateway) })
	var applied atomic.Int32
	srv := httptest.NewServer(h.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		applied.Add(1)
		io.WriteString(w, "ok")
	})))
	defer srv.Close()
	post := func() (*http.Response, error) {
		return srv.Client().Post(srv.URL+"/x", "text/plain", strings.NewReader("body"))
	}

	if resp, _ := post(); resp.StatusCode != http.StatusBadGateway {
		t.Errorf("transient: %d", resp.StatusCode)
	}
	resp, _ := post()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1.5" {
		t.Errorf("too many: %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if _, err := post(); err == nil {
		t.Error("drop: got an answer")
	}
	if applied.Load() != 1 {
		t.Errorf("drop must apply the request first: applied %d", applied.Load())
	}
	if resp, _ := post(); resp.StatusCode != http.StatusOK || applied.Load() != 2 {
		t.Errorf("no fault: %d, applied %d", resp.StatusCode, applied.Load())
	}
	if h.Requests() != 4 || len(h.Recorded()) != 4 || string(h.Recorded()[0].Body) != "body" {
		t.Errorf("requests %d, recorded %d", h.Requests(), len(h.Recorded()))
	}
}
