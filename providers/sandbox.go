package providers

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Sandbox is a provider's in-process emulator: an http.Handler that speaks
// the provider's API, with fault injection. --sandbox runs the real pipeline
// against it on loopback, and the tests use it.
type Sandbox interface {
	http.Handler
	// Credentials returns values the sandbox accepts, keyed by variable name.
	Credentials() map[string]string
	// Contacts returns what the list holds now, sorted by phone. A number
	// the list holds twice (a provider that duplicates on create) appears
	// twice.
	Contacts(list string) []StoredContact
	// Seed stores contacts in the list as if they had been there before
	// the run; the sandbox gives them IDs where the API has IDs.
	Seed(list string, contacts ...StoredContact)
	// Requests counts the requests received, faulty ones included.
	Requests() int
	// Recorded returns every request received when SandboxOptions.Record
	// was set.
	Recorded() []RecordedRequest
}

// StoredContact is a provider-neutral view of a contact an emulator holds.
type StoredContact struct {
	Phone     string // E.164 with "+"
	ID        string
	FirstName string
	LastName  string
	Email     string
	Birthday  string // yyyy-mm-dd
	Fields    map[string]string
}

// RecordedRequest is one request as the sandbox received it.
type RecordedRequest struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// Fault is what the sandbox does to one request.
type Fault int

// The faults a sandbox can inject.
const (
	NoFault Fault = iota
	// Transient answers with the provider's own "try again" error.
	Transient
	// TooMany answers 429 with Retry-After.
	TooMany
	// Drop applies the request, then closes the connection without an
	// answer: the client cannot tell whether it was applied.
	Drop
	// overLimit is a 429 for a request beyond Faults.ServerRate.
	overLimit
)

// Faults configures fault injection. Script decides the first requests one
// by one; the rates decide the rest at random (from Seed, so runs repeat).
type Faults struct {
	Script      []Fault
	ErrorRate   float64
	TooManyRate float64
	DropRate    float64
	RetryAfter  time.Duration // sent with 429; written in seconds, fractions allowed
	Latency     time.Duration // added before every answer
	Seed        uint64
	// ServerRate, when set, is a limit the provider enforces and does not
	// document: requests beyond ServerRate a second (a bucket of
	// ServerRate requests, at least 1) are answered 429, with RetryAfter
	// or else the time until the next request is allowed, in whole seconds.
	ServerRate float64
}

// SandboxOptions configures a sandbox.
type SandboxOptions struct {
	Faults Faults
	Record bool
	// Lists, when set, are the only lists that exist; otherwise any list
	// name is accepted (and created on first use where the API allows it).
	Lists []string
	// RefusePhones lists E.164 numbers the sandbox refuses as invalid, with
	// the provider's own row-level error, so tests can provoke one.
	RefusePhones []string
}

// Harness is the part every emulator shares: fault injection, request
// counting and recording. An emulator embeds it and wraps its API handler
// with Wrap.
type Harness struct {
	opts      SandboxOptions
	transient http.HandlerFunc
	limit     *rate.Limiter // Faults.ServerRate

	mu       sync.Mutex
	rng      *rand.Rand
	requests int
	recorded []RecordedRequest
}

// NewHarness returns a harness that answers Transient faults with transient,
// the provider's own "try again" answer.
func NewHarness(opts SandboxOptions, transient http.HandlerFunc) *Harness {
	h := &Harness{opts: opts, transient: transient, rng: rand.New(rand.NewPCG(opts.Faults.Seed, 0x5eed))}
	if r := opts.Faults.ServerRate; r > 0 {
		h.limit = rate.NewLimiter(rate.Limit(r), max(1, int(r)))
	}
	return h
}

// Requests counts the requests received.
func (h *Harness) Requests() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.requests
}

// Recorded returns a copy of the recorded requests.
func (h *Harness) Recorded() []RecordedRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]RecordedRequest(nil), h.recorded...)
}

// Refuses reports whether the E.164 number is in SandboxOptions.RefusePhones.
func (h *Harness) Refuses(e164 string) bool {
	for _, p := range h.opts.RefusePhones {
		if p == e164 {
			return true
		}
	}
	return false
}

// ListExists reports whether a list exists under SandboxOptions.Lists.
func (h *Harness) ListExists(name string) bool {
	if h.opts.Lists == nil {
		return true
	}
	for _, l := range h.opts.Lists {
		if l == name {
			return true
		}
	}
	return false
}

func (h *Harness) next(r *http.Request, body []byte) Fault {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := h.requests
	h.requests++
	if h.opts.Record {
		h.recorded = append(h.recorded, RecordedRequest{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
	}
	f := h.opts.Faults
	if n < len(f.Script) {
		return f.Script[n]
	}
	if h.limit != nil && !h.limit.Allow() {
		return overLimit
	}
	if f.ErrorRate == 0 && f.TooManyRate == 0 && f.DropRate == 0 {
		return NoFault
	}
	x := h.rng.Float64()
	switch {
	case x < f.ErrorRate:
		return Transient
	case x < f.ErrorRate+f.TooManyRate:
		return TooMany
	case x < f.ErrorRate+f.TooManyRate+f.DropRate:
		return Drop
	}
	return NoFault
}

// Wrap puts fault injection, counting and recording in front of api.
func (h *Harness) Wrap(api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		fault := h.next(r, body)
		if d := h.opts.Faults.Latency; d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		switch fault {
		case Transient:
			h.transient(w, r)
		case TooMany:
			secs := h.opts.Faults.RetryAfter.Seconds()
			w.Header().Set("Retry-After", strconv.FormatFloat(secs, 'f', -1, 64))
			http.Error(w, "too many requests", http.StatusTooManyRequests)
		case overLimit:
			wait := h.opts.Faults.RetryAfter
			if wait == 0 {
				wait = max(time.Second, time.Duration(float64(time.Second)/h.opts.Faults.ServerRate))
			}
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			http.Error(w, "too many requests", http.StatusTooManyRequests)
		case Drop:
			api.ServeHTTP(&discardWriter{header: http.Header{}}, r)
			dropConnection(w)
		default:
			api.ServeHTTP(w, r)
		}
	})
}

// discardWriter swallows the answer of a request whose connection is
// dropped.
type discardWriter struct{ header http.Header }

func (d *discardWriter) Header() http.Header         { return d.header }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

// quietLog keeps the sandbox's server from printing dropped connections.
var quietLog = log.New(io.Discard, "", 0)

// dropConnection closes the client's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // the server closes the connection
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		conn.Close()
	}
}

// Serve runs h on a loopback port until ctx is done, and returns its base
// URL. It is how --sandbox puts an emulator in front of the real pipeline.
func Serve(ctx context.Context, h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: quietLog}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			ln.Close()
		}
	}()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	return "http://" + ln.Addr().String(), nil
}
