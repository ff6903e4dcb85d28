// Package graph defines the objects an integration emits — entities, direct
// relationships and mapped relationships — together with the naming
// conventions for their _key, _type and displayName, the data-model class
// schemas, and validation of an object against its classes.
//
// The package imports nothing else from stepgraph. Objects are plain structs
// with a fast, allocation-light JSON encoding (AppendJSON) that produces the
// JupiterOne wire format: reserved fields (_key, _type, _class, ...) first,
// then the flat properties in sorted order, so output is byte-stable for a
// given input.
//
// Properties are flat: each value is a string, a number, a bool, nil, or a
// slice of those. Nested objects belong in _rawData, which keeps the
// provider's source JSON under a unique name.
package graph
