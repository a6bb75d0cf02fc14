package whip

import (
	"encoding/json"
	"errors"
	"net/http"
)

// Errors an Authorizer returns (wrapped or not). ErrUnauthorized answers
// 401 with a Bearer challenge; any other error answers 403.
var (
	ErrUnauthorized = errors.New("whip: missing or invalid bearer token")
	ErrForbidden    = errors.New("whip: forbidden")
)

// Error codes in the JSON error body {"error":{"code","message"}}.
const (
	CodeBadRequest           = "bad_request"
	CodeBadSDP               = "bad_sdp"
	CodeBadFragment          = "bad_fragment"
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeTooLarge             = "too_large"
	CodeUnauthorized         = "unauthorized"
	CodeForbidden            = "forbidden"
	CodeNotFound             = "not_found"
	CodeMethodNotAllowed     = "method_not_allowed"
	CodeNoCodec              = "no_codec"
	CodePreconditionFailed   = "precondition_failed"
	CodePreconditionRequired = "precondition_required"
	CodeUnavailable          = "unavailable"
	CodeInternal             = "internal"
	CodeUpstream             = "upstream" // a replica could not pull the stream from its origin (502)
)

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var b errorBody
	b.Error.Code, b.Error.Message = code, msg
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(b)
}
