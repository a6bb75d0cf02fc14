package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Limits that keep a hostile or broken file from costing much.
const (
	maxFileSize = 1 << 20 // bytes of one config file
	maxErrors   = 100     // errors reported per file; the rest are summarised
	maxNodes    = 100_000 // YAML nodes visited per file, counting each alias expansion
)

// document is one YAML file on its way to a Hub or Room: its top-level mapping, the line of
// every key seen, and the errors found so far.
type document struct {
	name      string
	root      *yaml.Node      // the top-level mapping; nil when the file is empty
	errs      Errors          // decoding errors, in file order
	lines     map[string]int  // key path → line of the key (or of the list item)
	failed    map[string]bool // key paths whose value could not be decoded
	budget    int             // nodes left to visit
	exhausted bool
	dropped   int // errors not kept because of maxErrors
}

// parseDocument parses data as one YAML document whose top level is a mapping.
func parseDocument(name string, data []byte) *document {
	d := &document{name: name, lines: map[string]int{}, failed: map[string]bool{}, budget: maxNodes}
	if len(data) > maxFileSize {
		d.add(0, "", fmt.Sprintf("file too large: %d bytes, at most %d", len(data), maxFileSize))
		return d
	}
	root, err := parseYAML(data)
	if err != nil {
		d.add(yamlErrorLine(err))
		return d
	}
	if root == nil || isNull(root) {
		return d
	}
	if root.Kind != yaml.MappingNode {
		d.add(root.Line, "", "want a mapping of keys at the top level, got "+describe(root))
		return d
	}
	d.root = root
	return d
}

// parseYAML returns the content of the only document in data, nil when there is none.
func parseYAML(data []byte) (root *yaml.Node, err error) {
	defer func() {
		// yaml.v3 turns its own failures into errors; this only guards the caller against a
		// bug in it on some odd input, so that a bad file is an error and never a crash.
		if r := recover(); r != nil {
			root, err = nil, fmt.Errorf("yaml: cannot parse: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, err
	case len(next.Content) == 1 && isNull(next.Content[0]) && next.Content[0].Value == "":
		// a trailing "---" with nothing after it
	default:
		return nil, fmt.Errorf("yaml: line %d: more than one YAML document; a config file holds one", next.Line)
	}
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil, nil
		}
		return doc.Content[0], nil
	}
	return &doc, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlErrorLine splits a yaml.v3 error ("yaml: line 3: mapping values are not allowed…") into
// its line and message.
func yamlErrorLine(err error) (line int, key, msg string) {
	s := err.Error()
	if m := yamlLineRE.FindStringSubmatch(s); m != nil {
		line, _ = strconv.Atoi(m[1])
		s = m[2]
	} else {
		s = strings.TrimPrefix(s, "yaml: ")
	}
	return line, "", "invalid YAML: " + s
}

// add records a decoding error.
func (d *document) add(line int, key, msg string) {
	if len(d.errs) >= maxErrors {
		d.dropped++
		return
	}
	d.errs = append(d.errs, &FieldError{File: d.name, Line: line, Key: key, Msg: msg})
}

// fail records a decoding error on the value at key, and marks key so that validation does
// not report the same key again.
func (d *document) fail(line int, key, msg string) {
	d.failed[key] = true
	d.add(line, key, msg)
}

// deref follows aliases and counts the node against the budget; nil means stop.
func (d *document) deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i > 64 {
			return nil
		}
		n = n.Alias
	}
	if n == nil || d.exhausted {
		return nil
	}
	d.budget--
	if d.budget < 0 {
		d.exhausted = true
		d.add(n.Line, "", fmt.Sprintf("too complex: more than %d values, counting each use of an alias", maxNodes))
		return nil
	}
	return n
}

var durationType = reflect.TypeFor[Duration]()

// decode sets v from n. v is one of the config types: a struct with yaml tags (or a pointer
// to one, for an optional section), a string, a Duration, a slice of those, or a
// map[string]string. A null value leaves v as it is, so the
// default stays.
func (d *document) decode(n *yaml.Node, v reflect.Value, key string) {
	n = d.deref(n)
	if n == nil || isNull(n) {
		return
	}
	switch {
	case v.Type() == argsType:
		d.decodeArgs(n, v, key)
	case v.Type() == durationType:
		if n.Kind != yaml.ScalarNode {
			d.fail(n.Line, key, `want a duration such as "5s", got `+describe(n))
			return
		}
		dur, msg := parseDuration(n.Value)
		if msg != "" {
			d.fail(n.Line, key, msg)
			return
		}
		v.SetInt(int64(dur))
	case v.Kind() == reflect.Int:
		if n.Kind != yaml.ScalarNode {
			d.fail(n.Line, key, "want a whole number, got "+describe(n))
			return
		}
		i, msg := parseInt(n.Value)
		if msg != "" {
			d.fail(n.Line, key, msg)
			return
		}
		v.SetInt(i)
	case v.Kind() == reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.fail(n.Line, key, "want a string, got "+describe(n))
			return
		}
		v.SetString(n.Value)
	case v.Kind() == reflect.Struct:
		d.decodeStruct(n, v, key)
	case v.Kind() == reflect.Pointer && v.Type().Elem().Kind() == reflect.Struct:
		// An optional section: present (even as an empty mapping) means set.
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), key)
	case v.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(n.Line, key, "want a list, got "+describe(n))
			return
		}
		if len(n.Content) == 0 { // an empty list is the same as none
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			ik := fmt.Sprintf("%s[%d]", key, i)
			d.lines[ik] = item.Line
			d.decode(item, s.Index(i), ik)
		}
		v.Set(s)
	case v.Kind() == reflect.Map && v.Type().Key().Kind() == reflect.String:
		if n.Kind != yaml.MappingNode {
			d.fail(n.Line, key, "want a mapping, got "+describe(n))
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
		d.eachKey(n, key, func(name string, kn, vn *yaml.Node, k string) {
			ev := reflect.New(v.Type().Elem()).Elem()
			d.decode(vn, ev, k)
			m.SetMapIndex(reflect.ValueOf(name).Convert(v.Type().Key()), ev)
		})
		if m.Len() > 0 { // an empty mapping is the same as none
			v.Set(m)
		}
	default:
		// Only reachable when a field of an unsupported type is added to types.go.
		panic(fmt.Sprintf("config: cannot decode into %s (%s)", v.Type(), key))
	}
}

// decodeStruct decodes a mapping into a struct by its yaml tags; other keys are errors.
func (d *document) decodeStruct(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n.Line, key, "want a mapping, got "+describe(n))
		return
	}
	fields := yamlFields(v.Type())
	d.eachKey(n, key, func(name string, kn, vn *yaml.Node, k string) {
		i, ok := fields.index[name]
		if !ok {
			d.add(kn.Line, k, unknownKey(name, fields.names))
			return
		}
		d.decode(vn, v.Field(i), k)
	})
}

// eachKey calls f for every key of mapping n, in order, after checking that the key is a
// string and not a duplicate and recording its line.
func (d *document) eachKey(n *yaml.Node, key string, f func(name string, kn, vn *yaml.Node, k string)) {
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn := d.deref(n.Content[i])
		if kn == nil {
			return
		}
		vn := n.Content[i+1]
		if kn.Kind != yaml.ScalarNode {
			d.add(kn.Line, key, "a key must be a string, got "+describe(kn))
			continue
		}
		name := kn.Value
		k := joinKey(key, name)
		if kn.ShortTag() == "!!merge" {
			d.add(kn.Line, k, "merge keys (<<) are not supported; write the keys out")
			continue
		}
		if first, dup := seen[name]; dup {
			d.add(kn.Line, k, fmt.Sprintf("duplicate key (first at line %d)", first))
			continue
		}
		seen[name] = kn.Line
		d.lines[k] = kn.Line
		f(name, kn, vn, k)
	}
}

// locate fills in where a validation error is: the file and the line of its key (or of the
// nearest enclosing key that is in the file). It reports false for an error on a key whose
// value already failed to decode, which would only repeat that error.
func (d *document) locate(e *FieldError) bool {
	for k := e.Key; k != ""; k = parentKey(k) {
		if d.failed[k] {
			return false
		}
	}
	e.File = d.name
	for k := e.Key; k != ""; k = parentKey(k) {
		if l, ok := d.lines[k]; ok {
			e.Line = l
			break
		}
	}
	return true
}

// result returns the document's errors followed by the validation errors, each file's errors
// sorted by line; and nil when there are none.
func (d *document) result(validation []*FieldError) Errors {
	errs := append(Errors(nil), d.errs...)
	for _, e := range validation {
		if d.locate(e) {
			errs = append(errs, e)
		}
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
	dropped := d.dropped
	if len(errs) > maxErrors {
		dropped += len(errs) - maxErrors
		errs = errs[:maxErrors]
	}
	if dropped > 0 {
		errs = append(errs, &FieldError{File: d.name, Msg: fmt.Sprintf("… and %d more errors", dropped)})
	}
	return errs
}

// topKeys returns the keys of the top-level mapping.
func (d *document) topKeys() []string {
	if d.root == nil {
		return nil
	}
	var keys []string
	for i := 0; i+1 < len(d.root.Content); i += 2 {
		if kn := d.root.Content[i]; kn.Kind == yaml.ScalarNode {
			keys = append(keys, kn.Value)
		}
	}
	return keys
}

type fieldSet struct {
	index map[string]int // yaml name → field index
	names []string       // yaml names in declaration order
}

// yamlFields lists the fields of struct type t that have a yaml name.
func yamlFields(t reflect.Type) fieldSet {
	fs := fieldSet{index: map[string]int{}}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !t.Field(i).IsExported() {
			continue
		}
		fs.index[name] = i
		fs.names = append(fs.names, name)
	}
	return fs
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// describe names the kind of a YAML value for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!int", "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!null":
			return "nothing"
		}
		return "a string"
	}
	return "an unknown value"
}

// parseDuration parses a Go duration string; msg says what is wrong with it.
func parseDuration(s string) (time.Duration, string) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err == nil {
		return d, ""
	}
	if _, nerr := strconv.ParseFloat(strings.TrimSpace(s), 64); nerr == nil {
		return 0, quote(s) + `: not a duration: missing unit (e.g. "5s", "250ms", "2m")`
	}
	return 0, quote(s) + ": not a duration"
}

// parseInt reads a whole number, or says what is wrong with it.
func parseInt(s string) (int64, string) {
	i, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
	if err != nil {
		return 0, fmt.Sprintf("want a whole number, got %s", quote(s))
	}
	return i, ""
}

// joinKey appends name to the key path, quoting a name that would make the path ambiguous.
func joinKey(key, name string) string {
	if !plainKey(name) {
		name = quote(name)
	}
	if key == "" {
		return name
	}
	return key + "." + name
}

func plainKey(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// parentKey strips the last element of a key path: "devices[2].address" → "devices[2]" →
// "devices" → "".
func parentKey(k string) string {
	if strings.HasSuffix(k, "]") {
		if i := strings.LastIndexByte(k, '['); i >= 0 {
			return k[:i]
		}
	}
	if strings.HasSuffix(k, `"`) { // a quoted name: find its opening quote
		for i := len(k) - 2; i >= 0; i-- {
			if k[i] == '"' && (i == 0 || k[i-1] == '.') {
				return strings.TrimSuffix(k[:i], ".")
			}
		}
	}
	if i := strings.LastIndexByte(k, '.'); i >= 0 {
		return k[:i]
	}
	return ""
}

// quote quotes s for a message, shortened when long.
func quote(s string) string {
	const max = 80
	if utf8.RuneCountInString(s) > max {
		r := []rune(s)
		return strconv.Quote(string(r[:max])) + "…"
	}
	return strconv.Quote(s)
}

// unknownKey says that name is not one of known, suggesting the closest.
func unknownKey(name string, known []string) string {
	if s := suggest(name, known); s != "" {
		return fmt.Sprintf("unknown key; did you mean %q?", s)
	}
	return "unknown key; known keys: " + strings.Join(known, ", ")
}

// suggest returns the element of known that s was most likely meant to be, or "".
func suggest(s string, known []string) string {
	if s == "" || len(s) > 64 {
		return ""
	}
	ls := strings.ToLower(s)
	best, bestDist := "", 0
	for _, k := range known {
		lk := strings.ToLower(k)
		dist := levenshtein(ls, lk)
		if dist > max(1, len(lk)/3) && !(len(ls) >= 4 && strings.Contains(lk, ls)) && !(len(lk) >= 4 && strings.Contains(ls, lk)) {
			continue
		}
		if best == "" || dist < bestDist {
			best, bestDist = k, dist
		}
	}
	return best
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
