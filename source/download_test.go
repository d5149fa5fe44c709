package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// bigCSV is large enough that a server can cut it half-way.
var bigCSV = func() string {
	var b strings.Builder
	b.WriteString("name,mobile\n")
	for i := range 5000 {
		fmt.Fprintf(&b, "Name%d,06%08d\n", i, i)
	}
	return b.String()
}()

var modified = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// sheetServer serves bigCSV as a published sheet does, with the validators
// asked for, and answers conditional and Range requests (http.ServeContent
// does, as most servers do). It records each request's headers.
type sheetServer struct {
	etag, lastModified bool
	mu                 sync.Mutex
	requests           []http.Header
	// before, when set, answers a request instead of the file: it returns
	// false to let the file be served.
	before func(n int, w http.ResponseWriter, r *http.Request) bool
}

func (s *sheetServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.Header.Clone())
	n := len(s.requests)
	s.mu.Unlock()
	if s.before != nil && s.before(n, w, r) {
		return
	}
	if s.etag {
		w.Header().Set("ETag", `"v1"`)
	}
	mod := time.Time{}
	if s.lastModified {
		mod = modified
	}
	w.Header().Set("Content-Type", "text/csv")
	http.ServeContent(w, r, "", mod, strings.NewReader(bigCSV))
}

func (s *sheetServer) header(i int, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[i].Get(name)
}

func (s *sheetServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// retries runs op up to n times while it fails with a *TransientError, as
// the importer's retry policy does (without its waits), and keeps the
// Retry-After each failure asked for.
type retries struct {
	n     int
	after []time.Duration
}

func (rt *retries) do(_ string, op func() error) error {
	var err error
	for range rt.n {
		err = op()
		var te *TransientError
		if !errors.As(err, &te) {
			return err
		}
		rt.after = append(rt.after, te.RetryAfter)
	}
	return err
}

func readAll(t *testing.T, src *Source) string {
	t.Helper()
	text, err := io.ReadAll(src.Text())
	if err != nil {
		t.Fatal(err)
	}
	return string(text)
}

// openServed serves h and opens its URL with o, under a policy of three
// tries when o has none; the server and the download end with the test.
func openServed(t *testing.T, h http.Handler, o Options) *Source {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	if o.Retry == nil {
		o.Retry = (&retries{n: 3}).do
	}
	src, err := Open(context.Background(), ts.URL, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// A rerun sends what the last download's answer carried, and a 304 is
// ErrNotModified.
func TestDownloadConditional(t *testing.T) {
	for _, tt := range []struct {
		name               string
		etag, lastModified bool
	}{
		{"ETag and Last-Modified", true, true},
		{"ETag", true, false},
		{"Last-Modified", false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := &sheetServer{etag: tt.etag, lastModified: tt.lastModified}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			src, err := Open(context.Background(), ts.URL+"/pub?output=csv", Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := readAll(t, src); got != bigCSV {
				t.Fatalf("read %d bytes, want %d", len(got), len(bigCSV))
			}
			src.Close()
			v := src.Validators
			if (v.ETag == `"v1"`) != tt.etag || (v.LastModified == modified.Format(http.TimeFormat)) != tt.lastModified {
				t.Fatalf("validators %+v", v)
			}
			if srv.header(0, "If-None-Match") != "" || srv.header(0, "If-Modified-Since") != "" {
				t.Fatal("the first download was conditional")
			}

			_, err = Open(context.Background(), ts.URL+"/pub?output=csv", Options{Validators: v})
			if !errors.Is(err, ErrNotModified) {
				t.Fatalf("rerun: %v, want ErrNotModified", err)
			}
			if srv.header(1, "If-None-Match") != v.ETag || srv.header(1, "If-Modified-Since") != v.LastModified {
				t.Fatalf("rerun sent If-None-Match %q, If-Modified-Since %q", srv.header(1, "If-None-Match"), srv.header(1, "If-Modified-Since"))
			}
		})
	}
}

// Answers that are not the file: retried when they may pass, else an error
// that says what to do, without the URL's secrets.
func TestDownloadRefused(t *testing.T) {
	tests := []struct {
		name     string
		failures int // requests answered with status before the file
		status   int
		header   http.Header
		requests int
		err      string // "" when the file is read in the end
		after    time.Duration
	}{
		{"a 500 then the file", 1, http.StatusInternalServerError, nil, 2, "", 0},
		{"a 429 with Retry-After, then the file", 1, http.StatusTooManyRequests, http.Header{"Retry-After": {"7"}}, 2, "", 7 * time.Second},
		{"503 every time", 9, http.StatusServiceUnavailable, nil, 3, "answered HTTP 503", 0},
		{"not found", 9, http.StatusNotFound, nil, 1, "not found (HTTP 404): check the URL", 0},
		{"forbidden", 9, http.StatusForbidden, nil, 1, "Publish to web", 0},
		{"a sign-in page", 9, http.StatusOK, http.Header{"Content-Type": {"text/html; charset=utf-8"}}, 1, "web page", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &sheetServer{etag: true, before: func(n int, w http.ResponseWriter, r *http.Request) bool {
				if n > tt.failures {
					return false
				}
				for k, v := range tt.header {
					w.Header()[k] = v
				}
				w.WriteHeader(tt.status)
				return true
			}}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			rt := &retries{n: 3}
			src, err := Open(context.Background(), ts.URL+"/contacts.csv?token=s3cr3t-t0ken", Options{Retry: rt.do})
			if srv.count() != tt.requests {
				t.Errorf("%d requests, want %d", srv.count(), tt.requests)
			}
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				defer src.Close()
				if readAll(t, src) != bigCSV {
					t.Fatal("wrong text")
				}
				if rt.after[0] != tt.after {
					t.Errorf("Retry-After %v, want %v", rt.after[0], tt.after)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err %v, want %q", err, tt.err)
			}
			if strings.Contains(err.Error(), "s3cr3t") || !strings.Contains(err.Error(), "token=…") {
				t.Errorf("the error does not name the URL without its token: %v", err)
			}
		})
	}
}

// cutAfter answers the first request with the file's headers and half its
// body, then drops the connection.
func cutAfter(half int, etag bool) func(int, http.ResponseWriter, *http.Request) bool {
	return func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n > 1 {
			return false
		}
		if etag {
			w.Header().Set("ETag", `"v1"`)
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(bigCSV)))
		io.WriteString(w, bigCSV[:half])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // drops the connection
	}
}

// A connection dropped part-way is resumed where it stopped, and the file
// read is the file served, byte for byte.
func TestDownloadResumes(t *testing.T) {
	half := len(bigCSV) / 2
	t.Run("with Range, when the server names the version", func(t *testing.T) {
		srv := &sheetServer{etag: true, before: cutAfter(half, true)}
		src := openServed(t, srv, Options{})
		if readAll(t, src) != bigCSV {
			t.Fatal("the text read is not the file")
		}
		if srv.count() != 2 || srv.header(1, "Range") != fmt.Sprintf("bytes=%d-", half) || srv.header(1, "If-Range") != `"v1"` {
			t.Fatalf("%d requests; the second asked Range %q If-Range %q", srv.count(), srv.header(1, "Range"), srv.header(1, "If-Range"))
		}
	})
	t.Run("from the start, when it does not: the start must be the same", func(t *testing.T) {
		srv := &sheetServer{before: cutAfter(half, false)}
		src := openServed(t, srv, Options{})
		if readAll(t, src) != bigCSV {
			t.Fatal("the text read is not the file")
		}
		if srv.count() != 2 || srv.header(1, "Range") != "" {
			t.Fatalf("%d requests; the second asked Range %q", srv.count(), srv.header(1, "Range"))
		}
	})
	t.Run("a file that changed in between is refused", func(t *testing.T) {
		srv := &sheetServer{before: func(n int, w http.ResponseWriter, r *http.Request) bool {
			if n == 1 {
				return cutAfter(half, false)(n, w, r)
			}
			io.WriteString(w, strings.Replace(bigCSV, "Name1,", "Other,", 1))
			return true
		}}
		src := openServed(t, srv, Options{})
		if _, err := io.ReadAll(src.Text()); err == nil || !strings.Contains(err.Error(), "changed while it was downloaded") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("a server that stops sending", func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		srv := &sheetServer{etag: true, before: func(n int, w http.ResponseWriter, r *http.Request) bool {
			if n > 1 {
				return false
			}
			w.Header().Set("ETag", `"v1"`)
			w.Header().Set("Content-Length", fmt.Sprint(len(bigCSV)))
			io.WriteString(w, bigCSV[:half])
			w.(http.Flusher).Flush()
			select { // until the client gives up on it
			case <-r.Context().Done():
			case <-release:
			}
			return true
		}}
		src := openServed(t, srv, Options{Timeout: 200 * time.Millisecond})
		if readAll(t, src) != bigCSV || srv.count() != 2 {
			t.Fatalf("%d requests", srv.count())
		}
	})
	t.Run("a reader that pauses longer than the timeout", func(t *testing.T) {
		// The import holds the reader back while a slow provider answers:
		// that is not the server's silence, and costs no second request.
		srv := &sheetServer{etag: true}
		src := openServed(t, srv, Options{Timeout: 50 * time.Millisecond})
		var got bytes.Buffer
		chunk := make([]byte, len(bigCSV)/3)
		for {
			n, err := src.Text().Read(chunk)
			got.Write(chunk[:n])
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(150 * time.Millisecond)
		}
		if got.String() != bigCSV || srv.count() != 1 {
			t.Fatalf("%d requests for %d of %d bytes", srv.count(), got.Len(), len(bigCSV))
		}
	})
	t.Run("retries exhausted", func(t *testing.T) {
		srv := &sheetServer{before: func(n int, w http.ResponseWriter, r *http.Request) bool {
			if n == 1 {
				return cutAfter(half, false)(n, w, r)
			}
			w.WriteHeader(http.StatusBadGateway)
			return true
		}}
		src := openServed(t, srv, Options{})
		_, err := io.ReadAll(src.Text())
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("broke off after %d bytes and could not be resumed", half)) {
			t.Fatalf("err %v", err)
		}
		if _, again := src.Text().Read(make([]byte, 10)); again == nil || !strings.Contains(again.Error(), "could not be resumed") {
			t.Fatalf("a read after the failure: %v", again)
		}
	})
}

// A published Google sheet redirects to another host: the download follows,
// and the URL's credentials go to its own host only.
func TestDownloadRedirects(t *testing.T) {
	var auth sync.Map // host → Authorization received
	record := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			auth.Store(r.Host+r.URL.Path, r.Header.Get("Authorization"))
			h.ServeHTTP(w, r)
		})
	}
	content := httptest.NewServer(record(&sheetServer{etag: true}))
	defer content.Close()
	other, _ := url.Parse(content.URL)
	other.Host = strings.Replace(other.Host, "127.0.0.1", "localhost", 1) // another host, as googleusercontent.com is
	docs := httptest.NewServer(record(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/pub" {
			http.Redirect(w, r, "http://"+r.Host+"/pub2", http.StatusFound) // same host, absolute: no user information
			return
		}
		http.Redirect(w, r, other.String()+"/export?token=b", http.StatusTemporaryRedirect)
	})))
	defer docs.Close()

	u, _ := url.Parse(docs.URL + "/pub?gid=0&single=true&output=csv&token=s3cr3t-t0ken")
	u.User = url.UserPassword("me", "pa ss-w0rd")
	src, err := Open(context.Background(), u.String(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if readAll(t, src) != bigCSV {
		t.Fatal("wrong text")
	}
	basic := "Basic " + "bWU6cGEgc3MtdzByZA==" // me:pa ss-w0rd
	docsHost := strings.TrimPrefix(docs.URL, "http://")
	for path, want := range map[string]string{docsHost + "/pub": basic, docsHost + "/pub2": basic, other.Host + "/export": ""} {
		if got, _ := auth.Load(path); got != want {
			t.Errorf("%s received Authorization %q, want %q", path, got, want)
		}
	}
	want := docs.URL + "/pub?gid=0&single=true&output=csv&token=…"
	if src.Name != want || src.Describe("") != "csv, "+want {
		t.Errorf("name %q, source %q; want %q", src.Name, src.Describe(""), want)
	}
	name, secrets := NameOf(u.String())
	if name != want {
		t.Errorf("NameOf: %q, want %q", name, want)
	}
	for _, secret := range []string{"pa ss-w0rd", "pa%20ss-w0rd", "s3cr3t-t0ken"} {
		found := false
		for _, s := range secrets {
			found = found || s == secret
		}
		if !found {
			t.Errorf("%q is not among the secrets %q", secret, secrets)
		}
	}
}

func TestCheckRedirect(t *testing.T) {
	u, _ := url.Parse("https://me:pw@docs.example.com/pub")
	d := &downloader{url: u, name: "https://docs.example.com/pub"}
	req := func(raw string) *http.Request {
		r, _ := http.NewRequest(http.MethodGet, raw, nil)
		r.Header.Set("Authorization", "Basic x")
		r.Header.Set("Cookie", "c=1")
		r.Header.Set("Referer", "https://docs.example.com/pub?token=s3cr3t")
		return r
	}
	first := req(u.String())
	tests := []struct {
		to   string
		via  int
		err  string
		auth bool
	}{
		{"https://docs.example.com/other", 1, "", true},
		{"https://sub.docs.example.com/x", 1, "", false}, // Go's client would keep it for a subdomain
		{"https://cdn.example.net/x", 1, "", false},
		{"http://docs.example.com/x", 1, "from https to http", false},
		{"https://docs.example.com/x", maxRedirects, "more than 10 times", false},
	}
	for _, tt := range tests {
		r := req(tt.to)
		via := make([]*http.Request, tt.via)
		for i := range via {
			via[i] = first
		}
		err := d.checkRedirect(r, via)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: %v, want %q", tt.to, err, tt.err)
			}
			continue
		}
		h := r.Header
		if err != nil || (h.Get("Authorization") != "") != tt.auth || (h.Get("Cookie") != "") != tt.auth || (h.Get("Referer") != "") != tt.auth {
			t.Errorf("%s: err %v, Authorization %q, Cookie %q, Referer %q", tt.to, err, h.Get("Authorization"), h.Get("Cookie"), h.Get("Referer"))
		}
	}
}

func TestRedactURL(t *testing.T) {
	for raw, want := range map[string]string{
		"https://docs.google.com/spreadsheets/d/e/2PACX-1vQ/pub?gid=0&single=true&output=csv": "https://docs.google.com/spreadsheets/d/e/2PACX-1vQ/pub?gid=0&single=true&output=csv",
		"https://user:p%40ss@example.com/c.csv?access_token=abc&x=":                           "https://example.com/c.csv?access_token=…&x=",
		"http://example.com/c.csv#frag":                                                       "http://example.com/c.csv",
	} {
		u, _ := url.Parse(raw)
		if got, _ := redactURL(u); got != want {
			t.Errorf("%s: %s, want %s", raw, got, want)
		}
	}
	u, _ := url.Parse("https://user:p%40ss@example.com/c.csv?access_token=abc%2Bd")
	_, secrets := redactURL(u)
	for _, s := range []string{"p@ss", "p%40ss", "abc%2Bd", "abc+d"} {
		if !bytes.Contains([]byte(strings.Join(secrets, "\x00")+"\x00"), []byte(s+"\x00")) {
			t.Errorf("%q not among %q", s, secrets)
		}
	}
}

// Closing a download half-read ends its request.
func TestDownloadClose(t *testing.T) {
	var done atomic.Bool
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, bigCSV[:markupSniffSize+100]) // what Open looks at, and more
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		done.Store(true)
	}))
	defer ts.Close()
	src, err := Open(context.Background(), ts.URL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	src.Close()
	ts.Close() // waits for the handler, which returns once the request is ended
	if !done.Load() {
		t.Fatal("the request is still open")
	}
}
