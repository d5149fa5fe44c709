package providers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// The limits on what contactsync reads of an answer. None of the documented
// answers comes near them; an answer over one is not the API's (a wrong
// --endpoint, a proxy's page) and stops the run instead of filling memory.
const (
	// MaxAnswerSize bounds an answer read whole: the confirmation of a
	// write, an error. The largest documented one, Octopush's items for a
	// batch of 200, is about 20 kB.
	MaxAnswerSize = 1 << 20
	// MaxListingSize bounds a listing, which is streamed: AvoSMS's
	// list/information, AmootSMS's ContactList, a page of Smstools's
	// listing. A million contacts of 500 bytes fit.
	MaxListingSize = 1 << 30
	// MaxItemSize bounds one contact of a listing and one field of an
	// answer read as a stream, which the decoder holds whole. The bound is
	// counted in what is read from the body after the item starts, so an
	// item may exceed it by what the decoder had read ahead (its buffer,
	// which only the largest item so far made grow).
	MaxItemSize = 1 << 20
)

// Reasons the importer reads.
const (
	// ReasonUnreadable is an answer to a write that is not the answer the
	// API documents: nothing says the write was applied.
	ReasonUnreadable = "unreadable_answer"
	// ReasonNotConfirmed is the report's reason for rows whose write the
	// provider never confirmed.
	ReasonNotConfirmed = "not_confirmed"
	// ReasonTooLarge is an answer over one of the limits above.
	ReasonTooLarge = "answer_too_large"
	// ReasonProviderFailed is a contact the provider refused with a generic
	// failure that says nothing of why (AmootSMS's Failed). The row is
	// rejected but not remembered as refused: whether the row or the
	// account was at fault is unknown, so the next run sends it again.
	ReasonProviderFailed = "provider_failed"
)

// Unreadable is the error for an answer that is not the documented one,
// described by documented ("Smstools's {"ID"} or {"IDs"}"). It is
// Retryable: every write of the four clients is safe to send again, and the
// next answer may be readable.
func Unreadable(status int, documented string, err error) *Error {
	return &Error{Class: Retryable, Reason: ReasonUnreadable, Status: status,
		Message: "the answer is not " + documented + ", so nothing confirms the request", Err: err}
}

// Body is an answer's body as a client reads it: within a limit, and telling
// a body the transport cut (the answer may come whole next time) from one
// that came whole but is not the documented answer.
type Body struct {
	r      io.Reader
	status int
	limit  int64
	left   int64 // what the answer may still take
	// item is what the current item may still take. The start of the
	// answer, up to the first StartItem, is an item too: a huge first
	// token is refused as a huge field is.
	item     int64
	tooLarge *Error
	failed   error // the transport's error
}

// NewBody reads r, the body of an answer of HTTP status status, up to limit
// bytes.
func NewBody(r io.Reader, status int, limit int64) *Body {
	return &Body{r: r, status: status, limit: limit, left: limit, item: MaxItemSize}
}

// StartItem starts one item of a streamed answer: it may take MaxItemSize
// bytes from here (what the decoder read ahead included), so that one huge
// contact or field cannot make the decoder buffer the whole answer.
func (b *Body) StartItem() { b.item = MaxItemSize }

// Read reads the body and fails with an *Error of ReasonTooLarge past a
// limit.
func (b *Body) Read(p []byte) (int, error) {
	if b.tooLarge != nil {
		return 0, b.tooLarge
	}
	allowed := min(b.left, b.item)
	// One byte more than allowed tells a body that ends at the limit from
	// one that goes on.
	if int64(len(p)) > allowed+1 {
		p = p[:allowed+1]
	}
	n, err := b.r.Read(p)
	if int64(n) > allowed {
		n = int(allowed)
		what := fmt.Sprintf("the answer is larger than %s", size(b.limit))
		if b.item < b.left {
			what = fmt.Sprintf("one item of the answer is larger than %s", size(MaxItemSize))
		}
		b.tooLarge = &Error{Class: Fatal, Reason: ReasonTooLarge, Status: b.status,
			Message: what + ", more than any answer the provider documents; contactsync stopped reading it",
			Hint:    "check --endpoint: it must be the provider's API"}
		err = b.tooLarge
	}
	b.left -= int64(n)
	b.item -= int64(n)
	if err != nil && !errors.Is(err, io.EOF) && b.tooLarge == nil {
		b.failed = err
	}
	return n, err
}

// ReadAll reads the whole body; its errors are classified as Fail does.
func (b *Body) ReadAll() ([]byte, error) {
	data, err := io.ReadAll(b)
	if err != nil {
		return nil, b.Fail(err, "a whole answer")
	}
	return data, nil
}

// Fail classifies an error met while reading or decoding the body: an
// answer over a limit as it is, a transport failure as a network error
// (a cancelled context stays as is), anything else as an answer that is not
// documented.
func (b *Body) Fail(err error, documented string) error {
	switch {
	case b.tooLarge != nil:
		return b.tooLarge
	case b.failed != nil:
		return NetworkError(b.failed)
	case errors.Is(err, context.Canceled):
		return err
	}
	return Unreadable(b.status, documented, err)
}

// DecodeAnswer reads a 2xx answer whole (MaxAnswerSize at most) and decodes
// it into out. Unless it is exactly one JSON value, which check (if not nil)
// then accepts, it is Unreadable: an empty body, an HTML page, a cut or an
// unrelated JSON document confirm nothing.
func DecodeAnswer(resp *http.Response, documented string, out any, check func() error) error {
	data, err := NewBody(resp.Body, resp.StatusCode, MaxAnswerSize).ReadAll()
	if err != nil {
		return err
	}
	return DecodeJSON(resp.StatusCode, data, documented, out, check)
}

// DecodeJSON is DecodeAnswer for a body already read.
func DecodeJSON(status int, data []byte, documented string, out any, check func() error) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return Unreadable(status, documented, errors.New("the answer is empty"))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(out); err != nil {
		return Unreadable(status, documented, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Unreadable(status, documented, errors.New("more follows the JSON value"))
	}
	if check != nil {
		if err := check(); err != nil {
			return Unreadable(status, documented, err)
		}
	}
	return nil
}

func size(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
