package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Args are a scene step's command arguments: a mapping in YAML, kept as the JSON object the
// command carries (keys sorted). Empty means no arguments.
type Args json.RawMessage

// MarshalJSON writes the object (null when empty).
func (a Args) MarshalJSON() ([]byte, error) {
	if len(a) == 0 {
		return []byte("null"), nil
	}
	return []byte(a), nil
}

// UnmarshalJSON keeps a JSON object; null leaves a empty.
func (a *Args) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*a = nil
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("config: args: want a JSON object: %w", err)
	}
	out, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("config: args: %w", err)
	}
	*a = out
	return nil
}

// MarshalYAML writes the arguments as a mapping.
func (a Args) MarshalYAML() (any, error) {
	if len(a) == 0 {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal(a, &m); err != nil {
		return nil, err
	}
	return m, nil
}

var argsType = reflect.TypeFor[Args]()

// decodeArgs turns a YAML mapping into the JSON object of a step's args.
func (d *document) decodeArgs(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n.Line, key, "want a mapping of arguments (e.g. {on: true}), got "+describe(n))
		return
	}
	val, ok := d.jsonValue(n, key, 0)
	if !ok {
		return
	}
	b, err := json.Marshal(val)
	if err != nil {
		d.fail(n.Line, key, "cannot encode the arguments: "+err.Error())
		return
	}
	if len(val.(map[string]any)) == 0 {
		return // {} is the same as none
	}
	v.SetBytes(b)
}

// jsonValue converts a YAML value to a JSON one: mappings with string keys, lists, strings,
// numbers, booleans and null.
func (d *document) jsonValue(n *yaml.Node, key string, depth int) (any, bool) {
	n = d.deref(n)
	if n == nil {
		return nil, false
	}
	if depth > 16 {
		d.fail(n.Line, key, "arguments nested too deeply")
		return nil, false
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		ok := true
		d.eachKey(n, key, func(name string, _, vn *yaml.Node, k string) {
			v, vok := d.jsonValue(vn, k, depth+1)
			ok = ok && vok
			m[name] = v
		})
		return m, ok
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for i, item := range n.Content {
			v, ok := d.jsonValue(item, fmt.Sprintf("%s[%d]", key, i), depth+1)
			if !ok {
				return nil, false
			}
			l = append(l, v)
		}
		return l, true
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, true
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err != nil {
				d.fail(n.Line, key, "bad boolean "+quote(n.Value))
				return nil, false
			}
			return b, true
		case "!!int":
			var i int64
			if err := n.Decode(&i); err != nil {
				d.fail(n.Line, key, "bad integer "+quote(n.Value))
				return nil, false
			}
			return i, true
		case "!!float":
			f, err := strconv.ParseFloat(n.Value, 64)
			if err != nil {
				if err := n.Decode(&f); err != nil {
					d.fail(n.Line, key, "bad number "+quote(n.Value))
					return nil, false
				}
			}
			if math.IsNaN(f) || math.IsInf(f, 0) {
				d.fail(n.Line, key, "not a finite number: "+quote(n.Value))
				return nil, false
			}
			return f, true
		case "!!str":
			return n.Value, true
		}
		d.fail(n.Line, key, "unsupported value "+quote(n.Value)+" ("+n.ShortTag()+")")
		return nil, false
	}
	d.fail(n.Line, key, "unsupported value: "+describe(n))
	return nil, false
}
