package providers

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// MinSecretLen is the shortest credential value scrubbed from messages: a
// shorter one would blank ordinary words and numbers, and gives nothing
// away that a guess would not.
const MinSecretLen = 4

// ExcerptLen is how many characters of a provider's answer a message quotes.
const ExcerptLen = 200

// Redact replaces every secret in s with "[redacted]": as it is, and in the
// forms an answer that echoes the request carries it (URL-encoded as in a
// form or a query, JSON-escaped). It must run before anything cuts s: a
// secret cut in half is no longer found.
func Redact(s string, secrets []string) string {
	for _, v := range secrets {
		if len(v) < MinSecretLen {
			continue
		}
		for _, form := range secretForms(v) {
			s = strings.ReplaceAll(s, form, "[redacted]")
		}
	}
	return s
}

// secretForms returns v as the requests carry it and as an echo may write
// it back, longest first, so that no form is left half replaced by a
// shorter one it contains. Forms that are the same are replaced twice, which
// costs nothing.
func secretForms(v string) []string {
	quoted, _ := json.Marshal(v) // Marshal escapes <, > and & too, as some servers do
	jsonForm := strings.Trim(string(quoted), `"`)
	forms := []string{v, url.QueryEscape(v), url.PathEscape(v), jsonForm,
		strings.ReplaceAll(jsonForm, "/", `\/`), // PHP's json_encode
		strings.Trim(fmt.Sprintf("%q", v), `"`),
	}
	slices.SortFunc(forms, func(a, b string) int { return len(b) - len(a) })
	return forms
}

// Excerpt quotes the first ExcerptLen characters of a provider's answer for
// a message, with the secrets redacted first.
func Excerpt(body []byte, secrets []string) string {
	return fmt.Sprintf("%.*q", ExcerptLen, Redact(string(body), secrets))
}

// Clip bounds a text the provider wrote (an error message, a status) before
// it goes into a message, after redacting the secrets in it.
func Clip(s string, secrets []string) string {
	s = Redact(s, secrets)
	if r := []rune(s); len(r) > ExcerptLen {
		return string(r[:ExcerptLen]) + "…"
	}
	return s
}

// Secrets lists the credential values of creds worth scrubbing from
// messages.
func Secrets(creds map[string]string) []string {
	var out []string
	for _, v := range creds {
		if len(v) >= MinSecretLen {
			out = append(out, v)
		}
	}
	return out
}
