package microbatch

import (
	"fmt"
	"math"
)

// PIDRateEstimator is Spark's PIDRateEstimator (mechanics.md 2.10): after
// each batch it estimates the ingestion rate (records/s) the job can
// sustain, from the batch's processing rate, the error against the previous
// estimate and the scheduling delay (the historical error). It is a pure,
// single-goroutine state machine.
type PIDRateEstimator struct {
	batchMillis                     int64
	proportional, integral, derived float64
	minRate                         float64

	firstRun    bool
	latestTime  int64
	latestRate  float64
	latestError float64
}

// NewPIDRateEstimator returns an estimator for batches of batchMillis ms.
// It rejects the inputs Spark's constructor rejects.
func NewPIDRateEstimator(batchMillis int64, proportional, integral, derived, minRate float64) (*PIDRateEstimator, error) {
	switch {
	case batchMillis <= 0:
		return nil, fmt.Errorf("microbatch: PID batch interval must be positive, got %d ms", batchMillis)
	case proportional < 0:
		return nil, fmt.Errorf("microbatch: PID proportional term must be non-negative, got %v", proportional)
	case integral < 0:
		return nil, fmt.Errorf("microbatch: PID integral term must be non-negative, got %v", integral)
	case derived < 0:
		return nil, fmt.Errorf("microbatch: PID derived term must be non-negative, got %v", derived)
	case minRate <= 0:
		return nil, fmt.Errorf("microbatch: PID minimum rate must be positive, got %v", minRate)
	}
	return &PIDRateEstimator{
		batchMillis: batchMillis, proportional: proportional, integral: integral, derived: derived, minRate: minRate,
		firstRun: true, latestTime: -1, latestRate: -1, latestError: -1,
	}, nil
}

// Compute takes a completed batch: timeMs is its processing end time (ms),
// elements its records, processingDelay and schedulingDelay in ms. It
// returns the new rate and true, or false when the batch does not qualify
// (not later than the previous one, no records or no processing time) or
// only seeds the estimator (the first qualifying batch).
func (e *PIDRateEstimator) Compute(timeMs int64, elements int64, processingDelay, schedulingDelay int64) (float64, bool) {
	if !(timeMs > e.latestTime && elements > 0 && processingDelay > 0) {
		return 0, false
	}
	delaySinceUpdate := float64(timeMs-e.latestTime) / 1000
	processingRate := float64(elements) / float64(processingDelay) * 1000
	err := e.latestRate - processingRate
	historicalError := float64(schedulingDelay) * processingRate / float64(e.batchMillis)
	dError := (err - e.latestError) / delaySinceUpdate
	newRate := math.Max(e.latestRate-e.proportional*err-e.integral*historicalError-e.derived*dError, e.minRate)
	e.latestTime = timeMs
	if e.firstRun {
		e.latestRate = processingRate
		e.latestError = 0
		e.firstRun = false
		return 0, false
	}
	e.latestRate = newRate
	e.latestError = err
	return newRate, true
}

// LatestRate is the last estimate, or -1 before the first.
func (e *PIDRateEstimator) LatestRate() float64 {
	if e.firstRun {
		return -1
	}
	return e.latestRate
}

// pidState is the estimator's state, for checkpoints.
type pidState struct {
	FirstRun                bool
	LatestTime              int64
	LatestRate, LatestError float64
}

func (e *PIDRateEstimator) state() pidState {
	return pidState{e.firstRun, e.latestTime, e.latestRate, e.latestError}
}

func (e *PIDRateEstimator) restore(s pidState) {
	e.firstRun, e.latestTime, e.latestRate, e.latestError = s.FirstRun, s.LatestTime, s.LatestRate, s.LatestError
}
