package integration

import (
	"context"
	"iter"

	"github.com/stepgraph/stepgraph/sdk/graph"
)

// EmitPages is the body of a listing step: for each page of pages (a
// listing as httpclient.PageItems yields it) it calls EmitItems. It
// returns the listing's error, or the first error of convert or of an
// emission; the pages before it stay emitted.
func EmitPages[T any](ctx context.Context, js JobState, name string, pages iter.Seq2[[]T, error],
	convert func(item *T) (*graph.Entity, []*graph.Relationship, error)) error {
	for items, err := range pages {
		if err != nil {
			return err
		}
		if err := EmitItems(ctx, js, name, items, convert); err != nil {
			return err
		}
	}
	return nil
}

// EmitItems calls convert for every item, in order, and emits the
// entities and relationships it returns together (JobState.Emit, so an
// object listed twice is emitted once), counting the entities under name
// for progress displays unless name is "". convert returns the item's
// entity, or nil to leave the item out (no id, a duplicate whose data the
// step must not count twice), and the relationships it adds (the account
// HAS it, its links to entities already collected).
func EmitItems[T any](ctx context.Context, js JobState, name string, items []T,
	convert func(item *T) (*graph.Entity, []*graph.Relationship, error)) error {
	es := make([]*graph.Entity, 0, len(items))
	rs := make([]*graph.Relationship, 0, len(items))
	for i := range items {
		e, r, err := convert(&items[i])
		if err != nil {
			return err
		}
		if e != nil {
			es = append(es, e)
		}
		rs = append(rs, r...)
	}
	if name != "" {
		js.Progress(name, int64(len(es)))
	}
	return js.Emit(ctx, es, rs)
}
