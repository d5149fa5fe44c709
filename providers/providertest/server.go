package providertest

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// PrefixedServer serves h under the path /prefix/ and returns the endpoint a
// client is configured with (the server's URL plus that prefix) and an HTTP
// client for it. A request outside the prefix fails the test: a client that
// ignored the endpoint's path, or hard-coded an absolute URL, is caught.
func PrefixedServer(t *testing.T, h http.Handler) (endpoint string, client *http.Client) {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/prefix/", h)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the endpoint's path: %s", r.URL.Path)
		http.NotFound(w, r)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/prefix", srv.Client()
}
