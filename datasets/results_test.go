package datasets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
)

func testResults() []dataflow.Result {
	return []dataflow.Result{
		{Window: dataflow.Window{Start: 0, End: 10000}, Key: "a", Value: dataflow.Int(3), Extra: []dataflow.Value{dataflow.Float(1.5), dataflow.Str("x,y")}},
		{Window: dataflow.Window{Start: 0, End: 10000}, Key: "b|c", Value: dataflow.Int(-4), Extra: []dataflow.Value{dataflow.Float(2), dataflow.Str(`q"uote`)}},
		{Window: dataflow.Window{}, Key: "", Value: dataflow.Int(0), Extra: []dataflow.Value{dataflow.Float(-0.25), dataflow.Str("")}},
	}
}

func TestResultsRoundTrip(t *testing.T) {
	extra := []string{"mean", "note"}
	for _, ext := range []string{".csv", ".jsonl", ".parquet"} {
		t.Run(ext, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out"+ext)
			require.NoError(t, WriteResults(path, extra, testResults()))
			gotExtra, got, err := ReadResults(path)
			require.NoError(t, err)
			assert.Equal(t, extra, gotExtra)
			want := testResults()
			if ext == ".csv" { // CSV reads 2 back as an int, strings stay strings
				want[1].Extra[0] = dataflow.Int(2)
			}
			assert.Equal(t, want, got)
		})
	}
}

func TestResultsCSVHeader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.csv")
	require.NoError(t, WriteResults(path, []string{"n"}, []dataflow.Result{{Window: dataflow.Window{Start: 10, End: 20}, Key: "k", Value: dataflow.Float(0.5), Extra: []dataflow.Value{dataflow.Int(7)}}}))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "window_start_ms,window_end_ms,key,value,n\n10,20,k,0.5,7\n", string(b))

	path = filepath.Join(t.TempDir(), "out.jsonl")
	require.NoError(t, WriteResults(path, nil, []dataflow.Result{{Key: "k", Value: dataflow.Float(2)}}))
	b, err = os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, `{"window_start_ms":0,"window_end_ms":0,"key":"k","value":2.0}`+"\n", string(b))
}

func TestResultsErrors(t *testing.T) {
	dir := t.TempDir()
	err := WriteResults(filepath.Join(dir, "out.txt"), nil, nil)
	assert.ErrorContains(t, err, `unknown extension ".txt"; use one of .csv, .jsonl, .parquet`)
	err = WriteResults(filepath.Join(dir, "out.csv"), []string{"a"}, []dataflow.Result{{Key: "k"}})
	assert.ErrorContains(t, err, "0 extra values for 1 extra columns")
	err = WriteResults(filepath.Join(dir, "out.parquet"), nil, []dataflow.Result{{Value: dataflow.Int(1)}, {Value: dataflow.Str("x")}})
	assert.ErrorContains(t, err, "a Parquet column has one type")
	// Empty results still make a valid file.
	require.NoError(t, WriteResults(filepath.Join(dir, "empty.parquet"), nil, nil))
	_, rs, err := ReadResults(filepath.Join(dir, "empty.parquet"))
	require.NoError(t, err)
	assert.Empty(t, rs)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.csv"), []byte("a,b\n"), 0o644))
	_, _, err = ReadResults(filepath.Join(dir, "bad.csv"))
	assert.True(t, strings.Contains(err.Error(), "no result header"))
}
