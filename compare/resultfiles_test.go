package compare

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/weirlab/weir/internal/metrics"
)

func TestTidyFilesRoundTrip(t *testing.T) {
	trials := []TrialRecord{
		{Experiment: "windows", Label: "a", Workload: "ysb", Config: "microbatch/event-time 2s", Flags: `{"mode":"event-time"}`, Rate: 2000,
			Status: "ok", Events: 4000, EventsPerSecond: 1999.5, EventTimeP50Ms: 948.5, EventTimeP99Ms: 1440, Exact: true, Windows: 598, Check: "yes (598/598 windows)"},
		{Experiment: "windows", Label: "a", Workload: "ysb", Config: "microbatch/event-time 2s", Repetition: 1, Status: "error: boom", Lost: 3, Duplicated: 1, Late: 2},
	}
	r := &SuiteResults{Command: "bench suite", CPU: "test cpu", Cores: 2, GoVersion: "go1.x", Commit: "abc",
		Experiments: []*ExperimentResult{{Name: "windows", Trials: trials, Series: []Series{{Name: "coupling", Lines: []Line{
			{Label: "cadence", Points: metrics.Series{{T: 500, V: 1000}, {T: 2000, V: 2000}}}}}}}}}
	dir := t.TempDir()
	require.NoError(t, WriteSuiteResults(dir, r))

	got, err := ReadTrials(dir)
	require.NoError(t, err)
	assert.Equal(t, trials, got)
	samples, err := ReadSamples(dir)
	require.NoError(t, err)
	assert.Equal(t, []SampleRecord{{"windows", "coupling", "cadence", 500, 1000}, {"windows", "coupling", "cadence", 2000, 2000}}, samples)
	for _, f := range []string{TrialsParquet, SamplesParquet} {
		meta, err := ReadParquetMetadata(filepath.Join(dir, f))
		require.NoError(t, err)
		assert.Equal(t, "test cpu", meta["cpu"], f)
		assert.Equal(t, "abc", meta["commit"], f)
		assert.Equal(t, "2", meta["cores"], f)
	}

	rows := readCSV(t, filepath.Join(dir, TrialsCSV))
	require.Len(t, rows, 3)
	assert.Equal(t, []string{"experiment", "label", "workload", "config", "flags", "rate", "repetition", "status"}, rows[0][:8])
	assert.Equal(t, "948.5", rows[1][slices.Index(rows[0], "event_time_p50_ms")])
	assert.Equal(t, "true", rows[1][slices.Index(rows[0], "exact")])
	assert.Equal(t, "error: boom", rows[2][slices.Index(rows[0], "status")])
	assert.Equal(t, "1", rows[2][slices.Index(rows[0], "repetition")])
	assert.Equal(t, [][]string{{"experiment", "series", "line", "x", "y"}, {"windows", "coupling", "cadence", "500", "1000"}, {"windows", "coupling", "cadence", "2000", "2000"}},
		readCSV(t, filepath.Join(dir, SamplesCSV)))
	m := readCSV(t, filepath.Join(dir, MachineCSV))
	assert.Contains(t, m, []string{"cpu", "test cpu"})
	assert.Contains(t, m, []string{"go_version", "go1.x"})
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	return rows
}

// TestRecorderCountsRepetitions checks that the engine's recorder numbers
// the repetitions of a trial and records the failure of one whose runtime
// does not exist (no run starts).
func TestRecorderCountsRepetitions(t *testing.T) {
	rec := &trialRecorder{experiment: "x"}
	ctx := withRecorder(context.Background(), rec)
	tr := trial{workload: mustWorkload("ysb"), runtime: "warp-drive", label: "l"}
	for range 2 {
		_, err := tr.do(ctx, nil)
		require.Error(t, err)
	}
	got := rec.take()
	require.Len(t, got, 2)
	assert.Equal(t, "x", got[0].Experiment)
	assert.Equal(t, "l", got[0].Label)
	assert.Equal(t, 0, got[0].Repetition)
	assert.Equal(t, 1, got[1].Repetition)
	assert.Contains(t, got[1].Status, "error")
}

// TestRecorderRecordsRunsOutsideTrials: a run an experiment makes through
// RunOne without a trial (a suite, a capacity probe) is recorded too, under
// its workload and runner.
func TestRecorderRecordsRunsOutsideTrials(t *testing.T) {
	rec := &trialRecorder{experiment: "x"}
	ctx := withRecorder(t.Context(), rec)
	r, err := NewRunner("reference", RuntimeFlags{})
	require.NoError(t, err)
	_, err = RunOne(ctx, mustWorkload("grep"), r, DataSpec{Events: 2000, Seed: 1}, Options{Seed: 1}, nil)
	require.NoError(t, err)
	got := rec.take()
	require.Len(t, got, 1)
	assert.Equal(t, "grep", got[0].Label)
	assert.Equal(t, "reference", got[0].Config)
	assert.Equal(t, "ok", got[0].Status)
	assert.True(t, got[0].Exact)
	assert.EqualValues(t, 2000, got[0].Events)
}
