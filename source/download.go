package source

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Validators identify a version of a downloaded file: the ETag and
// Last-Modified its server sent with it.
type Validators struct {
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
}

// IsZero reports whether the server sent neither.
func (v Validators) IsZero() bool { return v.ETag == "" && v.LastModified == "" }

// TransientError is a download failure that may pass if the request is sent
// again: an answer 429 or 5xx, no answer, a connection dropped part-way.
type TransientError struct {
	Err error
	// RetryAfter is how long the server asked to wait (429, 503).
	RetryAfter time.Duration
}

func (e *TransientError) Error() string { return e.Err.Error() }
func (e *TransientError) Unwrap() error { return e.Err }

// maxRedirects is how many redirects a download follows, as browsers and
// Go's client do.
const maxRedirects = 10

// downloader reads a file from a URL as it arrives, never holding more
// than a buffer of it. A connection dropped part-way is resumed where it
// stopped: with a Range request when the server gave a validator to check
// that the rest belongs to the same version, else by downloading again and
// checking that the start is the same bytes (by their SHA-256) before
// reading on.
type downloader struct {
	ctx     context.Context
	client  *http.Client
	url     *url.URL // as given, credentials included
	name    string   // the URL as messages show it
	timeout time.Duration
	retry   func(string, func() error) error

	resp   *http.Response // the answer being read
	cancel context.CancelFunc
	timer  *time.Timer // cancels the request when the server is silent for timeout
	idle   atomic.Bool // the timer fired
	first  *http.Response
	read   int64     // bytes read so far
	sum    hash.Hash // of those bytes
	broken error     // the error a body read returned with bytes, for the next Read
	failed error     // the download could not go on: every Read returns it
}

// download sends the first request and returns the download ready to be
// read, or ErrNotModified.
func download(ctx context.Context, raw string, o Options) (*downloader, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		// url.Parse quotes the URL in its error: it may hold a password.
		return nil, errors.New("FILE looks like a URL but is not a valid one: check it")
	}
	d := &downloader{ctx: ctx, url: u, timeout: o.Timeout, retry: o.Retry, sum: sha256.New()}
	if d.timeout <= 0 {
		d.timeout = time.Minute
	}
	if d.retry == nil {
		d.retry = func(_ string, op func() error) error { return op() }
	}
	d.name, _ = redactURL(u)
	d.client = &http.Client{
		Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout: 10 * time.Second,
			ForceAttemptHTTP2:   true,
		},
		CheckRedirect: d.checkRedirect,
	}
	conditional := http.Header{}
	if v := o.Validators; v.ETag != "" {
		conditional.Set("If-None-Match", v.ETag)
	}
	if v := o.Validators; v.LastModified != "" {
		conditional.Set("If-Modified-Since", v.LastModified)
	}
	err = d.retry("downloading "+d.name, func() error {
		resp, err := d.get(conditional)
		if err != nil {
			return err
		}
		switch {
		case resp.StatusCode == http.StatusNotModified && len(conditional) > 0:
			d.close()
			return ErrNotModified
		case resp.StatusCode == http.StatusOK:
			if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "text/html" {
				d.close()
				return fmt.Errorf("%s answered with a web page, not a file: the link may lead to a sign-in page; for a Google sheet, use File › Share › Publish to web, choose CSV, and pass the link it gives", d.name)
			}
			d.first = resp
			return nil
		}
		return d.refused(resp, "the file")
	})
	if err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// validators returns those of the first answer.
func (d *downloader) validators() Validators {
	return Validators{ETag: d.first.Header.Get("ETag"), LastModified: d.first.Header.Get("Last-Modified")}
}

// get sends a GET with the given headers, under the timer that cancels it
// when no answer comes within the timeout.
func (d *downloader) get(h http.Header) (*http.Response, error) {
	d.close()
	ctx, cancel := context.WithCancel(d.ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.url.String(), nil)
	if err != nil {
		cancel()
		return nil, errors.New("FILE looks like a URL but is not a valid one: check it")
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", "contactsync")
	d.idle.Store(false)
	d.cancel = cancel
	d.timer = time.AfterFunc(d.timeout, func() { d.idle.Store(true); cancel() })
	resp, err := d.client.Do(req)
	if err != nil {
		d.close()
		return nil, d.failure(err)
	}
	d.timer.Stop() // armed again by each read of the body
	d.resp = resp
	return resp, nil
}

// failure says why a request got no answer, or why reading its body
// stopped, without the URL (which the errors of net/http quote).
func (d *downloader) failure(err error) error {
	if d.ctx.Err() != nil {
		return d.ctx.Err()
	}
	if d.idle.Load() {
		return &TransientError{Err: fmt.Errorf("%s sent nothing for %v", d.name, d.timeout)}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var redirect *redirectError
	var dns *net.DNSError
	var cert *tls.CertificateVerificationError
	switch {
	case errors.As(err, &redirect):
		return redirect
	case errors.As(err, &dns) && dns.IsNotFound:
		return fmt.Errorf("cannot download %s: no such host; check the URL", d.name)
	case errors.As(err, &cert):
		return fmt.Errorf("cannot download %s: its TLS certificate is not valid (%v)", d.name, cert.Err)
	}
	return &TransientError{Err: fmt.Errorf("downloading %s: %w", d.name, err)}
}

// refused turns an answer other than the file into an error: transient
// for 429 and 5xx, else one that says what to check.
func (d *downloader) refused(resp *http.Response, what string) error {
	d.close()
	status := resp.StatusCode
	switch {
	case status == http.StatusTooManyRequests || status >= 500:
		return &TransientError{Err: fmt.Errorf("%s answered HTTP %d", d.name, status), RetryAfter: retryAfter(resp.Header.Get("Retry-After"))}
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return fmt.Errorf("%s refused the download (HTTP %d): the file is not public; for a Google sheet, use File › Share › Publish to web, choose CSV, and pass the link it gives", d.name, status)
	case status == http.StatusNotFound || status == http.StatusGone:
		return fmt.Errorf("%s was not found (HTTP %d): check the URL", d.name, status)
	}
	return fmt.Errorf("%s answered HTTP %d instead of %s", d.name, status, what)
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string) time.Duration {
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// Read reads the file, resuming the download when the connection breaks.
func (d *downloader) Read(p []byte) (int, error) {
	for {
		if d.failed != nil {
			return 0, d.failed
		}
		if d.broken != nil {
			err := d.broken
			d.broken = nil
			if d.failed = d.resume(err); d.failed != nil {
				return 0, d.failed
			}
		}
		n, err := d.body().Read(p)
		if n > 0 {
			d.sum.Write(p[:n])
			d.read += int64(n)
		}
		switch {
		case err == nil, errors.Is(err, io.EOF):
			return n, err
		case n > 0:
			d.broken = err
			return n, nil
		}
		d.broken = err
	}
}

// body returns the answer's body, each read of which must get a byte within
// the timeout. The timer runs only while a read waits on the server: the
// time the import takes between reads (a slow provider holds the reader
// back) is not the server's silence.
func (d *downloader) body() io.Reader { return bodyReader{d} }

type bodyReader struct{ d *downloader }

func (b bodyReader) Read(p []byte) (int, error) {
	b.d.timer.Reset(b.d.timeout)
	n, err := b.d.resp.Body.Read(p)
	b.d.timer.Stop()
	return n, err
}

// resume carries on a download whose body broke off with err: under the
// retry policy, whose first attempt is the one that broke.
func (d *downloader) resume(cause error) error {
	cause = d.failure(cause)
	var te *TransientError
	if !errors.As(cause, &te) {
		return cause
	}
	attempts := 0
	err := d.retry("resuming the download of "+d.name, func() error {
		if attempts++; attempts == 1 {
			return cause
		}
		return d.rest()
	})
	if err != nil {
		return fmt.Errorf("the download of %s broke off after %d bytes and could not be resumed: %w", d.name, d.read, err)
	}
	return nil
}

// rest asks for the rest of the file.
func (d *downloader) rest() error {
	h := http.Header{}
	if v := d.ifRange(); v != "" {
		h.Set("Range", fmt.Sprintf("bytes=%d-", d.read))
		h.Set("If-Range", v)
	}
	resp, err := d.get(h)
	if err != nil {
		return err
	}
	switch resp.StatusCode {
	case http.StatusPartialContent:
		if start := rangeStart(resp.Header.Get("Content-Range")); start != d.read {
			d.close()
			return fmt.Errorf("%s sent the part of the file from byte %d when asked from byte %d", d.name, start, d.read)
		}
		return nil
	case http.StatusOK:
		return d.skipSame(resp)
	}
	return d.refused(resp, "the rest of the file")
}

// ifRange returns the validator that makes a Range request safe: a strong
// ETag, else Last-Modified; "" when there is none, or when Go's transport
// decompressed the first answer (its byte count is not the server's).
func (d *downloader) ifRange() string {
	if d.first.Uncompressed {
		return ""
	}
	if etag := d.first.Header.Get("ETag"); etag != "" && !strings.HasPrefix(etag, "W/") {
		return etag
	}
	return d.first.Header.Get("Last-Modified")
}

// skipSame reads, from an answer that holds the whole file again, the bytes
// already read, and checks that they are the same ones.
func (d *downloader) skipSame(resp *http.Response) error {
	again := sha256.New()
	if n, err := io.CopyN(again, d.body(), d.read); err != nil {
		d.close()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s changed while it was downloaded (it is now %d bytes long, %d were read): run again to read the new version", d.name, n, d.read)
		}
		return d.failure(err)
	}
	if string(again.Sum(nil)) != string(d.sum.Sum(nil)) {
		d.close()
		return fmt.Errorf("%s changed while it was downloaded: run again to read the new version", d.name)
	}
	return nil
}

// rangeStart reads the first byte of "bytes 100-199/200"; -1 if unreadable.
func rangeStart(v string) int64 {
	rest, ok := strings.CutPrefix(v, "bytes ")
	if !ok {
		return -1
	}
	first, _, _ := strings.Cut(rest, "-")
	n, err := strconv.ParseInt(first, 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// close ends the request being read, if any.
func (d *downloader) close() {
	if d.timer != nil {
		d.timer.Stop()
	}
	if d.resp != nil {
		d.resp.Body.Close()
		d.resp = nil
	}
	if d.cancel != nil {
		d.cancel()
		d.cancel = nil
	}
}

// Close ends the download.
func (d *downloader) Close() error {
	d.close()
	return nil
}

// redirectError is a redirect the download does not follow.
type redirectError struct{ msg string }

func (e *redirectError) Error() string { return e.msg }

// checkRedirect follows redirects, as a published Google sheet needs
// (docs.google.com sends the file from *.googleusercontent.com), but no
// credential goes to another host than the URL's own: Go's client already
// drops the Authorization header on the way to another domain, but not to a
// subdomain, so it is dropped here on any change of host. The URL's
// user:password@ (which becomes that header) is sent again to its own host,
// which Go's client does only when the redirect is relative. A redirect
// from https to http is refused: the file would travel in clear.
func (d *downloader) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return &redirectError{fmt.Sprintf("%s redirected more than %d times: check the URL", d.name, maxRedirects)}
	}
	if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
		return &redirectError{fmt.Sprintf("%s redirected from https to http, where the file would travel in clear: refused; pass the final URL if you trust it", d.name)}
	}
	if req.URL.Host != d.url.Host {
		// Referer would carry the URL, query tokens included, to that host.
		req.Header.Del("Authorization")
		req.Header.Del("Cookie")
		req.Header.Del("Referer")
		return nil
	}
	if u := d.url.User; u != nil {
		password, _ := u.Password()
		req.SetBasicAuth(u.Username(), password)
	}
	return nil
}

// harmlessQuery are the query parameters shown in messages as they are:
// those of a Google sheet's published or export link. Any other value may
// be a token, and is replaced by "…".
var harmlessQuery = map[string]bool{"gid": true, "single": true, "output": true, "format": true}

// redactURL writes u for messages, without its user information, fragment
// and query values but harmless ones, and lists what it left out.
func redactURL(u *url.URL) (string, []string) {
	var secrets []string
	if u.User != nil {
		if password, ok := u.User.Password(); ok {
			secrets = append(secrets, password, url.UserPassword("", password).String()[1:])
		}
	}
	s := (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}).String()
	if u.RawQuery == "" {
		return s, secrets
	}
	parts := strings.Split(u.RawQuery, "&")
	for i, kv := range parts {
		k, v, _ := strings.Cut(kv, "=")
		key, _ := url.QueryUnescape(k)
		if v == "" || harmlessQuery[strings.ToLower(key)] {
			continue
		}
		parts[i] = k + "=…"
		value, _ := url.QueryUnescape(v)
		secrets = append(secrets, v, value)
	}
	return s + "?" + strings.Join(parts, "&"), secrets
}
