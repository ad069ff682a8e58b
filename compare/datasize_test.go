package compare

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/datasets"
)

// TestDataSpecRefusesOverflow: values that overflow the pacer or exhaust
// memory are refused by Validate, naming the field and the valid range.
func TestDataSpecRefusesOverflow(t *testing.T) {
	for _, tc := range []struct {
		name  string
		d     DataSpec
		field string // "" means valid
		want  string
	}{
		{"fastest rate", DataSpec{Rate: 1e9}, "", ""},
		{"a slow rate", DataSpec{Rate: 0.001}, "", ""},
		{"rate 1e30", DataSpec{Rate: 1e30}, "DataSpec.Rate", "between 1.08e-10 and 1e+09"},
		{"rate Inf", DataSpec{Rate: math.Inf(1)}, "DataSpec.Rate", "got +Inf"},
		{"rate NaN", DataSpec{Rate: math.NaN()}, "DataSpec.Rate", "got NaN"},
		{"rate below one a century", DataSpec{Rate: 1e-12}, "DataSpec.Rate", "between"},
		{"event rate Inf", DataSpec{EventRate: math.Inf(1)}, "DataSpec.EventRate", "finite"},
		{"event rate NaN", DataSpec{EventRate: math.NaN()}, "DataSpec.EventRate", "finite"},
		{"a step to 1e30", DataSpec{Rate: 10, Steps: []datasets.RateStep{{After: time.Second, Rate: 1e30}}}, "DataSpec.Steps", "between"},
		{"a step to NaN", DataSpec{Rate: 10, Steps: []datasets.RateStep{{After: time.Second, Rate: math.NaN()}}}, "DataSpec.Steps", "between"},
		{"a step", DataSpec{Rate: 10, Steps: []datasets.RateStep{{After: time.Second, Rate: 1e9}}}, "", ""},
		{"most partitions", DataSpec{Partitions: 1024}, "", ""},
		{"too many partitions", DataSpec{Partitions: 100_000_000}, "DataSpec.Partitions", "want 1 to 1024 partitions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.d.Validate()
			if tc.field == "" {
				assert.NoError(t, err, "Validate(%+v)", tc.d)
				return
			}
			fe, ok := errors.AsType[*FieldError](err)
			require.True(t, ok, "Validate(%+v) = %v, want a *FieldError", tc.d, err)
			assert.Equal(t, tc.field, fe.Field, "Validate(%+v)", tc.d)
			assert.ErrorContains(t, err, tc.want, "Validate(%+v)", tc.d)
			assert.NotContains(t, err.Error(), "--", "Validate(%+v) names a field, not a flag", tc.d)
		})
	}
}

// TestCheckData: the timeline of event time and the log's memory are
// computed from the workload's data before anything is generated.
func TestCheckData(t *testing.T) {
	w := ysb(t)
	const gib = 1 << 30
	for _, tc := range []struct {
		name  string
		w     *Workload
		d     DataSpec
		limit int64
		field string // "" means accepted
		want  string
	}{
		{"the default", w, DataSpec{}, 8 * gib, "", ""},
		{"a million events", w, DataSpec{Events: 1_000_000}, 8 * gib, "", ""},
		{"10^15 events", w, DataSpec{Events: 1e15}, 8 * gib, "DataSpec.Events", "use at most about"},
		{"10^15 events: sealed bytes", w, DataSpec{Events: 1e15}, 8 * gib, "DataSpec.Events", "bytes an event in its sealed chunks, measured on a sample"},
		{"10^8 events fit in 8 GiB sealed", w, DataSpec{Events: 1e8}, 8 * gib, "", ""},
		{"10^8 events do not fit in 1 GiB", w, DataSpec{Events: 1e8}, 1 * gib, "DataSpec.Events", "use at most about"},
		{"10^15 events, memory unknown", w, DataSpec{Events: 1e15}, 0, "DataSpec.EventRate", "or fewer events"},
		{"10^12 events, memory unknown", w, DataSpec{Events: 1e12}, 0, "", ""},
		{"event rate 1e-300", w, DataSpec{EventRate: 1e-300}, 8 * gib, "DataSpec.EventRate", "use an event rate of at least"},
		{"paced at one event a year", w, DataSpec{Rate: 1.0 / (365 * 24 * 3600), Events: 1000}, 8 * gib, "DataSpec.Rate", "292 years"},
		{"paced, event rate set", w, DataSpec{Rate: 10, EventRate: 1e-300}, 8 * gib, "DataSpec.EventRate", "event rate"},
		{"partitions' chunks", w, DataSpec{Events: 100_000, Partitions: 1024}, 1 * gib, "DataSpec.Partitions", "use at most"},
		{"input files are not checked", w, DataSpec{Events: 1e15, InputDir: filepath.Join(t.TempDir(), "x")}, 8 * gib, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkData(tc.w, tc.d, tc.limit)
			if tc.field == "" {
				assert.NoError(t, err, "checkData(%+v, %d)", tc.d, tc.limit)
				return
			}
			fe, ok := errors.AsType[*FieldError](err)
			require.True(t, ok, "checkData(%+v, %d) = %v, want a *FieldError", tc.d, tc.limit, err)
			assert.Equal(t, tc.field, fe.Field, "checkData(%+v): %v", tc.d, err)
			assert.ErrorContains(t, err, tc.want, "checkData(%+v)", tc.d)
			assert.NotContains(t, err.Error(), "--", "checkData(%+v) names a field, not a flag", tc.d)
		})
	}
}

// TestRunOneRefusesOverflowBeforeWork: RunOne refuses what would hang or
// exhaust memory with an InputError before it generates anything (the
// runner is never called).
func TestRunOneRefusesOverflowBeforeWork(t *testing.T) {
	for _, tc := range []struct {
		d     DataSpec
		opts  Options
		field string
	}{
		{DataSpec{Events: 1e15}, Options{}, "DataSpec.Events"},
		{DataSpec{EventRate: 1e-300}, Options{}, "DataSpec.EventRate"},
		{DataSpec{Rate: 1e30}, Options{}, "DataSpec.Rate"},
		{DataSpec{Events: 100, Rate: 1e30}, Options{}, "DataSpec.Rate"},
		{DataSpec{Events: 100}, Options{DropAcks: 1}, "Options.DropAcks"},
		{DataSpec{Events: 100}, Options{DropAcks: math.NaN()}, "Options.DropAcks"},
	} {
		if tc.d.Events == 1e15 && memoryLimit() == 0 {
			continue // no memory limit known here: nothing to check against
		}
		r := fakeRunner{err: errors.New("the runner must not run")}
		_, err := RunOne(t.Context(), ysb(t), r, tc.d, tc.opts, nil)
		in, ok := errors.AsType[*InputError](err)
		require.True(t, ok, "RunOne(%+v, %+v) = %v, want an InputError", tc.d, tc.opts, err)
		fe, ok := errors.AsType[*FieldError](in)
		require.True(t, ok, "RunOne(%+v, %+v) = %v, want a FieldError", tc.d, tc.opts, err)
		assert.Equal(t, tc.field, fe.Field, "RunOne(%+v, %+v)", tc.d, tc.opts)
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		o     Options
		field string // "" means valid
	}{
		{Options{}, ""},
		{Options{DropAcks: 0.99, Slow: time.Millisecond, CrashAfter: []int64{1, 5}}, ""},
		{Options{DropAcks: 1}, "Options.DropAcks"},
		{Options{DropAcks: -0.1}, "Options.DropAcks"},
		{Options{DropAcks: math.NaN()}, "Options.DropAcks"},
		{Options{DropAcks: math.Inf(1)}, "Options.DropAcks"},
		{Options{Slow: -1}, "Options.Slow"},
		{Options{CrashAfter: []int64{3, 0}}, "Options.CrashAfter"},
	} {
		err := tc.o.Validate()
		if tc.field == "" {
			assert.NoError(t, err, "Validate(%+v)", tc.o)
			continue
		}
		fe, ok := errors.AsType[*FieldError](err)
		require.True(t, ok, "Validate(%+v) = %v, want a *FieldError", tc.o, err)
		assert.Equal(t, tc.field, fe.Field, "Validate(%+v)", tc.o)
	}
}

func TestMemTotal(t *testing.T) {
	const meminfo = "MemTotal:       24000000 kB\nMemFree:        20000000 kB\n"
	assert.Equal(t, int64(24000000)<<10, memTotal(strings.NewReader(meminfo)))
	assert.Zero(t, memTotal(strings.NewReader("nothing here\n")))
	assert.GreaterOrEqual(t, memoryLimit(), int64(0))
}
