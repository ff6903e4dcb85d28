module github.com/stepgraph/stepgraph

go 1.26.0

require (
	github.com/google/go-cmp v0.7.0 // indirect
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	github.com/hashicorp/go-retryablehttp v0.7.8 // indirect
	golang.org/x/sync v0.25.0 // indirect
	gopkg.in/dnaeon/go-vcr.v4 v4.0.8 // indirect
)
