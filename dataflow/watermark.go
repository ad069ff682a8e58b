package dataflow

import (
	"strconv"

	"github.com/weirlab/weir/internal/invariants"
)

// WatermarkTracker derives an operator's event-time watermark from several
// inputs (the partitions of the log, or the upstream tasks of a bolt), as I4
// says: an input's watermark is the largest event time it has delivered minus
// the policy's MaxOutOfOrderness, or the largest watermark message it has
// received; the tracker's watermark is the minimum over the inputs that are
// not idle, and it never decreases (DW1).
//
// The tracker follows I4's convention, W = max event time - d, which differs
// by one from Flink's BoundedOutOfOrderness (max - d - 1): a watermark W
// promises no more records with event time < W (Beam's reading), and a window
// [s, e) is complete when W >= e.
//
// # Invariant
//
//   - DW1 [WatermarkTracker.Current] never decreases, whatever the inputs do:
//     a watermark message below an input's watermark, an input coming back
//     from idleness behind the others, or a record on an input that has
//     finished.
//
// # Idleness
//
// With a positive IdleTimeout, an input that has had neither a record nor a
// watermark message for that long in processing time is idle and left out of
// the minimum until it sees data again (Flink's withIdleness). An input that
// has never had data counts as active since the tracker first saw a
// processing time, so a partition that never delivers anything stops holding
// the watermark back after IdleTimeout. When every unfinished input is idle,
// the watermark holds at its last value.
//
// # Finished inputs
//
// [WatermarkTracker.Finish] marks an input that has reached the end of its
// bounded input: it counts as [MaxTime] and is never idle. Once every input
// has finished the watermark is MaxTime, which fires every window.
//
// WatermarkTracker is a single-goroutine state machine: it is not safe for
// concurrent use, reads no clock (processing time comes in as nowMs) and does
// not allocate after [NewWatermarkTracker]. Input numbers out of range are a
// programmer error and panic.
type WatermarkTracker struct {
	delay   Time // MaxOutOfOrderness in ms
	idle    Time // IdleTimeout in ms; 0: inputs never go idle
	inputs  []inputWatermark
	current Time // the last value Current returned; DW1: never decreases
	// started is set once the tracker has seen a processing time; start is
	// that time, from which inputs without data count their idleness.
	started bool
	start   Time
}

// inputWatermark is the state of one input.
type inputWatermark struct {
	wm       Time // the input's watermark; MinTime until it has data
	hasData  bool // it has delivered a record or a watermark message
	finished bool
	active   Time // processing time (ms) of its last record or watermark message
}

// NewWatermarkTracker returns a tracker over the given number of inputs
// (at least one; fewer is treated as one) with the policy's bound of
// out-of-orderness and idle timeout. Negative durations count as zero;
// [Pipeline.Validate] rejects them earlier.
func NewWatermarkTracker(inputs int, policy WatermarkPolicy) *WatermarkTracker {
	inputs = max(inputs, 1)
	t := &WatermarkTracker{
		delay:   Time(max(Millis(policy.MaxOutOfOrderness), 0)),
		idle:    Time(max(Millis(policy.IdleTimeout), 0)),
		inputs:  make([]inputWatermark, inputs),
		current: MinTime,
	}
	for i := range t.inputs {
		t.inputs[i].wm = MinTime
	}
	return t
}

// Inputs returns the number of inputs.
func (t *WatermarkTracker) Inputs() int { return len(t.inputs) }

// Observe records that input delivered a record with the given event time at
// processing time nowMs (ms). The input's watermark becomes the largest event
// time it has delivered minus MaxOutOfOrderness (it never goes back). It does
// not allocate.
func (t *WatermarkTracker) Observe(input int, eventTime, nowMs Time) {
	in := t.input(input)
	t.touch(nowMs)
	in.hasData = true
	in.active = nowMs
	old := in.wm
	if w := subSat(eventTime, t.delay); w > in.wm {
		in.wm = w
	}
	if invariants.Enabled && (in.wm < old || in.wm < subSat(eventTime, t.delay)) {
		invariants.Assertf(false, "DW1: input %d watermark %d after %d and event time %d - delay %d", input, in.wm, old, eventTime, t.delay)
	}
}

// Advance records a watermark message w from input (an upstream operator's
// watermark, or a source's own) at processing time nowMs. A message below the
// input's current watermark is ignored, so an input's watermark never
// decreases.
func (t *WatermarkTracker) Advance(input int, w, nowMs Time) {
	in := t.input(input)
	t.touch(nowMs)
	in.hasData = true
	in.active = nowMs
	old := in.wm
	if w > in.wm {
		in.wm = w
	}
	if invariants.Enabled && (in.wm < old || in.wm < w) {
		invariants.Assertf(false, "DW1: input %d watermark %d after %d and the message %d", input, in.wm, old, w)
	}
}

// Finish marks input as having reached the end of its bounded input: from
// now on it counts as [MaxTime] and is never idle.
func (t *WatermarkTracker) Finish(input int) {
	in := t.input(input)
	in.finished = true
	in.hasData = true
	in.wm = MaxTime
}

// Current returns the watermark at processing time nowMs: the minimum of the
// watermarks of the inputs that are not idle, or [MinTime] while one of them
// has no data yet. It never decreases (DW1): when every unfinished input is
// idle, or the minimum would go back (an input that was idle becomes active
// again behind the others), the previous value holds.
func (t *WatermarkTracker) Current(nowMs Time) Time {
	t.touch(nowMs)
	prev := t.current
	m := MaxTime
	open, active := 0, 0
	for i := range t.inputs {
		in := &t.inputs[i]
		if in.finished {
			continue // its MaxTime bounds nothing
		}
		open++
		if t.isIdle(in, nowMs) {
			continue
		}
		active++
		if !in.hasData {
			m = MinTime
			break
		}
		m = min(m, in.wm)
	}
	// Finished inputs alone do not move the watermark while an unfinished
	// one is idle: it may still deliver, so the end of the input (MaxTime)
	// comes only when every input has finished.
	if (active > 0 || open == 0) && m > t.current {
		t.current = m
	}
	if invariants.Enabled {
		t.checkCurrent(prev)
	}
	return t.current
}

// checkCurrent asserts DW1 after Current: the combined watermark did not go
// back from prev, and it is no higher than the highest input watermark (it
// was once the minimum of inputs whose watermarks only rise).
func (t *WatermarkTracker) checkCurrent(prev Time) {
	if t.current < prev {
		invariants.Assertf(false, "DW1: watermark went back from %d to %d", prev, t.current)
	}
	if t.current == MinTime {
		return
	}
	top := MinTime
	for i := range t.inputs {
		top = max(top, t.inputs[i].wm)
	}
	if t.current > top {
		invariants.Assertf(false, "DW1: watermark %d above every input's (highest %d)", t.current, top)
	}
}

// Idle reports whether input is idle at processing time nowMs.
func (t *WatermarkTracker) Idle(input int, nowMs Time) bool {
	return t.isIdle(t.input(input), nowMs)
}

// InputWatermark returns input's own watermark: [MinTime] before it has data,
// [MaxTime] once it has finished.
func (t *WatermarkTracker) InputWatermark(input int) Time { return t.input(input).wm }

func (t *WatermarkTracker) isIdle(in *inputWatermark, nowMs Time) bool {
	if t.idle <= 0 || in.finished {
		return false
	}
	since := in.active
	if !in.hasData {
		if !t.started {
			return false
		}
		since = t.start
	}
	return nowMs-since >= t.idle
}

// touch remembers the first processing time the tracker sees, from which
// inputs that never had data count their idleness.
func (t *WatermarkTracker) touch(nowMs Time) {
	if !t.started {
		t.started = true
		t.start = nowMs
	}
}

func (t *WatermarkTracker) input(i int) *inputWatermark {
	if i < 0 || i >= len(t.inputs) {
		panic("dataflow: watermark tracker has " + strconv.Itoa(len(t.inputs)) + " inputs, no input " + strconv.Itoa(i))
	}
	return &t.inputs[i]
}

// subSat returns t - d for d >= 0, saturating at MinTime.
func subSat(t, d Time) Time {
	if t < MinTime+d {
		return MinTime
	}
	return t - d
}

// addSat returns t + d for d >= 0, saturating at MaxTime.
func addSat(t, d Time) Time {
	if t > MaxTime-d {
		return MaxTime
	}
	return t + d
}
