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
// The class schemas transcribe JupiterOne's data model
// (@jupiterone/data-model, DataModelVersion): per class the required
// properties and the kind, enum, format, pattern and range of each property
// it defines, inherited along Extends (most classes extend Entity, which
// requires name and displayName). Schemas.ValidateEntity checks them and
// reports each broken rule as a *PropertyError (naming class, property,
// value and, for an enum, the allowed values) inside a *ValidationError.
//
// Properties are flat: each value is a string, a number, a bool, nil, or a
// slice of those. Nested objects belong in _rawData, which keeps the
// provider's source JSON under a unique name.
//
// Converting a provider's object is mostly declaration: the struct it is
// decoded into carries prop tags naming the property each field becomes
// (PropertyMap, SetProperties), free-form attributes decode into
// Attributes, and lookup tables are MatchTable rows; only what a tag
// cannot say stays code.
package graph
