package integration

import (
	"errors"
	"slices"
)

// Action is what the error policy does with an error.
type Action int

// Actions of an error policy.
const (
	// Fail: the error fails the step (the default for any error).
	Fail Action = iota
	// Degrade: the step goes on; the types the error affects are marked
	// partial with the error as the reason (e.g. a missing permission for
	// one sub-resource).
	Degrade
	// Skip: the item is left out and counted in a warning; nothing is
	// marked partial (e.g. an object deleted between listing it and
	// reading its children: it is gone, so nothing is missing).
	Skip
)

// String implements fmt.Stringer.
func (a Action) String() string {
	switch a {
	case Degrade:
		return "degrade"
	case Skip:
		return "skip"
	}
	return "fail"
}

// Classifier is an integration's error policy, declared once on
// Integration.Classify: it says what to do with an error a step or one of
// its items returns, and why in a few words for the summary's warning
// (e.g. "deleted since it was listed", "missing permission"). Fatal
// errors (IsFatal) and cancellation always fail, whatever it says.
type Classifier func(err error) (action Action, reason string)

// PartialTypes wraps err to say which types it leaves incomplete when the
// policy degrades it (by default: every type the step declares).
func PartialTypes(err error, types ...string) error {
	if err == nil {
		return nil
	}
	return &partialError{err: err, types: slices.Clone(types)}
}

// TypesOf returns the types PartialTypes attached to err, or nil.
func TypesOf(err error) []string {
	var p *partialError
	if errors.As(err, &p) {
		return p.types
	}
	return nil
}

type partialError struct {
	err   error
	types []string
}

func (e *partialError) Error() string { return e.err.Error() }
func (e *partialError) Unwrap() error { return e.err }
