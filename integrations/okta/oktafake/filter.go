package oktafake

import (
	"errors"
	"strings"
)

// A tiny evaluator for Okta's SCIM-like filter and search expressions:
//
//	attr op "value" [and|or ...], parentheses, and "attr pr".
//
// Operators: eq, ne, sw, ew, co, gt, ge, lt, le (string comparison).

type filterExpr interface {
	eval(get func(string) (string, bool)) bool
	fields(func(string))
}

type cond struct{ attr, op, value string }

type andExpr []filterExpr
type orExpr []filterExpr

func (c cond) eval(get func(string) (string, bool)) bool {
	v, ok := get(c.attr)
	if c.op == "pr" {
		return ok && v != ""
	}
	if !ok {
		return false
	}
	switch c.op {
	case "eq":
		return v == c.value
	case "ne":
		return v != c.value
	case "sw":
		return strings.HasPrefix(v, c.value)
	case "ew":
		return strings.HasSuffix(v, c.value)
	case "co":
		return strings.Contains(v, c.value)
	case "gt":
		return v > c.value
	case "ge":
		return v >= c.value
	case "lt":
		return v < c.value
	case "le":
		return v <= c.value
	}
	return false
}

func (c cond) fields(f func(string)) { f(c.attr) }

func (a andExpr) eval(get func(string) (string, bool)) bool {
	for _, e := range a {
		if !e.eval(get) {
			return false
		}
	}
	return true
}

func (a andExpr) fields(f func(string)) {
	for _, e := range a {
		e.fields(f)
	}
}

func (a orExpr) eval(get func(string) (string, bool)) bool {
	for _, e := range a {
		if e.eval(get) {
			return true
		}
	}
	return false
}

func (a orExpr) fields(f func(string)) {
	for _, e := range a {
		e.fields(f)
	}
}

var errFilter = errors.New("invalid filter expression")

type filterParser struct {
	toks []string
	pos  int
}

func tokenizeFilter(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '+':
			i++
		case c == '(' || c == ')':
			toks = append(toks, string(c))
			i++
		case c == '"':
			var b strings.Builder
			b.WriteByte('"')
			i++
			closed := false
			for i < len(s) {
				if s[i] == '\\' && i+1 < len(s) {
					b.WriteByte(s[i+1])
					i += 2
					continue
				}
				if s[i] == '"' {
					closed = true
					i++
					break
				}
				b.WriteByte(s[i])
				i++
			}
			if !closed {
				return nil, errFilter
			}
			toks = append(toks, b.String())
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '(' && s[j] != ')' && s[j] != '"' {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks, nil
}

func parseFilter(s string) (filterExpr, error) {
	toks, err := tokenizeFilter(s)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, errFilter
	}
	p := &filterParser{toks: toks}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, errFilter
	}
	return e, nil
}

func (p *filterParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *filterParser) or() (filterExpr, error) {
	var out orExpr
	for {
		e, err := p.and()
		if err != nil {
			return nil, err
		}
		out = append(out, e)
		if !strings.EqualFold(p.peek(), "or") {
			break
		}
		p.pos++
	}
	if len(out) == 1 {
		return out[0], nil
	}
	return out, nil
}

func (p *filterParser) and() (filterExpr, error) {
	var out andExpr
	for {
		e, err := p.factor()
		if err != nil {
			return nil, err
		}
		out = append(out, e)
		if !strings.EqualFold(p.peek(), "and") {
			break
		}
		p.pos++
	}
	if len(out) == 1 {
		return out[0], nil
	}
	return out, nil
}

func (p *filterParser) factor() (filterExpr, error) {
	if p.peek() == "(" {
		p.pos++
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, errFilter
		}
		p.pos++
		return e, nil
	}
	if p.pos+1 >= len(p.toks) {
		return nil, errFilter
	}
	attr, op := p.toks[p.pos], strings.ToLower(p.toks[p.pos+1])
	if attr == "" || attr[0] == '"' || attr == "(" || attr == ")" {
		return nil, errFilter
	}
	if op == "pr" {
		p.pos += 2
		return cond{attr: attr, op: op}, nil
	}
	switch op {
	case "eq", "ne", "sw", "ew", "co", "gt", "ge", "lt", "le":
	default:
		return nil, errFilter
	}
	if p.pos+2 >= len(p.toks) {
		return nil, errFilter
	}
	v := p.toks[p.pos+2]
	if v == "(" || v == ")" {
		return nil, errFilter
	}
	v = strings.TrimPrefix(v, `"`)
	p.pos += 3
	return cond{attr: attr, op: op, value: v}, nil
}

// checkFields reports whether every attribute of e is known to get.
func checkFields(e filterExpr, known func(string) bool) bool {
	ok := true
	e.fields(func(f string) {
		if !known(f) {
			ok = false
		}
	})
	return ok
}
