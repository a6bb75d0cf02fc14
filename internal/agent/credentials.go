package agent

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Environment variables the agent's credentials may come from.
const (
	EnvBroker   = "BAILIFF_AGENT_BROKER"
	EnvUser     = "BAILIFF_AGENT_USER"
	EnvPassword = "BAILIFF_AGENT_PASSWORD"
)

// Credentials are how an agent reaches and logs in to the broker. They print and log with
// the password hidden.
type Credentials struct {
	Broker   string `yaml:"broker"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// With TLS: the hub's CA certificate, which the agent trusts for the broker and the hub,
	// and the agent's own client certificate and its key (PEM). The key never leaves the
	// agent: enrollment sends only a certificate request.
	CA          string `yaml:"ca,omitempty"`
	Certificate string `yaml:"certificate,omitempty"`
	Key         string `yaml:"key,omitempty"`
	// Hub is the hub's base URL the agent enrolled at: where it checks its certificate for
	// renewal (renew.go).
	Hub string `yaml:"hub,omitempty"`
}

// String prints c with the password hidden.
func (c Credentials) String() string {
	return fmt.Sprintf("{Broker:%s Username:%s Password:%s Certificate:%t Key:%s}", c.Broker, c.Username, hidden(c.Password), c.Certificate != "", hidden(c.Key))
}

// GoString is String, so %#v hides the password too.
func (c Credentials) GoString() string { return c.String() }

// LogValue logs c with the password hidden.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("broker", c.Broker), slog.String("username", c.Username),
		slog.Bool("password_set", c.Password != ""), slog.Bool("certificate", c.Certificate != ""))
}

func hidden(pw string) string {
	if pw == "" {
		return ""
	}
	return "***"
}

// LoadCredentials reads a credentials file as `hub agents add SITE/ROOM` prints it:
//
//	# Bailiff agent credentials for demo-court/courtroom-1
//	broker: tcp://127.0.0.1:1883
//	username: agent/demo-court/courtroom-1
//	password: 3q2+7w…
//
// Every key is optional (flags and the environment may supply the rest); an unknown key is
// an error. Errors never quote the file's values.
func LoadCredentials(path string) (Credentials, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Credentials{}, fmt.Errorf("agent: credentials: %w", err)
	}
	c, err := parseCredentials(data)
	if err != nil {
		return Credentials{}, fmt.Errorf("agent: credentials %s: %w", path, err)
	}
	return c, nil
}

var yamlLine = regexp.MustCompile(`line [0-9]+`)

func parseCredentials(data []byte) (Credentials, error) {
	var c Credentials
	d := yaml.NewDecoder(bytes.NewReader(data))
	d.KnownFields(true)
	if err := d.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return Credentials{}, errors.New("empty file")
		}
		// yaml.v3 quotes a scalar only when it does not fit the target type; every field is a
		// string, so type errors name lines and keys, not values. Syntax errors may quote the
		// text (an anchor's name, say): give only the line.
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return Credentials{}, err
		}
		if l := yamlLine.FindString(err.Error()); l != "" {
			return Credentials{}, fmt.Errorf("not valid YAML (%s)", l)
		}
		return Credentials{}, errors.New("not valid YAML")
	}
	c.Broker = strings.TrimSpace(c.Broker)
	c.Username = strings.TrimSpace(c.Username)
	if c.Broker == "" && c.Username == "" && c.Password == "" && c.Certificate == "" {
		return Credentials{}, errors.New("no broker, username or password in it")
	}
	return c, nil
}

// CredentialSources are where the credentials come from. Each later source overrides the
// earlier ones, key by key: the credentials file, then the environment (BAILIFF_AGENT_BROKER,
// BAILIFF_AGENT_USER, BAILIFF_AGENT_PASSWORD), then the flags.
type CredentialSources struct {
	File         string              // --credentials; "" for none
	Getenv       func(string) string // nil: no environment
	Broker       string              // --broker
	User         string              // --user
	PasswordFile string              // --password-file: a file holding only the password
}

// ResolveCredentials merges the sources into the credentials the agent uses. A broker is
// required; the user and password may be empty (a broker without authentication).
func ResolveCredentials(s CredentialSources) (Credentials, error) {
	var c Credentials
	if s.File != "" {
		f, err := LoadCredentials(s.File)
		if err != nil {
			return Credentials{}, err
		}
		c = f
	}
	if s.Getenv != nil {
		set(&c.Broker, strings.TrimSpace(s.Getenv(EnvBroker)))
		set(&c.Username, strings.TrimSpace(s.Getenv(EnvUser)))
		set(&c.Password, s.Getenv(EnvPassword))
	}
	set(&c.Broker, s.Broker)
	set(&c.Username, s.User)
	if s.PasswordFile != "" {
		b, err := os.ReadFile(s.PasswordFile)
		if err != nil {
			return Credentials{}, fmt.Errorf("agent: password file: %w", err)
		}
		pw := strings.TrimSpace(string(b))
		if pw == "" {
			return Credentials{}, fmt.Errorf("agent: password file %s is empty", s.PasswordFile)
		}
		c.Password = pw
	}
	if c.Broker == "" {
		return Credentials{}, fmt.Errorf("agent: no broker: give --broker, %s, or a credentials file with \"broker:\"", EnvBroker)
	}
	return c, nil
}

func set(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}
