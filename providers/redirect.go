package providers

import (
	"fmt"
	"net/http"
	"net/url"
)

// RefuseRedirects is the CheckRedirect of every client. None of the four
// APIs documents a redirect, and Go's client would follow one to any host
// with the custom headers (Octopush's api-key, Smstools's X-Client-Secret)
// and a 307/308's body (AvoSMS's id and key, the contacts) on board. So no
// redirect is followed, not even to the same host: the run stops and says
// where the answer pointed.
func RefuseRedirects(req *http.Request, _ []*http.Request) error {
	status := 0
	if req.Response != nil {
		status = req.Response.StatusCode
	}
	return &Error{Class: Fatal, Reason: "redirected", Status: status,
		Message: fmt.Sprintf("the provider redirected the request to %s; contactsync follows no redirect, which would take the credentials and the contacts there",
			redirectTarget(req.URL)),
		Hint: "fix --endpoint: it must be the API's own address (if the provider moved its API to " +
			redirectTarget(&url.URL{Scheme: req.URL.Scheme, Host: req.URL.Host}) + ", pass that)"}
}

// redirectTarget writes a redirect's URL without what may hold a secret:
// user info, query and fragment.
func redirectTarget(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}
