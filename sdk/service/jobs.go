package service

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Job kinds and queues. Every integration has a collection queue of its
// own, so a worker only fetches collections it can run.
const (
	kindCollect  = "stepgraph_collect"
	kindSchedule = "stepgraph_schedule"
	kindAlert    = "stepgraph_alert"

	// queueControl holds the scheduling pass and alert deliveries.
	queueControl = "stepgraph_control"
)

// collectQueue is the queue of an integration's collections.
func collectQueue(integration string) string {
	var b strings.Builder
	b.WriteString("collect_")
	for _, r := range strings.ToLower(integration) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// CollectArgs is a collection job of one instance. Jobs are unique per
// instance among the states that are not final, so an instance has at
// most one collection waiting or running.
type CollectArgs struct {
	Instance string `json:"instance" river:"unique"`
}

// Kind implements river.JobArgs.
func (CollectArgs) Kind() string { return kindCollect }

// ScheduleArgs is the scheduling pass the leader enqueues periodically.
type ScheduleArgs struct{}

// Kind implements river.JobArgs.
func (ScheduleArgs) Kind() string { return kindSchedule }

// AlertArgs is the delivery of one fired alert event.
type AlertArgs struct {
	Event int64 `json:"event" river:"unique"`
}

// Kind implements river.JobArgs.
func (AlertArgs) Kind() string { return kindAlert }

// activeStates are the states in which a unique job blocks another.
var activeStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled,
}

// collectAttempts is how often a failed collection is tried (with River's
// exponential backoff) before it waits for the next scheduled run.
const collectAttempts = 4

func collectOpts(inst *Instance, at time.Time) *river.InsertOpts {
	return &river.InsertOpts{
		Queue:       collectQueue(inst.Integration),
		MaxAttempts: collectAttempts,
		ScheduledAt: at,
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: activeStates},
	}
}

// RunNowResult says what RunNow did.
type RunNowResult struct {
	// JobID is the collection job.
	JobID int64
	// Queued is true when a new job was queued; false when one was
	// already waiting (it was made available now) or running.
	Queued bool
	// Running is true when a collection of the instance runs right now
	// (nothing more was queued).
	Running bool
}

// RunNow enqueues a collection of the instance now (polling DISABLED or
// not). When a collection is already waiting it is made available now;
// when one is running, nothing more is queued.
func (s *Service) RunNow(ctx context.Context, name string) (RunNowResult, error) {
	inst, err := s.Instance(ctx, name)
	if err != nil {
		return RunNowResult{}, err
	}
	res, err := s.queue.Insert(ctx, CollectArgs{Instance: inst.Name}, collectOpts(inst, time.Time{}))
	if err != nil {
		return RunNowResult{}, fmt.Errorf("enqueue collection of %s: %w", name, err)
	}
	out := RunNowResult{JobID: res.Job.ID, Queued: !res.UniqueSkippedAsDuplicate, Running: res.Job.State == rivertype.JobStateRunning}
	if res.UniqueSkippedAsDuplicate && !out.Running {
		if _, err := s.queue.JobRetry(ctx, res.Job.ID); err != nil {
			return RunNowResult{}, fmt.Errorf("move collection of %s forward: %w", name, err)
		}
	}
	return out, nil
}
