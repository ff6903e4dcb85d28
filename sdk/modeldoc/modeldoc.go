// Package modeldoc generates the Data Model section of an integration's
// documentation from its steps' declarations: the entities, relationships
// and mapped relationships tables, between the MarkerStart and MarkerEnd
// comments, in the format JupiterOne's `j1-integration document` writes
// (byte for byte, after prettier; see Section for the sort order).
//
// Section builds the block, Replace splices it into a document, and
// UpdateFile and CheckFile apply it to a file on disk, the latter for CI
// (a stale file is a *StaleError naming the first line that differs).
// The document command of sdk/cli is a thin adapter over this package.
package modeldoc

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/internal/atomicfile"
	"github.com/stepgraph/stepgraph/sdk/runtime"
)

// Documentation markers delimiting the generated Data Model section, as
// JupiterOne's `j1-integration document` writes them.
const (
	MarkerStart = "<!-- {J1_DOCUMENTATION_MARKER_START} -->"
	MarkerEnd   = "<!-- {J1_DOCUMENTATION_MARKER_END} -->"
)

const docNote = `<!--
********************************************************************************
NOTE: ALL OF THE FOLLOWING DOCUMENTATION IS GENERATED USING THE
"j1-integration document" COMMAND. DO NOT EDIT BY HAND! PLEASE SEE THE DEVELOPER
DOCUMENTATION FOR USAGE INFORMATION:

https://github.com/JupiterOne/sdk/blob/master/docs/integrations/development.md
********************************************************************************
-->`

const docEnd = `<!--
********************************************************************************
END OF GENERATED DOCUMENTATION AFTER BELOW MARKER
********************************************************************************
-->`

// Section returns the generated Data Model section for the steps, from
// MarkerStart to MarkerEnd inclusive, in the format JupiterOne's
// `j1-integration document` writes after prettier formatted it:
//
//   - Entities: one row per _type (the first declaration in execution
//     order wins), sorted by resource name;
//   - Relationships: one row per distinct (class, _type, source, target),
//     sorted by source _type, then class, then target _type as it appears
//     in the relationship _type (without the prefix it shares with the
//     source, so okta_user ASSIGNED okta_application sorts before
//     okta_user ASSIGNED mfa_device, as in JupiterOne's published docs),
//     then the full target and _type;
//   - Mapped Relationships (only when some are declared): the same order,
//     then direction, with the target shown as `*type*`.
//
// Strings compare bytewise (JavaScript's < on ASCII). Tables are padded
// like prettier pads markdown tables.
func Section[C any](steps []integration.Step[C]) string {
	ordered := runtime.StepsInOrder(steps)
	type ent struct{ resource, typ, class string }
	type rel struct{ source, class, target, typ, dir string }
	var ents []ent
	var rels, mapped []rel
	seenE, seenR, seenM := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, s := range ordered {
		for _, e := range s.Entities {
			if seenE[e.Type] {
				continue
			}
			seenE[e.Type] = true
			var cls []string
			for _, c := range e.Class {
				cls = append(cls, "`"+c+"`")
			}
			ents = append(ents, ent{e.Resource, e.Type, strings.Join(cls, ", ")})
		}
		for _, r := range s.Relationships {
			k := r.Class + ":" + r.Type + ":" + r.Source + ":" + r.Target
			if seenR[k] {
				continue
			}
			seenR[k] = true
			rels = append(rels, rel{source: r.Source, class: r.Class, target: r.Target, typ: r.Type})
		}
		for _, r := range s.MappedRelationships {
			k := r.Class + ":" + r.Type + ":" + r.Source + ":" + r.Target + ":" + string(r.Direction)
			if seenM[k] {
				continue
			}
			seenM[k] = true
			mapped = append(mapped, rel{source: r.Source, class: r.Class, target: r.Target, typ: r.Type, dir: string(r.Direction)})
		}
	}
	sort.SliceStable(ents, func(i, j int) bool { return ents[i].resource < ents[j].resource })
	relLess := func(rs []rel) func(i, j int) bool {
		return func(i, j int) bool {
			a, b := rs[i], rs[j]
			if a.source != b.source {
				return a.source < b.source
			}
			if a.class != b.class {
				return a.class < b.class
			}
			at, bt := targetInType(a.source, a.target), targetInType(b.source, b.target)
			if at != bt {
				return at < bt
			}
			if a.target != b.target {
				return a.target < b.target
			}
			if a.typ != b.typ {
				return a.typ < b.typ
			}
			return a.dir < b.dir
		}
	}
	sort.SliceStable(rels, relLess(rels))
	sort.SliceStable(mapped, relLess(mapped))

	var b strings.Builder
	b.WriteString(MarkerStart + "\n" + docNote + "\n\n## Data Model")
	if len(ents) > 0 {
		rows := [][]string{{"Resources", "Entity `_type`", "Entity `_class`"}}
		for _, e := range ents {
			rows = append(rows, []string{e.resource, "`" + e.typ + "`", e.class})
		}
		b.WriteString("\n\n### Entities\n\nThe following entities are created:\n\n" + markdownTable(rows))
	}
	if len(rels) > 0 {
		rows := [][]string{{"Source Entity `_type`", "Relationship `_class`", "Target Entity `_type`"}}
		for _, r := range rels {
			rows = append(rows, []string{"`" + r.source + "`", "**" + r.class + "**", "`" + r.target + "`"})
		}
		b.WriteString("\n\n### Relationships\n\nThe following relationships are created/mapped:\n\n" + markdownTable(rows))
	}
	if len(mapped) > 0 {
		rows := [][]string{{"Source Entity `_type`", "Relationship `_class`", "Target Entity `_type`", "Direction"}}
		for _, r := range mapped {
			rows = append(rows, []string{"`" + r.source + "`", "**" + r.class + "**", "`*" + r.target + "*`", r.dir})
		}
		b.WriteString("\n\n### Mapped Relationships\n\nThe following mapped relationships are created:\n\n" + markdownTable(rows))
	}
	b.WriteString("\n\n" + docEnd + "\n" + MarkerEnd)
	return b.String()
}

// targetInType returns target without the "<provider>_" prefix it shares
// with source: the form it takes inside the relationship _type.
func targetInType(source, target string) string {
	if p, _, ok := strings.Cut(source, "_"); ok {
		if rest, found := strings.CutPrefix(target, p+"_"); found && rest != "" {
			return rest
		}
	}
	return target
}

// markdownTable renders rows (the first is the header) as a markdown
// table padded the way prettier formats one: every cell padded to its
// column's width, the delimiter row made of dashes of that width.
func markdownTable(rows [][]string) string {
	width := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], 3, utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	line := func(cells []string) {
		b.WriteString("|")
		for i, c := range cells {
			b.WriteString(" " + c + strings.Repeat(" ", width[i]-utf8.RuneCountInString(c)) + " |")
		}
		b.WriteString("\n")
	}
	line(rows[0])
	dashes := make([]string, len(width))
	for i, w := range width {
		dashes[i] = strings.Repeat("-", w)
	}
	line(dashes)
	for _, r := range rows[1:] {
		line(r)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// Replace returns doc with the section between MarkerStart and
// MarkerEnd (markers included) replaced by block. A doc without the
// start marker gets the block appended after a blank line, as
// `j1-integration document` does; a start marker without an end marker is
// an error.
func Replace(doc, block string) (string, error) {
	start := strings.Index(doc, MarkerStart)
	if start < 0 {
		return doc + "\n\n" + block, nil
	}
	end := strings.Index(doc[start:], MarkerEnd)
	if end < 0 {
		return "", errors.New("documentation start marker found but no end marker " + MarkerEnd)
	}
	end += start
	return doc[:start] + block + doc[end+len(MarkerEnd):], nil
}

// Declares reports whether the steps declare any entity, relationship or
// mapped relationship: whether Section has anything to document.
func Declares[C any](steps []integration.Step[C]) bool {
	for _, s := range steps {
		if len(s.Entities) > 0 || len(s.Relationships) > 0 || len(s.MappedRelationships) > 0 {
			return true
		}
	}
	return false
}

// StaleError is CheckFile's answer for a file whose generated section is
// not the one given.
type StaleError struct {
	// File is the file checked.
	File string
	// Line is the first line (1-based) where the file and its updated
	// version differ.
	Line int
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("%s is out of date (first difference at line %d)", e.File, e.Line)
}

// CheckFile reports whether file holds block as its Data Model section
// (see Replace): nil when it does, a *StaleError when it does not, another
// error when the file cannot be read or has a start marker without an end.
func CheckFile(file, block string) error {
	old, updated, err := replaceIn(file, block)
	if err != nil {
		return err
	}
	if updated != old {
		return &StaleError{File: file, Line: firstDiffLine(old, updated)}
	}
	return nil
}

// UpdateFile makes block the Data Model section of file (see Replace),
// replacing the file in one step (a temporary file renamed over it, its
// permissions kept). It reports whether the file changed; an up-to-date
// file is not rewritten.
func UpdateFile(file, block string) (changed bool, err error) {
	old, updated, err := replaceIn(file, block)
	if err != nil || updated == old {
		return false, err
	}
	if err := atomicfile.Write(file, []byte(updated)); err != nil {
		return false, err
	}
	return true, nil
}

func replaceIn(file, block string) (old, updated string, err error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", "", err
	}
	updated, err = Replace(string(b), block)
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", file, err)
	}
	return string(b), updated, nil
}

func firstDiffLine(a, b string) int {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return i + 1
		}
	}
	return min(len(la), len(lb)) + 1
}
