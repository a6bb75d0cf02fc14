package agent

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/config"
)

// loadCachedConfig runs the kept config only when it is good and for the same room.
func TestLoadCachedConfig(t *testing.T) {
	local := &config.Room{Site: "s", Room: "r", Kind: config.KindTechCourtroom, Name: "Local",
		Poll: config.Duration(time.Second), Timeout: config.Duration(time.Second)}
	path := filepath.Join(t.TempDir(), "creds.config.json")
	o := Options{ConfigCache: path, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if r, body := loadCachedConfig(o, local); r != local || body != nil {
		t.Fatal("no file: not the local config")
	}
	good := `{"revision":4,"site":"s","room":"r","kind":"tech-courtroom","name":"Pushed","poll":"2s"}`
	for _, bad := range []string{
		`not json`,
		`{"revision":4,"site":"s","room":"other","kind":"tech-courtroom","name":"X"}`,
		`{"revision":4,"site":"s","room":"r","kind":"tech-courtroom","name":"X","colour":"red"}`,
		`{"site":"s","room":"r","kind":"tech-courtroom","name":"X"}`,
	} {
		os.WriteFile(path, []byte(bad), 0o600)
		if r, _ := loadCachedConfig(o, local); r != local {
			t.Errorf("kept %s: ran it", bad)
		}
	}
	os.WriteFile(path, []byte(good), 0o600)
	r, body := loadCachedConfig(o, local)
	if r == local || r.Name != "Pushed" || r.Revision != 4 || r.Poll.D() != 2*time.Second || string(body) != good {
		t.Fatalf("good kept config: %+v %s", r, body)
	}
}

func TestOneLine(t *testing.T) {
	got := oneLine("a.yaml:1: x: bad\na.yaml:2: y: worse\n")
	if strings.Contains(got, "\n") || !strings.Contains(got, "x: bad ; a.yaml:2") {
		t.Fatalf("oneLine = %q", got)
	}
	if n := len(oneLine(strings.Repeat("x", 5000))); n > 2010 {
		t.Fatalf("oneLine kept %d bytes", n)
	}
}
