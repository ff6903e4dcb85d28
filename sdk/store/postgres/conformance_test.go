package postgres

import (
	"context"
	"fmt"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/store"
	"github.com/stepgraph/stepgraph/sdk/store/storetest"
)

// TestStoreConformance runs the store conformance suite against the
// PostgreSQL sink, one instance per subtest.
func TestStoreConformance(t *testing.T) {
	db := testDB(t, Options{})
	n := 0
	storetest.Run(t, func(t *testing.T) store.Store {
		n++
		st, err := NewStore(context.Background(), db, Instance{Integration: "storetest", Name: fmt.Sprint("i", n)}, StoreOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return st
	})
}
