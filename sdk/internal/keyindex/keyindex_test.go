package keyindex_test

import (
	"fmt"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/internal/keyindex"
)

func TestIndex(t *testing.T) {
	x := keyindex.New(true)
	for i := range 100000 {
		if _, dup := x.Insert(x.Hash(fmt.Sprint("key-", i)), uint64(i)); dup {
			t.Fatalf("false duplicate at %d", i)
		}
	}
	if x.Len() != 100000 {
		t.Fatalf("len %d", x.Len())
	}
	for i := range 100000 {
		v, ok := x.Get(x.Hash(fmt.Sprint("key-", i)))
		if !ok || v != uint64(i) {
			t.Fatalf("Get(%d) = %d %v", i, v, ok)
		}
	}
	if old, dup := x.Insert(x.Hash("key-5"), 99); !dup || old != 5 {
		t.Errorf("reinsert: %d %v", old, dup)
	}
	if _, ok := x.Get(x.Hash("absent")); ok {
		t.Error("absent key found")
	}
}
