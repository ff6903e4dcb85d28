package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
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
		// Skip 8 plain bytes at a time: no control byte, quote, backslash
		// or non-ASCII byte among them.
		for i+8 <= len(s) && plain8(s[i:i+8]) {
			i += 8
		}
		if i >= len(s) {
			break
		}
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

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// plain8 reports whether the 8 bytes of s need no escaping in a JSON
// string: no byte below 0x20, no '"' or '\\', and no non-ASCII byte (those
// take the slow path). It uses the classic SWAR "has zero byte" test.
func plain8(s string) bool {
	x := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	q := x ^ (lsb * '"')
	b := x ^ (lsb * '\\')
	flags := x | ((x - lsb*0x20) &^ x) | ((q - lsb) &^ q) | ((b - lsb) &^ b)
	return flags&msb == 0
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
		// Written as is: a RawMessage decoded by encoding/json is valid
		// JSON, and compacting it costs a full scan per object.
		return append(buf, x...), nil
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

// kv is one property during encoding.
type kv struct {
	k string
	v any
}

// appendProperties appends ,"k":v for each property in sorted key order.
// Pairs are collected in one map iteration and sorted by key, without a
// second lookup per key.
func appendProperties(buf []byte, props map[string]any) ([]byte, error) {
	if len(props) == 0 {
		return buf, nil
	}
	var stack [48]kv // most objects have fewer properties: no allocation
	pairs := stack[:0]
	for k, v := range props {
		pairs = append(pairs, kv{k, v})
	}
	// Insertion sort: property maps are small.
	for i := 1; i < len(pairs); i++ {
		for j := i; j > 0 && pairs[j].k < pairs[j-1].k; j-- {
			pairs[j], pairs[j-1] = pairs[j-1], pairs[j]
		}
	}
	var err error
	for _, p := range pairs {
		if isReserved(p.k) {
			return buf, fmt.Errorf("property %q: %w", p.k, errReservedProperty)
		}
		buf = append(buf, ',')
		buf = appendString(buf, p.k)
		buf = append(buf, ':')
		if buf, err = appendAny(buf, p.v); err != nil {
			return buf, fmt.Errorf("property %q: %w", p.k, err)
		}
	}
	return buf, nil
}

func isReserved(k string) bool {
	return k == "" || k[0] == '_' || k == "displayName"
}
