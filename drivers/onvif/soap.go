package onvif

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bailiff/bailiff/drivers"
)

// XML namespaces (Core §5.11.2.1, PTZ, Media and device WSDLs, OASIS WSS 1.0).
const (
	nsSOAP12 = "http://www.w3.org/2003/05/soap-envelope"
	nsSOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
	nsDevice = "http://www.onvif.org/ver10/device/wsdl"
	nsMedia  = "http://www.onvif.org/ver10/media/wsdl"
	nsPTZ    = "http://www.onvif.org/ver20/ptz/wsdl"
	nsSchema = "http://www.onvif.org/ver10/schema"
	nsWSSE   = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
	nsWSU    = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"

	passwordDigestType = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
	base64BinaryType   = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)

// contentType is the media type of SOAP 1.2 over HTTP.
const contentType = "application/soap+xml; charset=utf-8"

// maxReply bounds the body of an answer; PTZ answers are a few kilobytes, GetProfiles of a
// camera with many profiles some tens.
const maxReply = 1 << 20

// The request body elements of kerberos-io/onvif carry the prefixes tds:, trt:, tptz: and
// (for the velocity the driver writes itself) tt:; the envelope declares them. "onvif:" is the
// prefix the library uses for some schema types.
const envelopeOpen = `<?xml version="1.0" encoding="UTF-8"?>` +
	`<s:Envelope xmlns:s="` + nsSOAP12 + `" xmlns:tds="` + nsDevice + `" xmlns:trt="` + nsMedia +
	`" xmlns:tptz="` + nsPTZ + `" xmlns:tt="` + nsSchema + `" xmlns:onvif="` + nsSchema + `">`

// token is a WS-Security UsernameToken with a password digest (WSS UsernameToken Profile
// 1.0 §3.1; ONVIF Core §5.12.3 requires both the nonce and the creation time).
type token struct {
	Username string
	Nonce    []byte
	Created  string // xs:dateTime in UTC
	Digest   string // Base64(SHA-1(nonce + created + password))
}

// createdLayout is how the driver writes wsu:Created: UTC with milliseconds.
const createdLayout = "2006-01-02T15:04:05.000Z"

// newToken builds the token for a request made at the camera's time now.
func newToken(username, password string, nonce []byte, now time.Time) token {
	created := now.UTC().Format(createdLayout)
	return token{Username: username, Nonce: nonce, Created: created, Digest: passwordDigest(nonce, created, password)}
}

// passwordDigest is Base64(SHA-1(nonce + created + password)), nonce being the raw bytes.
func passwordDigest(nonce []byte, created, password string) string {
	h := sha1.New()
	h.Write(nonce)
	io.WriteString(h, created)
	io.WriteString(h, password)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// envelope wraps a body element into a SOAP 1.2 envelope, with a security header when tok is
// not nil.
func envelope(body []byte, tok *token) []byte {
	var b bytes.Buffer
	b.Grow(len(envelopeOpen) + len(body) + 700)
	b.WriteString(envelopeOpen)
	if tok != nil {
		b.WriteString(`<s:Header><wsse:Security xmlns:wsse="` + nsWSSE + `" xmlns:wsu="` + nsWSU + `" s:mustUnderstand="1">`)
		b.WriteString(`<wsse:UsernameToken><wsse:Username>`)
		xml.EscapeText(&b, []byte(tok.Username))
		b.WriteString(`</wsse:Username><wsse:Password Type="` + passwordDigestType + `">`)
		b.WriteString(tok.Digest)
		b.WriteString(`</wsse:Password><wsse:Nonce EncodingType="` + base64BinaryType + `">`)
		b.WriteString(base64.StdEncoding.EncodeToString(tok.Nonce))
		b.WriteString(`</wsse:Nonce><wsu:Created>`)
		b.WriteString(tok.Created)
		b.WriteString(`</wsu:Created></wsse:UsernameToken></wsse:Security></s:Header>`)
	}
	b.WriteString(`<s:Body>`)
	b.Write(body)
	b.WriteString(`</s:Body></s:Envelope>`)
	return b.Bytes()
}

// decodeReply reads the answer to a request whose response element is want (local name):
// a SOAP envelope whose body holds that element, decoded into out (nil: only checked), or a
// fault, returned as *Fault. status is the HTTP status code.
func decodeReply(status int, body []byte, want string, out any) error {
	auth := status == http.StatusUnauthorized || status == http.StatusForbidden
	d := xml.NewDecoder(bytes.NewReader(body))
	d.CharsetReader = charsetReader
	root, err := firstElement(d)
	if err != nil || root.Name.Local != "Envelope" || (root.Name.Space != nsSOAP12 && root.Name.Space != nsSOAP11) {
		switch {
		case auth:
			return fmt.Errorf("HTTP %d: %w", status, ErrAuth)
		case status != http.StatusOK:
			return fmt.Errorf("HTTP %d %s without a SOAP envelope: %w", status, http.StatusText(status), drivers.ErrDevice)
		case len(bytes.TrimSpace(body)) == 0:
			return garbled("empty answer")
		}
		return garbled("not a SOAP envelope")
	}
	soap := root.Name.Space
	for {
		el, err := nextChild(d)
		if err != nil {
			return garbled("envelope: %v", short(err))
		}
		if el == nil {
			return garbled("envelope without a body")
		}
		if el.Name.Local != "Body" || el.Name.Space != soap {
			if err := d.Skip(); err != nil {
				return garbled("envelope: %v", short(err))
			}
			continue
		}
		return decodeBody(d, soap, status, want, out)
	}
}

// decodeBody reads the first element of the SOAP body.
func decodeBody(d *xml.Decoder, soap string, status int, want string, out any) error {
	el, err := nextChild(d)
	if err != nil {
		return garbled("body: %v", short(err))
	}
	if el == nil {
		return garbled("empty body")
	}
	if el.Name.Local == "Fault" && el.Name.Space == soap {
		f, err := decodeFault(d, el)
		if err != nil {
			return err
		}
		f.Status = status
		return f
	}
	if el.Name.Local != want {
		return garbled("answer %s to a request for %s", clean(el.Name.Local, 40), want)
	}
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		return fmt.Errorf("HTTP %d: %w", status, ErrAuth)
	}
	if status != http.StatusOK {
		return fmt.Errorf("HTTP %d %s with a %s: %w", status, http.StatusText(status), want, drivers.ErrDevice)
	}
	if out == nil {
		err = d.Skip()
	} else {
		err = d.DecodeElement(out, el)
	}
	if err != nil {
		return garbled("%s: %v", want, short(err))
	}
	return nil
}

// rawFault holds a SOAP 1.2 fault (Code, Reason) or a SOAP 1.1 one (faultcode, faultstring).
type rawFault struct {
	Code *struct {
		Value   string      `xml:"Value"`
		Subcode *rawSubcode `xml:"Subcode"`
	} `xml:"Code"`
	Reason struct {
		Text []string `xml:"Text"`
	} `xml:"Reason"`
	FaultCode   string `xml:"faultcode"`
	FaultString string `xml:"faultstring"`
}

type rawSubcode struct {
	Value   string      `xml:"Value"`
	Subcode *rawSubcode `xml:"Subcode"`
}

// maxSubcodes bounds how many nested subcodes the driver keeps.
const maxSubcodes = 8

func decodeFault(d *xml.Decoder, el *xml.StartElement) (*Fault, error) {
	var rf rawFault
	if err := d.DecodeElement(&rf, el); err != nil {
		return nil, garbled("fault: %v", short(err))
	}
	f := &Fault{}
	switch {
	case rf.Code != nil:
		f.Code = localName(rf.Code.Value)
		for s := rf.Code.Subcode; s != nil && len(f.Subcodes) < maxSubcodes; s = s.Subcode {
			if v := localName(s.Value); v != "" {
				f.Subcodes = append(f.Subcodes, v)
			}
		}
		if len(rf.Reason.Text) > 0 {
			f.Reason = clean(rf.Reason.Text[0], 160)
		}
	case rf.FaultCode != "":
		// SOAP 1.1: Client and Server are SOAP 1.2's Sender and Receiver.
		switch c := localName(rf.FaultCode); c {
		case "Client":
			f.Code = "Sender"
		case "Server":
			f.Code = "Receiver"
		default:
			f.Code = c
		}
		f.Reason = clean(rf.FaultString, 160)
	}
	if f.Code == "" {
		return nil, garbled("fault without a code")
	}
	return f, nil
}

// localName returns the local part of a QName ("ter:NoToken" → "NoToken"), cleaned.
func localName(qname string) string {
	qname = strings.TrimSpace(qname)
	if i := strings.LastIndexByte(qname, ':'); i >= 0 {
		qname = qname[i+1:]
	}
	return clean(qname, 64)
}

// firstElement returns the root element, skipping the prolog.
func firstElement(d *xml.Decoder) (*xml.StartElement, error) {
	for {
		t, err := d.Token()
		if err != nil {
			return nil, err
		}
		switch t := t.(type) {
		case xml.StartElement:
			return &t, nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return nil, errors.New("text before the root element")
			}
		}
	}
}

// nextChild returns the next child element of the current element, or nil at its end.
func nextChild(d *xml.Decoder) (*xml.StartElement, error) {
	for {
		t, err := d.Token()
		if err != nil {
			return nil, err
		}
		switch t := t.(type) {
		case xml.StartElement:
			return &t, nil
		case xml.EndElement:
			return nil, nil
		}
	}
}

// charsetReader accepts the encodings a camera may declare besides UTF-8.
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return in, nil
	case "iso-8859-1", "latin1", "latin-1":
		b, err := io.ReadAll(in)
		if err != nil {
			return nil, err
		}
		var out bytes.Buffer
		for _, c := range b {
			out.WriteRune(rune(c))
		}
		return &out, nil
	}
	return nil, fmt.Errorf("unsupported encoding %q", clean(label, 20))
}

// short cuts an error of the XML decoder for an error message.
func short(err error) string {
	s := err.Error()
	if utf8.RuneCountInString(s) > 120 {
		s = clean(s, 120)
	}
	return s
}
