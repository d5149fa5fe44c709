package providers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Class is what the importer does about a failure. Every failure a provider
// returns falls in exactly one class.
type Class int

// The three classes of DESIGN.md.
const (
	// Retryable: the request may succeed if sent again (5xx, 429, network,
	// the provider's own "try again" codes).
	Retryable Class = iota + 1
	// Row: the provider refused the contact itself. When the refused request
	// carried several contacts, the importer splits it to find which.
	Row
	// Fatal: nothing else will succeed either (credentials, credit, unknown
	// list); the run stops at once.
	Fatal
)

func (c Class) String() string {
	switch c {
	case Retryable:
		return "retryable"
	case Row:
		return "row"
	case Fatal:
		return "fatal"
	}
	return "unclassified"
}

// Error is a classified provider failure. Providers return it from Open and
// Apply; the importer decides on Class alone.
type Error struct {
	Class Class
	// Reason is the report's key for the affected rows ("invalid_phone",
	// "server_error", "credentials"…).
	Reason string
	// Outcome is what a Row error makes of its contact: Rejected unless the
	// provider says the contact is merely Skipped (it exists) or Failed.
	Outcome Outcome
	// Code is the provider's own error code, Status the HTTP status (0 when
	// the request got no answer).
	Code   string
	Status int
	// Message is the provider's explanation; it never holds a credential.
	Message string
	// Hint tells the user what to do next (fatal errors).
	Hint string
	// RetryAfter is how long the provider asked us to wait (429).
	RetryAfter time.Duration
	// Err is the underlying error, if any (network failures).
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	if e.Message == "" {
		b.WriteString(e.Reason)
	}
	var detail []string
	if e.Code != "" {
		detail = append(detail, "code "+e.Code)
	}
	if e.Status != 0 {
		detail = append(detail, "HTTP "+strconv.Itoa(e.Status))
	}
	if len(detail) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(detail, ", "))
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, "; %s", e.Hint)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// RowOutcome is the outcome a Row error gives its contact.
func (e *Error) RowOutcome() Outcome {
	if e.Outcome == 0 {
		return Rejected
	}
	return e.Outcome
}

// ClassOf returns the class of err: that of the *Error it wraps, Retryable
// for transport failures, and 0 for a cancelled context or an error nobody
// classified (which the importer treats as fatal: it is a bug).
func ClassOf(err error) Class {
	if err == nil || errors.Is(err, context.Canceled) {
		return 0
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Class
	}
	if IsNetworkError(err) {
		return Retryable
	}
	return 0
}

// IsNetworkError reports whether err is a failure to get an answer: refused
// or dropped connection, timeout, truncated body. The request may or may not
// have been applied.
func IsNetworkError(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	var ne net.Error
	var ue *url.Error
	return errors.As(err, &ne) || errors.As(err, &ue) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, context.DeadlineExceeded)
}

// NetworkError wraps a transport failure (from http.Client.Do or from
// reading the body) as a Retryable error. A cancelled context is returned
// as is, so that the importer stops instead of retrying, and so is an
// *Error the client raised itself (a refused redirect).
func NetworkError(err error) error {
	var pe *Error
	switch {
	case errors.Is(err, context.Canceled):
		return err
	case errors.As(err, &pe):
		return pe
	}
	return &Error{Class: Retryable, Reason: "network_error", Message: "no answer from the provider", Err: stripURL(err)}
}

// stripURL drops the request URL from a *url.Error: query strings may hold
// secrets in some APIs, and the URL adds nothing the user can act on.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// CheckTransient classifies the answers every API shares: 429 (with its
// Retry-After) and 5xx are Retryable. It returns nil for any other status,
// leaving the provider to decode its own error body.
func CheckTransient(resp *http.Response) *Error {
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return &Error{Class: Retryable, Reason: "rate_limited", Status: resp.StatusCode,
			Message: "the provider asked to slow down", RetryAfter: ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
	case resp.StatusCode >= 500:
		return &Error{Class: Retryable, Reason: "server_error", Status: resp.StatusCode, Message: "the provider failed to process the request"}
	}
	return nil
}

// maxRetryAfter is the longest wait ParseRetryAfter returns.
const maxRetryAfter = time.Duration(math.MaxInt64)

// ParseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
// It returns 0 when the header is absent or unreadable.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 {
		if secs >= maxRetryAfter.Seconds() {
			// Beyond what a Duration holds, the conversion would give any
			// value, a negative one on amd64: the wait the provider asked
			// for would be forgotten instead of ending the retries.
			return maxRetryAfter
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
