package checkpoint

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=AbortReason,EventKind -linecomment -output=coordinator_string.go

// AbortReason says why a checkpoint was aborted.
type AbortReason uint8

// Abort reasons, after Flink's CheckpointFailureReason.
const (
	// AbortSubsumed: a newer checkpoint completed, or a newer barrier
	// arrived while this one was pending (CK4).
	AbortSubsumed AbortReason = iota + 1 // subsumed
	// AbortTimeout: not every task acknowledged within the timeout.
	AbortTimeout // timeout
	// AbortEndOfStream: an input ended while the checkpoint was pending.
	AbortEndOfStream // end-of-stream
	// AbortDeclined: a task could not snapshot (for example its write failed).
	AbortDeclined // declined
	// AbortCancelled: the coordinator cancelled it.
	AbortCancelled // cancelled
	// AbortRestart: the topology restarted from a checkpoint.
	AbortRestart // restart
	// AbortTooManyPending: the at-least-once tracker tracks at most
	// [MaxTrackedCheckpoints] pending checkpoints.
	AbortTooManyPending // too-many-pending
)

// CoordinatorConfig configures a [Coordinator]. Defaults are Flink's
// (execution.checkpointing.*).
type CoordinatorConfig struct {
	// Tasks are the tasks that must acknowledge every checkpoint. Required.
	Tasks []TaskID
	// Interval is the time between checkpoint triggers. Required (> 0).
	Interval time.Duration
	// Timeout aborts a checkpoint not acknowledged by every task within it.
	// Default 10 minutes.
	Timeout time.Duration
	// MaxConcurrent is how many checkpoints may be pending at once. Default 1.
	MaxConcurrent int
	// MinPause is the least time between the end of one checkpoint and the
	// trigger of the next. Default 0.
	MinPause time.Duration
	// LastID is the largest id already used (see [Store.MaxID]); new ids
	// start above it (CK1).
	LastID ID
}

// Validate reports a configuration the coordinator cannot use.
func (c *CoordinatorConfig) Validate() error {
	if len(c.Tasks) == 0 {
		return errors.New("checkpoint: CoordinatorConfig.Tasks is empty; list the tasks that acknowledge checkpoints")
	}
	if c.Interval <= 0 {
		return fmt.Errorf("checkpoint: checkpoint interval must be positive, got %v", c.Interval)
	}
	if c.Timeout < 0 || c.MinPause < 0 || c.MaxConcurrent < 0 {
		return errors.New("checkpoint: checkpoint timeout, min pause and max concurrent must not be negative")
	}
	seen := make(map[TaskID]bool, len(c.Tasks))
	for _, t := range c.Tasks {
		if seen[t] {
			return fmt.Errorf("checkpoint: %v listed twice in CoordinatorConfig.Tasks", t)
		}
		seen[t] = true
	}
	return nil
}

// EventKind names what a [Coordinator] asks its caller to do.
type EventKind uint8

// Coordinator events.
const (
	// EventTrigger: inject barrier ID at every spout (spouts snapshot their
	// offsets first).
	EventTrigger EventKind = iota + 1 // trigger
	// EventComplete: every task acknowledged ID. Write its marker with
	// [Store.Complete] (Files), then notify the sinks (notifyComplete).
	EventComplete // complete
	// EventAbort: checkpoint ID is aborted (Reason); delete its files with
	// [Store.Abort].
	EventAbort // abort
)

// Event is one instruction from the [Coordinator].
type Event struct {
	Kind EventKind
	ID   ID
	// Reason is set for EventAbort.
	Reason AbortReason
	// Files lists the task files, for EventComplete. Owned by the receiver.
	Files []TaskFile
	// Stats is set for EventComplete.
	Stats Stats
}

func (e Event) String() string {
	if e.Kind == EventAbort {
		return fmt.Sprintf("abort %v (%v)", e.ID, e.Reason)
	}
	return fmt.Sprintf("%v %v", e.Kind, e.ID)
}

// Stats describes a completed checkpoint.
type Stats struct {
	// Duration is from the trigger to the last acknowledgement.
	Duration time.Duration
	// Size is the total size of the task files in bytes.
	Size int64
	// MaxAlignment is the longest alignment among the tasks.
	MaxAlignment time.Duration
}

// Ack is one task's acknowledgement of a checkpoint: its state is durably
// written.
type Ack struct {
	Task TaskID
	// File is the task's written snapshot file.
	File TaskFile
	// Alignment is how long the task waited from the first to the last
	// barrier.
	Alignment time.Duration
}

type pendingCheckpoint struct {
	id    ID
	start time.Time
	acks  []Ack
	acked map[TaskID]bool
}

// Coordinator is the checkpoint coordinator's pure core (Flink's
// CheckpointCoordinator): it triggers numbered checkpoints every interval,
// collects acknowledgements, completes a checkpoint when every task has
// acknowledged it, lets a newer completed checkpoint subsume older pending
// ones (CK4) and aborts those that time out. It reads no clock: every call
// takes the current time. Events are appended to dst and returned.
//
// Coordinator is not safe for concurrent use; one goroutine owns it.
type Coordinator struct {
	cfg         CoordinatorConfig
	tasks       map[TaskID]bool
	last        ID        // last id triggered
	lastTrigger time.Time // time of the last trigger (or of the start)
	lastEnd     time.Time // when the last checkpoint completed or aborted
	pending     []*pendingCheckpoint
	completed   ID
	stopped     bool
	counts      CoordinatorCounts
}

// CoordinatorCounts are the coordinator's counters.
type CoordinatorCounts struct {
	Triggered, Completed, Aborted int64
}

// NewCoordinator returns a coordinator whose first checkpoint triggers one
// interval after now.
func NewCoordinator(cfg CoordinatorConfig, now time.Time) (*Coordinator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Minute
	}
	if cfg.MaxConcurrent == 0 {
		cfg.MaxConcurrent = 1
	}
	cfg.Tasks = slices.Clone(cfg.Tasks)
	c := &Coordinator{cfg: cfg, tasks: make(map[TaskID]bool, len(cfg.Tasks)), last: cfg.LastID, lastTrigger: now}
	for _, t := range cfg.Tasks {
		c.tasks[t] = true
	}
	return c, nil
}

// Tick aborts checkpoints past their timeout and triggers the next
// checkpoint when its time has come, there is room for it (MaxConcurrent)
// and MinPause has passed since the last one ended.
func (c *Coordinator) Tick(now time.Time, dst []Event) []Event {
	for i := 0; i < len(c.pending); {
		p := c.pending[i]
		if now.Sub(p.start) >= c.cfg.Timeout {
			dst = c.abort(i, AbortTimeout, now, dst)
			continue
		}
		i++
	}
	if c.stopped || len(c.pending) >= c.cfg.MaxConcurrent || now.Sub(c.lastTrigger) < c.cfg.Interval {
		return dst
	}
	if !c.lastEnd.IsZero() && now.Sub(c.lastEnd) < c.cfg.MinPause {
		return dst
	}
	return c.trigger(now, dst)
}

// TriggerNow triggers a checkpoint at once if there is room for one,
// regardless of the interval.
func (c *Coordinator) TriggerNow(now time.Time, dst []Event) []Event {
	if c.stopped || len(c.pending) >= c.cfg.MaxConcurrent {
		return dst
	}
	return c.trigger(now, dst)
}

func (c *Coordinator) trigger(now time.Time, dst []Event) []Event {
	c.last++
	c.lastTrigger = now
	c.counts.Triggered++
	c.pending = append(c.pending, &pendingCheckpoint{id: c.last, start: now, acked: make(map[TaskID]bool, len(c.cfg.Tasks))})
	return append(dst, Event{Kind: EventTrigger, ID: c.last})
}

// NextTick returns when Tick next has something to do: the next trigger or
// the earliest timeout.
func (c *Coordinator) NextTick() time.Time {
	t := c.lastTrigger.Add(c.cfg.Interval)
	if !c.lastEnd.IsZero() {
		if p := c.lastEnd.Add(c.cfg.MinPause); p.After(t) {
			t = p
		}
	}
	for _, p := range c.pending {
		if d := p.start.Add(c.cfg.Timeout); d.Before(t) {
			t = d
		}
	}
	return t
}

// Ack records a task's acknowledgement of checkpoint id. Acks for
// checkpoints that are no longer pending (aborted, subsumed) are ignored, as
// are repeated acks. When every task has acknowledged, Ack emits
// EventComplete, and EventAbort for every older pending checkpoint (CK4). An
// ack from a task not in the configuration is an error.
func (c *Coordinator) Ack(id ID, a Ack, now time.Time, dst []Event) ([]Event, error) {
	if !c.tasks[a.Task] {
		return dst, fmt.Errorf("checkpoint: ack of %v from %v, which is not a task of this topology", id, a.Task)
	}
	i := c.find(id)
	if i < 0 {
		return dst, nil
	}
	p := c.pending[i]
	if p.acked[a.Task] {
		return dst, nil
	}
	if a.File.Task != a.Task {
		a.File.Task = a.Task
	}
	p.acked[a.Task] = true
	p.acks = append(p.acks, a)
	if len(p.acks) < len(c.cfg.Tasks) {
		return dst, nil
	}
	ev := Event{Kind: EventComplete, ID: id, Files: make([]TaskFile, len(p.acks)), Stats: Stats{Duration: now.Sub(p.start)}}
	for j, a := range p.acks {
		ev.Files[j] = a.File
		ev.Stats.Size += a.File.Size
		ev.Stats.MaxAlignment = max(ev.Stats.MaxAlignment, a.Alignment)
	}
	slices.SortFunc(ev.Files, func(a, b TaskFile) int { return int(a.Task) - int(b.Task) })
	c.pending = slices.Delete(c.pending, i, i+1)
	c.completed = id
	c.lastEnd = now
	c.counts.Completed++
	dst = append(dst, ev)
	for j := 0; j < len(c.pending); {
		if c.pending[j].id < id {
			dst = c.abort(j, AbortSubsumed, now, dst)
			continue
		}
		j++
	}
	return dst, nil
}

// Decline aborts checkpoint id because a task could not take part (reason).
// It does nothing if id is not pending.
func (c *Coordinator) Decline(id ID, reason AbortReason, now time.Time, dst []Event) []Event {
	if i := c.find(id); i >= 0 {
		dst = c.abort(i, reason, now, dst)
	}
	return dst
}

// Restart aborts every pending checkpoint (AbortRestart) and restarts the
// trigger interval at now: the topology is restarting from a checkpoint.
// Ids keep increasing (CK1).
func (c *Coordinator) Restart(now time.Time, dst []Event) []Event {
	for len(c.pending) > 0 {
		dst = c.abort(0, AbortRestart, now, dst)
	}
	c.lastTrigger = now
	c.stopped = false
	return dst
}

// Stop stops triggering checkpoints (pending ones may still complete): the
// input is ending and finished tasks cannot acknowledge.
func (c *Coordinator) Stop() { c.stopped = true }

func (c *Coordinator) abort(i int, r AbortReason, now time.Time, dst []Event) []Event {
	id := c.pending[i].id
	c.pending = slices.Delete(c.pending, i, i+1)
	c.lastEnd = now
	c.counts.Aborted++
	return append(dst, Event{Kind: EventAbort, ID: id, Reason: r})
}

func (c *Coordinator) find(id ID) int {
	for i, p := range c.pending {
		if p.id == id {
			return i
		}
	}
	return -1
}

// Pending returns the ids of the pending checkpoints, oldest first.
func (c *Coordinator) Pending() []ID {
	ids := make([]ID, len(c.pending))
	for i, p := range c.pending {
		ids[i] = p.id
	}
	return ids
}

// LatestCompleted returns the id of the newest completed checkpoint (0 if
// none).
func (c *Coordinator) LatestCompleted() ID { return c.completed }

// Counts returns the coordinator's counters.
func (c *Coordinator) Counts() CoordinatorCounts { return c.counts }
