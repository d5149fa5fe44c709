package importer

import (
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"contactsync/providers"
)

// pacedTransport is the one place requests are paced and counted: every
// request of every provider, first look-ups included, waits for the shared
// limiter, so no provider writes throttling of its own.
type pacedTransport struct {
	base     http.RoundTripper
	limiter  *rate.Limiter // nil: no client-side limit
	requests atomic.Int64
}

// RoundTrip waits for a token, then sends the request.
func (t *pacedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.limiter != nil {
		if err := t.limiter.Wait(req.Context()); err != nil {
			return nil, err
		}
	}
	t.requests.Add(1)
	return t.base.RoundTrip(req)
}

// newHTTPClient returns a client whose connection pool fits the number of
// workers, paced at rps requests per second (0: no limit), that follows no
// redirect: one would take the credentials and the contacts to whatever
// address the answer names (providers.RefuseRedirects stops the run).
func newHTTPClient(rps float64, burst, workers int, timeout time.Duration) (*http.Client, *pacedTransport) {
	base := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          workers * 2,
		MaxIdleConnsPerHost:   workers * 2,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: timeout,
		ForceAttemptHTTP2:     true,
	}
	t := &pacedTransport{base: base}
	if rps > 0 {
		t.limiter = rate.NewLimiter(rate.Limit(rps), max(burst, 1))
	}
	return &http.Client{Transport: t, Timeout: timeout, CheckRedirect: providers.RefuseRedirects}, t
}
