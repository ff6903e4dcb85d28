// Package graphview draws a collected graph as one self-contained HTML
// page meant for answering questions, at any size:
//
//   - the first view is the type-level graph: one node per _type with its
//     count, one edge per relationship _type (and endpoint types) with its
//     count; clicking a type lists its objects;
//   - search finds objects by key, name, email or login, and a focus view
//     draws one object's neighbourhood (one or two hops) grouped by
//     relationship type, a large group collapsed into one counted node
//     that expands on click;
//   - a path view answers "how can this user reach this application (or
//     role)": directly, or through which groups; "who has this?" lists
//     every user that reaches an object and how;
//   - beside the picture, the selected object's properties and a sortable,
//     filterable table (neighbours, a type's objects, paths, holders).
//
// Build reads a Source (a .j1-integration folder through *store.Dir, or
// the PostgreSQL graph) and WriteHTML writes the page. The page embeds
// cytoscape.js (assets/README.md) and the data compactly: entities are
// numbered, relationships are integer pairs, and properties are columnar
// tables per type that the page parses only when an object of that type is
// first selected (see encode.go). The page loads nothing from the network.
package graphview

import _ "embed"

// CytoscapeVersion is the version of the embedded cytoscape.js (npm
// package cytoscape, MIT licence; see assets/README.md).
const CytoscapeVersion = "3.35.0"

//go:embed assets/cytoscape.min.js
var cytoscapeJS string

//go:embed assets/page.html
var pageTemplate string
