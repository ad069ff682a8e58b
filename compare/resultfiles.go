package compare

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"

	"github.com/weirlab/weir/datasets"
)

// The suite's tidy result files, beside results.json: one row per trial run
// and one row per figure point, as CSV and Parquet, and the machine they
// ran on (machine.csv, and the key-value metadata of each Parquet file).
const (
	TrialsCSV      = "trials.csv"
	TrialsParquet  = "trials.parquet"
	SamplesCSV     = "samples.csv"
	SamplesParquet = "samples.parquet"
	MachineCSV     = "machine.csv"
)

// SampleRecord is one point of one line of an experiment's figure
// ([Series]): x and y as the figure plots them.
type SampleRecord struct {
	Experiment string  `json:"experiment" parquet:"experiment"`
	Series     string  `json:"series" parquet:"series"`
	Line       string  `json:"line" parquet:"line"`
	X          float64 `json:"x" parquet:"x"`
	Y          float64 `json:"y" parquet:"y"`
}

// machine lists the machine and build the suite ran on, as key-value
// pairs in a fixed order.
func (r *SuiteResults) machine() [][2]string {
	return [][2]string{
		{"cpu", r.CPU}, {"cores", strconv.Itoa(r.Cores)}, {"gomaxprocs", strconv.Itoa(r.GOMAXPROCS)},
		{"goos", r.GOOS}, {"goarch", r.GOARCH}, {"go_version", r.GoVersion}, {"commit", r.Commit},
		{"date", r.Date}, {"command", r.Command}, {"quick", strconv.FormatBool(r.Quick)},
	}
}

// trialRecords and sampleRecords flatten r's experiments.
func (r *SuiteResults) trialRecords() []TrialRecord {
	var out []TrialRecord
	for _, e := range r.Experiments {
		out = append(out, e.Trials...)
	}
	return out
}

func (r *SuiteResults) sampleRecords() []SampleRecord {
	var out []SampleRecord
	for _, e := range r.Experiments {
		for _, s := range e.Series {
			for _, l := range s.Lines {
				for _, p := range l.Points {
					out = append(out, SampleRecord{Experiment: e.Name, Series: s.Name, Line: l.Label, X: p.T, Y: p.V})
				}
			}
		}
	}
	return out
}

// writeTidyFiles writes the trial, sample and machine files of r through
// write (an atomic write into the suite directory).
func writeTidyFiles(r *SuiteResults, write func(name string, data []byte) error) error {
	meta := r.machine()
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.Write([]string{"key", "value"})
	for _, kv := range meta {
		cw.Write(kv[:])
	}
	cw.Flush()
	if err := write(MachineCSV, buf.Bytes()); err != nil {
		return err
	}
	if err := writeTidy(TrialsCSV, TrialsParquet, r.trialRecords(), meta, write); err != nil {
		return err
	}
	return writeTidy(SamplesCSV, SamplesParquet, r.sampleRecords(), meta, write)
}

// writeTidy writes rows as CSV (a header of the parquet tags, then one
// line per row) and as Parquet with meta as key-value metadata.
func writeTidy[T any](csvName, parquetName string, rows []T, meta [][2]string, write func(string, []byte) error) error {
	pq, err := datasets.EncodeTable(rows, meta)
	if err != nil {
		return fmt.Errorf("compare: %s: %w", parquetName, err)
	}
	if err := write(parquetName, pq); err != nil {
		return err
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	t := reflect.TypeFor[T]()
	header := make([]string, t.NumField())
	for i := range header {
		header[i] = t.Field(i).Tag.Get("parquet")
	}
	cw.Write(header)
	line := make([]string, len(header))
	for _, r := range rows {
		v := reflect.ValueOf(r)
		for i := range line {
			line[i] = csvField(v.Field(i))
		}
		cw.Write(line)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("compare: encode %s: %w", csvName, err)
	}
	return write(csvName, buf.Bytes())
}

func csvField(v reflect.Value) string {
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Int, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	}
	return fmt.Sprint(v.Interface())
}

// ReadTrials reads dir/trials.parquet written by [WriteSuiteResults].
func ReadTrials(dir string) ([]TrialRecord, error) {
	return readTidy[TrialRecord](filepath.Join(dir, TrialsParquet))
}

// ReadSamples reads dir/samples.parquet written by [WriteSuiteResults].
func ReadSamples(dir string) ([]SampleRecord, error) {
	return readTidy[SampleRecord](filepath.Join(dir, SamplesParquet))
}

func readTidy[T any](path string) ([]T, error) { return datasets.ReadTable[T](path) }

// ReadParquetMetadata returns the key-value metadata of a Parquet file
// written by [WriteSuiteResults] (the machine the suite ran on).
func ReadParquetMetadata(path string) (map[string]string, error) {
	return datasets.ReadTableMetadata(path)
}
