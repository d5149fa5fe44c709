package importer

import (
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"contactsync/providers"
)

// pacedTransport is the one place requests are paced and counted: every
// request of every provider, first look-ups included, waits for the shared
// pacer, so no provider writes throttling of its own.
type pacedTransport struct {
	base     http.RoundTripper
	pacer    *pacer
	requests atomic.Int64
}

// RoundTrip waits for the pacer, sends the request, and tells the pacer how
// the provider answered.
func (t *pacedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start, err := t.pacer.wait(req.Context())
	if err != nil {
		return nil, err
	}
	t.requests.Add(1)
	resp, err := t.base.RoundTrip(req)
	t.pacer.done(start, resp, err)
	return resp, err
}

// newHTTPClient returns a client whose connection pool fits the number of
// workers, paced at rps requests per second at most (0: no limit), adapting
// to the provider's 429s unless adaptive is false, that follows no redirect:
// one would take the credentials and the contacts to whatever address the
// answer names (providers.RefuseRedirects stops the run).
func newHTTPClient(rps float64, burst, workers int, adaptive bool, timeout time.Duration, logger *slog.Logger) (*http.Client, *pacedTransport) {
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
	t := &pacedTransport{base: base, pacer: newPacer(rps, burst, workers, adaptive, logger)}
	return &http.Client{Transport: t, Timeout: timeout, CheckRedirect: providers.RefuseRedirects}, t
}
