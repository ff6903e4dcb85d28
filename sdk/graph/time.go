package graph

import (
	"errors"
	"fmt"
	"time"
)

// TimeUnit names the unit of a numeric provider timestamp.
type TimeUnit int

// Units of numeric timestamps.
const (
	Seconds TimeUnit = iota + 1
	Milliseconds
)

// ErrAmbiguousTimestamp is returned when a numeric timestamp is given
// without a unit.
var ErrAmbiguousTimestamp = errors.New("numeric timestamp is ambiguous: say whether it is seconds or milliseconds")

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.000Z0700",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	time.RFC1123,
	time.RFC1123Z,
	"2006-01-02",
}

// ParseTime turns a provider timestamp into epoch milliseconds. Strings are
// parsed as ISO-8601/RFC 3339 (a date alone is midnight UTC); time.Time is
// converted; nil and "" give ok=false with no error. A bare number is
// refused with ErrAmbiguousTimestamp: use EpochMillis to give its unit.
func ParseTime(v any) (ms int64, ok bool, err error) {
	switch x := v.(type) {
	case nil:
		return 0, false, nil
	case *string:
		if x == nil {
			return 0, false, nil
		}
		return ParseTime(*x)
	case string:
		if x == "" {
			return 0, false, nil
		}
		for _, l := range timeLayouts {
			if t, perr := time.Parse(l, x); perr == nil {
				return t.UnixMilli(), true, nil
			}
		}
		return 0, false, fmt.Errorf("unrecognised timestamp %q", x)
	case time.Time:
		if x.IsZero() {
			return 0, false, nil
		}
		return x.UnixMilli(), true, nil
	case *time.Time:
		if x == nil || x.IsZero() {
			return 0, false, nil
		}
		return x.UnixMilli(), true, nil
	}
	if isNumber(v) {
		return 0, false, ErrAmbiguousTimestamp
	}
	return 0, false, fmt.Errorf("unsupported timestamp type %T", v)
}

// EpochMillis converts a numeric timestamp in the given unit to epoch milliseconds.
func EpochMillis(n float64, unit TimeUnit) (int64, error) {
	switch unit {
	case Seconds:
		return int64(n * 1000), nil
	case Milliseconds:
		return int64(n), nil
	}
	return 0, ErrAmbiguousTimestamp
}

// SetTime parses v with ParseTime and, when it holds a time, sets property
// name to epoch milliseconds. It returns the parse error, if any, leaving the
// property unset.
func (e *Entity) SetTime(name string, v any) error {
	ms, ok, err := ParseTime(v)
	if err != nil {
		return fmt.Errorf("property %q: %w", name, err)
	}
	if ok {
		e.Set(name, ms)
	}
	return nil
}
