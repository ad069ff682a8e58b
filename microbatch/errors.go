package microbatch

import (
	"errors"
	"fmt"
	"time"
)

// ErrInjected is the cause of a batch failure injected by [Config.Failures].
var ErrInjected = errors.New("microbatch: injected batch failure")

// errDriverCrash stops one driver incarnation; Run restarts from the last
// checkpoint.
var errDriverCrash = errors.New("microbatch: injected driver crash")

// WindowError is Spark's rejection of a window whose duration or slide is
// not a multiple of its parent DStream's slide duration. Message is Spark's
// text, exactly (mechanics.md 2.4, 2.5).
type WindowError struct {
	Message string
}

func (e *WindowError) Error() string { return e.Message }

// sparkDuration renders a duration as Spark's Duration.toString does.
func sparkDuration(d time.Duration) string { return fmt.Sprintf("%d ms", d.Milliseconds()) }

// ValidateWindow applies the checks of Spark's WindowedDStream constructor
// to window(windowDuration, slideDuration) over a parent DStream whose slide
// duration is parentSlide (the batch interval for an input stream). It
// returns a *WindowError with Spark's message.
func ValidateWindow(windowDuration, slideDuration, parentSlide time.Duration) error {
	if !isMultipleOf(windowDuration, parentSlide) {
		return &WindowError{Message: "The window duration of windowed DStream (" + sparkDuration(windowDuration) +
			") must be a multiple of the slide duration of parent DStream (" + sparkDuration(parentSlide) + ")"}
	}
	if !isMultipleOf(slideDuration, parentSlide) {
		return &WindowError{Message: "The slide duration of windowed DStream (" + sparkDuration(slideDuration) +
			") must be a multiple of the slide duration of parent DStream (" + sparkDuration(parentSlide) + ")"}
	}
	return nil
}

// ValidateReducedWindow applies the require checks of Spark's
// ReducedWindowedDStream (reduceByKeyAndWindow with an inverse function).
func ValidateReducedWindow(windowDuration, slideDuration, parentSlide time.Duration) error {
	if !isMultipleOf(windowDuration, parentSlide) {
		return &WindowError{Message: "requirement failed: The window duration of ReducedWindowedDStream (" + sparkDuration(windowDuration) +
			") must be multiple of the slide duration of parent DStream (" + sparkDuration(parentSlide) + ")"}
	}
	if !isMultipleOf(slideDuration, parentSlide) {
		return &WindowError{Message: "requirement failed: The slide duration of ReducedWindowedDStream (" + sparkDuration(slideDuration) +
			") must be multiple of the slide duration of parent DStream (" + sparkDuration(parentSlide) + ")"}
	}
	return nil
}

// isMultipleOf is Spark's Duration.isMultipleOf: this.ms % that.ms == 0.
func isMultipleOf(d, of time.Duration) bool {
	o := of.Milliseconds()
	return o != 0 && d.Milliseconds()%o == 0
}

// MemoryBudgetError stops a run whose queued batches hold more data than
// [Config.MemoryBudget]: the lecture's out-of-memory end of a micro-batch
// job that cannot keep up, without harming the machine.
type MemoryBudgetError struct {
	// BatchTime is the batch being queued when the budget ran out.
	BatchTime time.Time
	// QueuedBatches is how many batches were waiting for a job.
	QueuedBatches int
	// BacklogRecords is how many records they held.
	BacklogRecords int64
	// HeldBytes and Budget are the data held and the budget, in bytes.
	HeldBytes, Budget int64
	// SchedulingDelay is the scheduling delay of the last batch started.
	SchedulingDelay time.Duration
}

func (e *MemoryBudgetError) Error() string {
	return fmt.Sprintf("microbatch: out of memory budget at batch %s: %d batches queued holding %d records in %d bytes (budget %d bytes), scheduling delay %v; processing is slower than the batch interval: enable backpressure, lengthen the batch interval or raise the budget",
		e.BatchTime.UTC().Format("15:04:05.000"), e.QueuedBatches, e.BacklogRecords, e.HeldBytes, e.Budget, e.SchedulingDelay)
}
