package graph

import (
	"errors"
	"fmt"
	"reflect"
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
		return parseTimeString(*x)
	case string:
		return parseTimeString(x)
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
	// The type's name, not v: v reaching fmt would make every caller box
	// its timestamp on the heap (a string passed to SetTimes, say).
	return 0, false, fmt.Errorf("unsupported timestamp type %s", reflect.TypeOf(v))
}

// parseTimeString is ParseTime of a string.
func parseTimeString(s string) (ms int64, ok bool, err error) {
	if s == "" {
		return 0, false, nil
	}
	if ms, ok := parseISOFast(s); ok {
		return ms, true, nil
	}
	for _, l := range timeLayouts {
		if t, perr := time.Parse(l, s); perr == nil {
			return t.UnixMilli(), true, nil
		}
	}
	return 0, false, fmt.Errorf("unrecognised timestamp %q", s)
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

// parseISOFast parses the timestamp forms providers send most, without
// trying layouts one by one: "2006-01-02T15:04:05Z", with a fraction of 1
// to 9 digits, and "2006-01-02" (midnight UTC). ok is false for anything
// else (other offsets, out-of-range fields), which then takes the layout
// loop, so results are exactly time.Parse's.
func parseISOFast(s string) (ms int64, ok bool) {
	n := len(s)
	if n != 10 && (n < 20 || s[n-1] != 'Z') {
		return 0, false
	}
	num := func(i, w int) (int, bool) {
		v := 0
		for _, c := range []byte(s[i : i+w]) {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	y, ok1 := num(0, 4)
	mo, ok2 := num(5, 2)
	d, ok3 := num(8, 2)
	if !ok1 || !ok2 || !ok3 || s[4] != '-' || s[7] != '-' || mo < 1 || mo > 12 || d < 1 ||
		d > daysIn(time.Month(mo), y) {
		return 0, false
	}
	if n == 10 {
		return time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC).UnixMilli(), true
	}
	h, ok1 := num(11, 2)
	mi, ok2 := num(14, 2)
	sec, ok3 := num(17, 2)
	if !ok1 || !ok2 || !ok3 || s[10] != 'T' || s[13] != ':' || s[16] != ':' || h > 23 || mi > 59 || sec > 59 {
		return 0, false
	}
	nsec := 0
	if n > 20 {
		frac := s[19 : n-1]
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
			return 0, false
		}
		v, ok := num(20, len(frac)-1)
		if !ok {
			return 0, false
		}
		for range 10 - len(frac) {
			v *= 10
		}
		nsec = v
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, nsec, time.UTC).UnixMilli(), true
}

// daysIn returns the number of days of month m of year y.
func daysIn(m time.Month, y int) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
