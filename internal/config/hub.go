package config

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"
)

// Hub defaults.
const (
	DefaultHTTPListen      = "127.0.0.1:8080"
	DefaultMQTTListen      = "127.0.0.1:1883"
	DefaultData            = "data"
	DefaultRooms           = "rooms"
	DefaultCommandsTimeout = 5 * time.Second
	DefaultLogLevel        = "info"
	DefaultLampHours       = 2000
	DefaultMediaUDP        = "127.0.0.1:8189"
	DefaultTURNRealm       = "bailiff"
	DefaultTURNRelayPorts  = "49152-65535"
	DefaultTURNTTL         = time.Hour
)

// EnvPrefix starts every environment variable that overrides a hub key.
const EnvPrefix = "BAILIFF_"

// LogLevels are the values of log.level.
var LogLevels = []string{"debug", "info", "warn", "error"}

// DefaultHub returns the hub config used where the file and the environment say nothing.
func DefaultHub() Hub {
	return Hub{
		HTTP:     HTTP{Listen: DefaultHTTPListen},
		MQTT:     MQTT{Listen: DefaultMQTTListen},
		Data:     DefaultData,
		Rooms:    DefaultRooms,
		Commands: Commands{Timeout: Duration(DefaultCommandsTimeout)},
		Log:      Log{Level: DefaultLogLevel},
		Alarms:   Alarms{LampHours: DefaultLampHours},
		Media: Media{UDP: DefaultMediaUDP, TURN: TURN{Realm: DefaultTURNRealm,
			RelayPorts: DefaultTURNRelayPorts, CredentialTTL: Duration(DefaultTURNTTL)}, PullLinger: Duration(DefaultPullLinger)},
		TLS:   TLS{Mode: TLSOff, MQTTListen: DefaultTLSMQTTListen},
		Store: Store{Driver: StoreSQLite},
	}
}

// LoadHub reads the hub config at path: defaults, then the file, then the BAILIFF_*
// variables of env (as os.Environ returns them; nil for none), then Validate. With path ""
// it uses the defaults and env alone. On a config error the error is an Errors.
func LoadHub(path string, env []string) (*Hub, error) {
	if path == "" {
		return ParseHub("", nil, env)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return ParseHub(path, data, env)
}

// ParseHub is LoadHub for a config already read; name is the file name that errors give and
// that relative paths are resolved against.
func ParseHub(name string, data []byte, env []string) (*Hub, error) {
	h, errs := parseHub(parseDocument(name, data), env)
	if len(errs) > 0 {
		return nil, errs
	}
	return h, nil
}

// parseHub decodes doc into a Hub over the defaults, applies env and validates. It returns
// the Hub even when there are errors.
func parseHub(doc *document, env []string) (*Hub, Errors) {
	h := DefaultHub()
	h.File = doc.name
	if doc.root != nil {
		doc.decode(doc.root, reflect.ValueOf(&h).Elem(), "")
	}
	if len(doc.errs) > 0 && doc.root == nil { // the file did not parse
		return &h, doc.errs
	}
	sources, envErrs := applyEnv(&h, env)
	var fileProblems problems
	for _, e := range h.problems() {
		if v, ok := sources[e.Key]; ok {
			if v.failed {
				continue
			}
			e.Env = v.name
			envErrs = append(envErrs, e)
			continue
		}
		fileProblems = append(fileProblems, e)
	}
	return &h, append(doc.result(fileProblems), envErrs...)
}

// envKey is one hub key that an environment variable can set.
type envKey struct {
	key   string // "mqtt.external.url"
	name  string // "BAILIFF_MQTT_EXTERNAL_URL"
	index []int  // field path in Hub
}

// envKeys lists every hub key settable from the environment: each string and duration.
var envKeys = func() []envKey {
	var out []envKey
	var walk func(t reflect.Type, key string, index []int)
	walk = func(t reflect.Type, key string, index []int) {
		fs := yamlFields(t)
		for _, name := range fs.names {
			i := fs.index[name]
			k := joinKey(key, name)
			idx := append(append([]int(nil), index...), i)
			ft := t.Field(i).Type
			if ft.Kind() == reflect.Struct {
				walk(ft, k, idx)
				continue
			}
			if ft.Kind() == reflect.Slice && ft.Elem().Kind() != reflect.String {
				continue // a list of mappings is set in the file only
			}
			out = append(out, envKey{key: k, name: EnvName(k), index: idx})
		}
	}
	walk(reflect.TypeFor[Hub](), "", nil)
	return out
}()

// EnvName returns the environment variable that overrides a hub key:
// "mqtt.external.url" → "BAILIFF_MQTT_EXTERNAL_URL".
func EnvName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

type envSource struct {
	name   string
	failed bool
}

// applyEnv sets the hub keys named by BAILIFF_* variables in env; the last of repeated
// variables wins. Other variables are ignored.
func applyEnv(h *Hub, env []string) (map[string]envSource, Errors) {
	vals := map[string]string{}
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(k, EnvPrefix) {
			vals[k] = v
		}
	}
	sources := map[string]envSource{}
	var errs Errors
	for _, ek := range envKeys {
		v, ok := vals[ek.name]
		if !ok {
			continue
		}
		src := envSource{name: ek.name}
		f := reflect.ValueOf(h).Elem().FieldByIndex(ek.index)
		if f.Type() == durationType {
			d, msg := parseDuration(v)
			if msg != "" {
				errs = append(errs, &FieldError{Key: ek.key, Env: ek.name, Msg: msg})
				src.failed = true
			} else {
				f.SetInt(int64(d))
			}
		} else if f.Kind() == reflect.Int {
			n, msg := parseInt(v)
			if msg != "" {
				errs = append(errs, &FieldError{Key: ek.key, Env: ek.name, Msg: msg})
				src.failed = true
			} else {
				f.SetInt(n)
			}
		} else if f.Kind() == reflect.Slice {
			f.Set(reflect.ValueOf(splitList(v)))
		} else {
			f.SetString(v)
		}
		sources[ek.key] = src
	}
	return sources, errs
}

// splitList splits a comma-separated list from the environment, dropping blanks.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Validate checks every key of h and returns all problems as Errors, or nil.
func (h *Hub) Validate() error {
	ps := h.problems()
	for _, p := range ps {
		p.File = h.File
	}
	return Errors(ps).err()
}

func (h *Hub) problems() problems {
	var p problems
	if msg := checkListen(h.HTTP.Listen); msg != "" {
		p.add("http.listen", "%s", msg)
	}
	if pl := h.HTTP.PublicListen; pl != "" {
		if msg := checkListen(pl); msg != "" {
			p.add("http.public_listen", "%s", msg)
		} else if pl == h.HTTP.Listen {
			p.add("http.public_listen", "must differ from http.listen (%s)", h.HTTP.Listen)
		}
	}
	ext := h.MQTT.External
	if ext.URL == "" {
		if msg := checkListen(h.MQTT.Listen); msg != "" {
			p.add("mqtt.listen", "%s", msg)
		}
		if ext.Username != "" || ext.Password != "" || ext.PasswordFile != "" {
			p.add("mqtt.external.url", "required when username, password or password_file is set (without it the hub runs its own broker)")
		}
	} else {
		if h.MQTT.Listen != "" {
			if msg := checkListen(h.MQTT.Listen); msg != "" {
				p.add("mqtt.listen", "%s", msg)
			}
		}
		if msg := checkBrokerURL(ext.URL); msg != "" {
			p.add("mqtt.external.url", "%s", msg)
		}
	}
	if ext.Password != "" && ext.PasswordFile != "" {
		p.add("mqtt.external.password", "password and password_file are mutually exclusive; set only one")
	}
	if h.Data == "" {
		p.add("data", "required (a directory)")
	}
	if h.Rooms == "" {
		p.add("rooms", "required (a directory)")
	}
	p.between("commands.timeout", h.Commands.Timeout, 100*time.Millisecond, 5*time.Minute)
	p.oneOf("log.level", "level", h.Log.Level, LogLevels)
	if h.MQTT.AgentURL != "" {
		if msg := checkBrokerURL(h.MQTT.AgentURL); msg != "" {
			p.add("mqtt.agent_url", "%s", msg)
		}
	}
	if h.Alarms.LampHours < 1 || h.Alarms.LampHours > 100000 {
		p.add("alarms.lamp_hours", "must be between 1 and 100000 hours, got %d", h.Alarms.LampHours)
	}
	h.Media.problems(&p)
	h.tlsProblems(&p)
	h.storeProblems(&p)
	if h.Media.TURN.Listen != "" && h.Media.TURN.TLSListen != "" && !h.TLS.On() {
		p.add("media.turn.tls_listen", "needs tls.mode self or files (the hub's certificate)")
	}
	return p
}

// DataDir returns the data directory; a relative one is relative to the hub file's directory
// (to the working directory when there is no file).
func (h *Hub) DataDir() string { return h.resolve(h.Data) }

// RoomsDir returns the directory of room configs, resolved like DataDir.
func (h *Hub) RoomsDir() string { return h.resolve(h.Rooms) }

// Resolve resolves a path of the hub file like DataDir.
func (h *Hub) Resolve(p string) string { return h.resolve(p) }

func (h *Hub) resolve(p string) string {
	if p == "" || filepath.IsAbs(p) || h.File == "" {
		return p
	}
	return filepath.Join(filepath.Dir(h.File), p)
}

// MQTTPassword returns the external broker's password: mqtt.external.password, or the
// content of password_file (resolved like DataDir) without its trailing line break.
func (h *Hub) MQTTPassword() (string, error) {
	ext := h.MQTT.External
	if ext.PasswordFile == "" {
		return ext.Password, nil
	}
	b, err := os.ReadFile(h.resolve(ext.PasswordFile))
	if err != nil {
		return "", fmt.Errorf("config: mqtt.external.password_file: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// SlogLevel returns the level as a slog.Level (info for an unknown one).
func (l Log) SlogLevel() slog.Level {
	switch l.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}
