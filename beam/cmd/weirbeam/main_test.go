package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/cmd/bench/cliflags"
	"github.com/weirlab/weir/datasets"
)

func TestMain(m *testing.M) {
	beam.Init()
	os.Exit(m.Run())
}

func TestRunWritesResultsAndSummary(t *testing.T) {
	dir := t.TempDir()
	out, sum := filepath.Join(dir, "ysb.csv"), filepath.Join(dir, "ysb.json")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"run", "ysb", "--runner", "prism", "--events", "20000", "--out", out, "--summary", sum}, &stdout, &stderr)
	require.Equal(t, cliflags.ExitOK, code, "stderr: %s", stderr.String())
	assert.Contains(t, stdout.String(), "matches reference: yes")
	_, rs, err := datasets.ReadResults(out)
	require.NoError(t, err)
	assert.NotEmpty(t, rs)
	b, err := os.ReadFile(sum)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"events_per_second"`)
}

// TestRefusalExit3 wants exit 3 and Beam's reason for a pipeline Beam
// cannot express as weir defines it (I5 across sliding windows under the
// log's watermark), and exit 2 for a bad runner configuration.
func TestRefusalExit3(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"run", "ysb", "--runner", "universal"}, &stdout, &stderr)
	assert.Equal(t, cliflags.ExitUsage, code, "universal without an endpoint is a usage error")
	assert.Contains(t, stderr.String(), "endpoint")

	stderr.Reset()
	code = run(context.Background(), []string{"run", "iot-sliding", "--events", "1000", "--log-watermark", "--lateness", "1s"}, &stdout, &stderr)
	assert.Equal(t, cliflags.ExitUnsupported, code, "stderr: %s", stderr.String())
	assert.Contains(t, stderr.String(), "beam cannot express this pipeline: sliding windows under the log's watermark")
}

func TestCheckTable(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"check", "--events", "5000"}, &stdout, &stderr)
	require.Equal(t, cliflags.ExitOK, code, "stdout: %s\nstderr: %s", stdout.String(), stderr.String())
	for _, w := range []string{"ysb", "sessions", "iot-sliding", "count-window", "fraud"} {
		assert.Regexp(t, "(?m)^"+w+" +beam/prism .* matches$", stdout.String())
	}
}
