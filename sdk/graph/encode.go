package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaping like encoding/json
// (without HTML escaping).
func appendString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// appendScalar appends a flat property value. ok is false when v is not a
// scalar this package knows how to write without reflection.
func appendScalar(buf []byte, v any) ([]byte, bool, error) {
	switch x := v.(type) {
	case nil:
		return append(buf, "null"...), true, nil
	case string:
		return appendString(buf, x), true, nil
	case bool:
		return strconv.AppendBool(buf, x), true, nil
	case int:
		return strconv.AppendInt(buf, int64(x), 10), true, nil
	case int64:
		return strconv.AppendInt(buf, x, 10), true, nil
	case int32:
		return strconv.AppendInt(buf, int64(x), 10), true, nil
	case uint32:
		return strconv.AppendUint(buf, uint64(x), 10), true, nil
	case uint64:
		return strconv.AppendUint(buf, x, 10), true, nil
	case float64:
		return appendFloat(buf, x)
	case float32:
		return appendFloat(buf, float64(x))
	case json.Number:
		return append(buf, x...), true, nil
	}
	return buf, false, nil
}

func appendFloat(buf []byte, f float64) ([]byte, bool, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return buf, true, fmt.Errorf("unsupported number %v", f)
	}
	// Same formatting rule as encoding/json.
	abs := math.Abs(f)
	fmtByte := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		fmtByte = 'e'
	}
	buf = strconv.AppendFloat(buf, f, fmtByte, -1, 64)
	if fmtByte == 'e' {
		n := len(buf)
		if n >= 4 && buf[n-4] == 'e' && buf[n-3] == '-' && buf[n-2] == '0' {
			buf[n-2] = buf[n-1]
			buf = buf[:n-1]
		}
	}
	return buf, true, nil
}

// appendAny appends any JSON-encodable value, with fast paths for scalars,
// scalar slices and json.RawMessage.
func appendAny(buf []byte, v any) ([]byte, error) {
	if b, ok, err := appendScalar(buf, v); ok || err != nil {
		return b, err
	}
	switch x := v.(type) {
	case json.RawMessage:
		if len(x) == 0 {
			return append(buf, "null"...), nil
		}
		return appendCompactRaw(buf, x)
	case []string:
		buf = append(buf, '[')
		for i, s := range x {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendString(buf, s)
		}
		return append(buf, ']'), nil
	case []any:
		buf = append(buf, '[')
		for i, e := range x {
			if i > 0 {
				buf = append(buf, ',')
			}
			var err error
			if buf, err = appendAny(buf, e); err != nil {
				return buf, err
			}
		}
		return append(buf, ']'), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return buf, err
	}
	return append(buf, b...), nil
}

var errReservedProperty = errors.New("reserved property name")

// appendProperties appends ,"k":v for each property in sorted key order.
func appendProperties(buf []byte, props map[string]any) ([]byte, error) {
	if len(props) == 0 {
		return buf, nil
	}
	var stack [32]string
	keys := stack[:0]
	for k := range props {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var err error
	for _, k := range keys {
		if isReserved(k) {
			return buf, fmt.Errorf("property %q: %w", k, errReservedProperty)
		}
		buf = append(buf, ',')
		buf = appendString(buf, k)
		buf = append(buf, ':')
		if buf, err = appendAny(buf, props[k]); err != nil {
			return buf, fmt.Errorf("property %q: %w", k, err)
		}
	}
	return buf, nil
}

func isReserved(k string) bool {
	return k == "" || k[0] == '_' || k == "displayName"
}

var errBadRaw = errors.New("invalid raw JSON")

// appendCompactRaw appends raw JSON without insignificant whitespace. The
// input is trusted to be JSON (as produced by encoding/json decoding into a
// json.RawMessage); the scan checks string termination and bracket balance
// only, which is far cheaper than json.Compact's full validation.
func appendCompactRaw(buf, raw []byte) ([]byte, error) {
	start := len(buf)
	depth := 0
	i := 0
	for i < len(raw) {
		c := raw[i]
		switch c {
		case ' ', '\t', '\n', '\r':
			i++
			continue
		case '"':
			j := i + 1
			for j < len(raw) {
				if raw[j] == '\\' {
					j += 2
					continue
				}
				if raw[j] == '"' {
					break
				}
				j++
			}
			if j >= len(raw) {
				return buf[:start], errBadRaw
			}
			buf = append(buf, raw[i:j+1]...)
			i = j + 1
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth < 0 {
				return buf[:start], errBadRaw
			}
		}
		// Copy a run of plain bytes at once.
		j := i + 1
		for j < len(raw) {
			d := raw[j]
			if d == '"' || d == ' ' || d == '\t' || d == '\n' || d == '\r' || d == '{' || d == '[' || d == '}' || d == ']' {
				break
			}
			j++
		}
		buf = append(buf, raw[i:j]...)
		i = j
	}
	if depth != 0 || len(buf) == start {
		return buf[:start], errBadRaw
	}
	return buf, nil
}
