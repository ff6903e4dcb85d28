//go:build race

package main

// raceEnabled: the race detector slows the 10,000-user collection of
// TestVisualizeInBrowser tenfold; .ci/run runs that case without it.
const raceEnabled = true
