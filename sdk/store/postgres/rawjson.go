package postgres

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// The loader reads graph files without decoding them into graph objects:
// it walks the JSON bytes, finds each object's top-level members and hands
// their raw values on. Unchanged objects are recognised by a hash of their
// bytes and skipped; only new and changed objects are split into columns
// and sent. PostgreSQL parses every jsonb value it receives, so invalid
// JSON in an object that is sent is still rejected there; an object that
// is skipped has the same bytes as one the database accepted before.

// member is one top-level member of a JSON object.
type member struct {
	name  []byte // raw name without quotes (escapes kept)
	value []byte // raw value
}

var errSyntax = errors.New("malformed JSON")

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipString returns the index after the string that starts at b[i] == '"'.
// It jumps from quote to quote (bytes.IndexByte) and counts the
// backslashes before each: an odd number escapes the quote.
func skipString(b []byte, i int) (int, error) {
	start := i + 1
	for i = start; i <= len(b); {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			break
		}
		j += i
		k := j
		for k > start && b[k-1] == '\\' {
			k--
		}
		if (j-k)%2 == 0 {
			return j + 1, nil
		}
		i = j + 1
	}
	return 0, errSyntax
}

// skipValue returns the index after the JSON value that starts at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errSyntax
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				j, err := skipString(b, i)
				if err != nil {
					return 0, err
				}
				i = j
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			}
			i++
		}
		return 0, errSyntax
	default: // number, true, false, null
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && !isSpace(b[j]) {
			j++
		}
		if j == i {
			return 0, errSyntax
		}
		return j, nil
	}
}

// eachMember calls fn for each top-level member of the object obj.
func eachMember(obj []byte, fn func(m member) error) error {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return fmt.Errorf("%w: object expected", errSyntax)
	}
	i = skipSpace(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		return nil
	}
	for {
		if i >= len(obj) || obj[i] != '"' {
			return fmt.Errorf("%w: member name expected", errSyntax)
		}
		j, err := skipString(obj, i)
		if err != nil {
			return err
		}
		name := obj[i+1 : j-1]
		i = skipSpace(obj, j)
		if i >= len(obj) || obj[i] != ':' {
			return fmt.Errorf("%w: ':' expected", errSyntax)
		}
		i = skipSpace(obj, i+1)
		j, err = skipValue(obj, i)
		if err != nil {
			return err
		}
		if err := fn(member{name: name, value: obj[i:j]}); err != nil {
			return err
		}
		i = skipSpace(obj, j)
		if i < len(obj) && obj[i] == ',' {
			i = skipSpace(obj, i+1)
			continue
		}
		if i < len(obj) && obj[i] == '}' {
			return nil
		}
		return fmt.Errorf("%w: ',' or '}' expected", errSyntax)
	}
}

// eachObject calls fn with the raw bytes of each element of the array
// member listName ("entities" or "relationships") of a graph file.
func eachObject(file []byte, listName string, fn func(obj []byte) error) error {
	found := false
	err := eachMember(file, func(m member) error {
		if string(m.name) != listName {
			return nil
		}
		found = true
		v := m.value
		if len(v) == 0 || v[0] != '[' {
			if string(v) == "null" {
				return nil
			}
			return fmt.Errorf("%w: %q is not an array", errSyntax, listName)
		}
		i := skipSpace(v, 1)
		if i < len(v) && v[i] == ']' {
			return nil
		}
		for {
			j, err := skipValue(v, i)
			if err != nil {
				return err
			}
			if err := fn(v[i:j]); err != nil {
				return err
			}
			i = skipSpace(v, j)
			if i < len(v) && v[i] == ',' {
				i = skipSpace(v, i+1)
				continue
			}
			if i < len(v) && v[i] == ']' {
				return nil
			}
			return fmt.Errorf("%w: ',' or ']' expected", errSyntax)
		}
	})
	if err == nil && !found {
		return fmt.Errorf("no %q list", listName)
	}
	return err
}

// jsonString decodes a raw JSON string value; ok is false for any other
// kind of value (null included).
func jsonString(raw []byte) (s string, ok bool, err error) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false, nil
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), true, nil
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false, err
	}
	return s, true, nil
}

// jsonStrings decodes a string or an array of strings (as _class is
// written); anything else gives an empty list.
func jsonStrings(raw []byte) ([]string, error) {
	if len(raw) == 0 {
		return []string{}, nil
	}
	switch raw[0] {
	case '"':
		s, _, err := jsonString(raw)
		return []string{s}, err
	case '[':
		var out []string
		if err := json.Unmarshal(raw, &out); err != nil {
			return nil, err
		}
		if out == nil {
			out = []string{}
		}
		return out, nil
	}
	return []string{}, nil
}

// nameIs compares a raw member name (escapes kept) with s.
func nameIs(name []byte, s string) bool { return string(name) == s }
