package source

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Errors an HTTPError matches with errors.Is.
var (
	ErrUnauthorized = errors.New("source: unauthorized (401): the hub does not know the token")
	ErrForbidden    = errors.New("source: forbidden (403): the token may not publish or view this stream")
	ErrNotFound     = errors.New("source: not found (404)")
	ErrNeedsCgo     = errors.New("source: microphones and speakers need a build with cgo (CGO_ENABLED=1, libopus-dev, -tags nolibopusfile)")
)

// HTTPError is an answer of the hub's WHIP/WHEP endpoint other than the one wanted. Code and
// Message come from the hub's JSON error body {"error":{"code","message"}} when it has one.
type HTTPError struct {
	Method, URL   string
	Status        int
	Code, Message string
}

func (e *HTTPError) Error() string {
	msg := e.Message
	if e.Code != "" {
		msg = e.Code + ": " + msg
	}
	return fmt.Sprintf("source: %s %s: %d %s: %s", e.Method, e.URL, e.Status, http.StatusText(e.Status), msg)
}

// Unwrap lets errors.Is tell 401, 403 and 404.
func (e *HTTPError) Unwrap() error {
	switch e.Status {
	case 401:
		return ErrUnauthorized
	case 403:
		return ErrForbidden
	case 404:
		return ErrNotFound
	}
	return nil
}

// permanent tells a refusal that retrying soon will not change (a 4xx other than 408/429).
func (e *HTTPError) permanent() bool {
	return e.Status >= 400 && e.Status < 500 && e.Status != 408 && e.Status != 429
}

// httpError reads a refusal's body (bounded) into an HTTPError.
func httpError(method, url string, resp *http.Response) *HTTPError {
	e := &HTTPError{Method: method, URL: url, Status: resp.StatusCode}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &body) == nil && (body.Error.Code != "" || body.Error.Message != "") {
		e.Code, e.Message = body.Error.Code, body.Error.Message
	} else {
		e.Message = strings.TrimSpace(string(b))
		if len(e.Message) > 200 {
			e.Message = e.Message[:200] + "…"
		}
	}
	return e
}
