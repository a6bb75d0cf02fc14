package agent_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bailiff/bailiff/internal/agent"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const sampleCredentials = `# Bailiff agent credentials for demo-court/courtroom-1
broker: tcp://127.0.0.1:1883
username: agent:demo-court/courtroom-1
password: 3q2+7wAbCdEf/gh==
`

func TestLoadCredentials(t *testing.T) {
	t.Parallel()
	c, err := agent.LoadCredentials(writeFile(t, "creds.yaml", sampleCredentials))
	if err != nil {
		t.Fatal(err)
	}
	want := agent.Credentials{Broker: "tcp://127.0.0.1:1883", Username: "agent:demo-court/courtroom-1", Password: "3q2+7wAbCdEf/gh=="}
	if c != want {
		t.Errorf("got %+v", c)
	}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), c.String()} {
		if strings.Contains(s, want.Password) || !strings.Contains(s, "***") {
			t.Errorf("printed as %q; want the password hidden", s)
		}
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("creds", "credentials", c)
	if strings.Contains(buf.String(), want.Password) || !strings.Contains(buf.String(), want.Username) {
		t.Errorf("logged as %s; want the password hidden", buf.String())
	}
}

func TestLoadCredentialsErrors(t *testing.T) {
	t.Parallel()
	const secret = "hunter2-secret"
	for _, tc := range []struct{ name, content, want string }{
		{"empty", "", "empty"},
		{"comment only", "# nothing\n", "empty"},
		{"unknown key", "broker: tcp://h:1\npasword: " + secret + "\n", "pasword"},
		{"not a map", "- " + secret + "\n", "cannot unmarshal"},
		{"bad yaml", "password: *" + secret + "\n", "not valid YAML"},
		{"nothing in it", "broker: \"\"\n", "no broker, username or password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := agent.LoadCredentials(writeFile(t, "creds.yaml", tc.content))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want one with %q", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error shows the secret: %v", err)
			}
		})
	}
	if _, err := agent.LoadCredentials(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("no error for a missing file")
	}
}

func TestResolveCredentials(t *testing.T) {
	t.Parallel()
	file := writeFile(t, "creds.yaml", sampleCredentials)
	pwFile := writeFile(t, "pw", "  from-flag-file\n")
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	for _, tc := range []struct {
		name string
		src  agent.CredentialSources
		want agent.Credentials
	}{
		{"file only", agent.CredentialSources{File: file},
			agent.Credentials{Broker: "tcp://127.0.0.1:1883", Username: "agent:demo-court/courtroom-1", Password: "3q2+7wAbCdEf/gh=="}},
		{"env over file", agent.CredentialSources{File: file, Getenv: env(map[string]string{
			agent.EnvBroker: "tcp://env:1883", agent.EnvUser: "agent:s/r", agent.EnvPassword: "from-env"})},
			agent.Credentials{Broker: "tcp://env:1883", Username: "agent:s/r", Password: "from-env"}},
		{"flags over env and file", agent.CredentialSources{File: file, Broker: "tcp://flag:1883", User: "agent:f/g", PasswordFile: pwFile,
			Getenv: env(map[string]string{agent.EnvBroker: "tcp://env:1883", agent.EnvUser: "agent:s/r", agent.EnvPassword: "from-env"})},
			agent.Credentials{Broker: "tcp://flag:1883", Username: "agent:f/g", Password: "from-flag-file"}},
		{"env only", agent.CredentialSources{Getenv: env(map[string]string{agent.EnvBroker: "tcp://env:1883"})},
			agent.Credentials{Broker: "tcp://env:1883"}},
		{"broker flag only", agent.CredentialSources{Broker: "tcp://flag:1883", Getenv: env(nil)},
			agent.Credentials{Broker: "tcp://flag:1883"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := agent.ResolveCredentials(tc.src)
			if err != nil || got != tc.want {
				t.Errorf("got %#v, %v; want %#v", got, err, tc.want)
			}
			if got.Password != tc.want.Password {
				t.Errorf("password differs")
			}
		})
	}

	if _, err := agent.ResolveCredentials(agent.CredentialSources{}); err == nil || !strings.Contains(err.Error(), "no broker") {
		t.Errorf("no broker: err = %v", err)
	}
	empty := writeFile(t, "empty-pw", "\n")
	if _, err := agent.ResolveCredentials(agent.CredentialSources{Broker: "tcp://h:1", PasswordFile: empty}); err == nil {
		t.Error("empty password file accepted")
	}
	if _, err := agent.ResolveCredentials(agent.CredentialSources{Broker: "tcp://h:1", PasswordFile: filepath.Join(t.TempDir(), "none")}); err == nil {
		t.Error("missing password file accepted")
	}
}
