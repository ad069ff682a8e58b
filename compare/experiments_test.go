package compare

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
)

func TestExperimentRegistry(t *testing.T) {
	claim := regexp.MustCompile(`^L\d+(\.\d+)?(/L\d+(\.\d+)?)*$`)
	seen := map[string]bool{}
	for _, e := range Experiments() {
		assert.False(t, seen[e.Name], "duplicate experiment %q", e.Name)
		seen[e.Name] = true
		assert.Regexp(t, claim, e.Claim, "%s names a lecture claim", e.Name)
		assert.NotEmpty(t, e.Statement, e.Name)
		assert.NotNil(t, e.run, e.Name)
		assert.NotEmpty(t, e.Published, "%s has published figures to compare with", e.Name)
	}
	for _, want := range []string{"superset", "acker-cost", "timeouts", "crash", "windows", "microbatch-backpressure", "latency", "snapshot-overhead", "time-domains"} {
		assert.True(t, seen[want], "experiment %s is missing", want)
	}
}

func TestLookupExperiments(t *testing.T) {
	all, err := LookupExperiments(nil)
	require.NoError(t, err)
	assert.Len(t, all, len(Experiments()))
	two, err := LookupExperiments([]string{"crash", "windows"})
	require.NoError(t, err)
	require.Len(t, two, 2)
	assert.Equal(t, "crash", two[0].Name)
	_, err = LookupExperiments([]string{"crash", "warp"})
	require.ErrorIs(t, err, ErrUnknownExperiment)
	assert.Contains(t, err.Error(), "use one of batch-vs-streaming, superset")
}

func TestTopNRecall(t *testing.T) {
	w := dataflow.Window{Start: 0, End: 10}
	exact := []dataflow.Result{{Window: w, Key: "ab", Value: dataflow.Str("x=3,y=2")}, {Window: w, Key: "cd", Value: dataflow.Str("z=1")}}
	approx := []dataflow.Result{{Window: w, Key: "ab", Value: dataflow.Str("x=4,q=2")}}
	assert.InDelta(t, 1.0/3, topNRecall(exact, approx), 1e-9)
	assert.InDelta(t, 1.0, topNRecall(exact, exact), 1e-9)
}

func TestCell(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{1234.56, "1235"}, {12.345, "12.35"}, {0.01234, "0.0123"}, {0.0, "0"}, {int64(7), "7"}, {true, "yes"}, {"x", "x"},
	} {
		assert.Equal(t, tc.want, cell(tc.in), "cell(%v)", tc.in)
	}
}
