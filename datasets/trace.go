package datasets

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/weirlab/weir/dataflow"
)

// TraceKind says what a [TraceRow] describes.
type TraceKind string

// Trace row kinds.
const (
	// TraceRecord is one log record: where it is, its event and ingest time.
	TraceRecord TraceKind = "record"
	// TracePane is one pane a runtime's sink received.
	TracePane TraceKind = "pane"
)

// TraceRow is one row of a run's trace file ([WriteTrace]): a log record
// (Kind [TraceRecord]) or a pane the sink received (Kind [TracePane]).
// Fields that do not apply to the row's kind are zero; the package doc's
// trace table says which apply.
type TraceRow struct {
	Kind    TraceKind
	Runtime string // the runner's name (pane rows)
	// Partition and Offset locate a record in the log (record rows).
	Partition int32
	Offset    int64
	// EventTimeMs is a record's event time, or a pane's largest event time,
	// in the dataset's event time (ms); EventTimeShiftMs maps it onto the
	// wall clock (the log's [Log.EventTimeShift]).
	EventTimeMs      int64
	EventTimeShiftMs int64
	// IngestNanos is a record's ingest time, or a pane's largest (ns since
	// the Unix epoch).
	IngestNanos int64
	// Window, Key, PaneIndex and PaneTiming name the pane (pane rows).
	WindowStartMs, WindowEndMs int64
	Key                        string
	PaneIndex                  int64
	PaneTiming                 dataflow.PaneTiming
	// EmitNanos is when the sink received the pane (ns since the Unix
	// epoch).
	EmitNanos int64
	// WatermarkMs is the event-time watermark the pane fired at
	// (math.MinInt64 before the first watermark).
	WatermarkMs int64
	// Task is the task that fired the pane (the window task's id in
	// recordstream, 0 elsewhere).
	Task int32
}

// traceSchema is the trace file's columns, in TraceRow's order.
var traceSchema = dataflow.NewSchema(
	dataflow.Field{Name: "kind", Kind: dataflow.KindString},
	dataflow.Field{Name: "runtime", Kind: dataflow.KindString},
	dataflow.Field{Name: "partition", Kind: dataflow.KindInt64},
	dataflow.Field{Name: "offset", Kind: dataflow.KindInt64},
	dataflow.Field{Name: "event_time_ms", Kind: dataflow.KindInt64},
	dataflow.Field{Name: "event_time_shift_ms", Kind: dataflow.KindInt64},
	dataflow.Field{Name: "ingest_ns", Kind: dataflow.KindInt64},
	dataflow.Field{Name: "window_start_ms", Kind: dataflow.KindInt64},
	dataflow.Field{Name: "window_end_ms", Kind: dataflow.KindInt64},
	dataflow.Field{Name: "key", Kind: dataflow.KindString},
	dataflow.Field{Name: "pane_index", Kind: dataflow.KindInt64},
	dataflow.Field{Name: "pane_timing", Kind: dataflow.KindString},
	dataflow.Field{Name: "emit_ns", Kind: dataflow.KindInt64},
	dataflow.Field{Name: "watermark_ms", Kind: dataflow.KindInt64},
	dataflow.Field{Name: "task", Kind: dataflow.KindInt64},
)

// paneTimingName is the trace's text for a pane timing: "" for none.
func paneTimingName(t dataflow.PaneTiming) string {
	if t == 0 {
		return ""
	}
	return t.String()
}

func parsePaneTiming(s string) (dataflow.PaneTiming, error) {
	if s == "" {
		return 0, nil
	}
	for t := dataflow.PaneEarly; t <= dataflow.PaneMerged; t++ {
		if t.String() == s {
			return t, nil
		}
	}
	return 0, fmt.Errorf("unknown pane timing %q", s)
}

// WriteTrace writes a run's trace rows to the file at path, in the order
// given (the package doc's trace table is the schema): Parquet when path ends
// in .parquet, CSV with a header row of the column names when it ends in
// .csv (what a reader without a Parquet library, such as Debian's Python
// with pandas alone, opens). The file is written to a temporary file in
// path's directory and renamed into place, so path holds either its old
// content or the whole new trace.
func WriteTrace(path string, rows []TraceRow) error {
	if err := checkTraceExt(path); err != nil {
		return err
	}
	return writeFileAtomic(path, func(w io.Writer) error {
		if strings.HasSuffix(path, ".csv") {
			return writeTraceCSV(w, rows)
		}
		return WriteParquet(w, traceSchema, traceRows(rows))
	})
}

// checkTraceExt names the trace formats.
func checkTraceExt(path string) error {
	if strings.HasSuffix(path, ".parquet") || strings.HasSuffix(path, ".csv") {
		return nil
	}
	return fmt.Errorf("datasets: trace %s: unknown format; name the file .parquet or .csv", path)
}

// traceRows yields the rows of the trace file's schema, one row reused.
func traceRows(rows []TraceRow) func(yield func(dataflow.Row) bool) {
	return func(yield func(dataflow.Row) bool) {
		row := make(dataflow.Row, traceSchema.Len())
		for i := range rows {
			r := &rows[i]
			row[0] = dataflow.Str(string(r.Kind))
			row[1] = dataflow.Str(r.Runtime)
			row[2] = dataflow.Int(int64(r.Partition))
			row[3] = dataflow.Int(r.Offset)
			row[4] = dataflow.Int(r.EventTimeMs)
			row[5] = dataflow.Int(r.EventTimeShiftMs)
			row[6] = dataflow.Int(r.IngestNanos)
			row[7] = dataflow.Int(r.WindowStartMs)
			row[8] = dataflow.Int(r.WindowEndMs)
			row[9] = dataflow.Str(r.Key)
			row[10] = dataflow.Int(r.PaneIndex)
			row[11] = dataflow.Str(paneTimingName(r.PaneTiming))
			row[12] = dataflow.Int(r.EmitNanos)
			row[13] = dataflow.Int(r.WatermarkMs)
			row[14] = dataflow.Int(int64(r.Task))
			if !yield(row) {
				return
			}
		}
	}
}

func writeTraceCSV(w io.Writer, rows []TraceRow) error {
	cw := csv.NewWriter(w)
	rec := make([]string, traceSchema.Len())
	for i, f := range traceSchema.Fields {
		rec[i] = f.Name
	}
	if err := cw.Write(rec); err != nil {
		return err
	}
	var buf []byte
	for row := range traceRows(rows) {
		buf = buf[:0]
		for i, v := range row {
			start := len(buf)
			if v.K == dataflow.KindString {
				buf = append(buf, v.S...)
			} else {
				buf = strconv.AppendInt(buf, v.I, 10)
			}
			rec[i] = string(buf[start:])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ReadTrace reads a trace file written by [WriteTrace] (Parquet or CSV, by
// its name), in file order.
func ReadTrace(path string) ([]TraceRow, error) {
	if err := checkTraceExt(path); err != nil {
		return nil, err
	}
	var out []TraceRow
	n := 0
	add := func(row dataflow.Row) error {
		n++
		t, err := parsePaneTiming(row[11].S)
		if err != nil {
			return fmt.Errorf("datasets: %s row %d: pane_timing: %w", path, n, err)
		}
		out = append(out, TraceRow{
			Kind: TraceKind(row[0].S), Runtime: row[1].S,
			Partition: int32(row[2].I), Offset: row[3].I,
			EventTimeMs: row[4].I, EventTimeShiftMs: row[5].I, IngestNanos: row[6].I,
			WindowStartMs: row[7].I, WindowEndMs: row[8].I, Key: row[9].S,
			PaneIndex: row[10].I, PaneTiming: t, EmitNanos: row[12].I,
			WatermarkMs: row[13].I, Task: int32(row[14].I),
		})
		return nil
	}
	if strings.HasSuffix(path, ".csv") {
		return out, readTraceCSV(path, add)
	}
	err := ScanParquet(path, traceSchema, add)
	return out, err
}

func readTraceCSV(path string, add func(dataflow.Row) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.FieldsPerRecord = traceSchema.Len()
	head, err := cr.Read()
	if err != nil {
		return fmt.Errorf("datasets: trace %s: header: %w", path, err)
	}
	for i, fd := range traceSchema.Fields {
		if head[i] != fd.Name {
			return fmt.Errorf("datasets: trace %s: column %d is %q, want %q: not a weir trace", path, i+1, head[i], fd.Name)
		}
	}
	row := make(dataflow.Row, traceSchema.Len())
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("datasets: trace %s: %w", path, err)
		}
		for i, fd := range traceSchema.Fields {
			if fd.Kind == dataflow.KindString {
				row[i] = dataflow.Str(rec[i])
				continue
			}
			v, err := strconv.ParseInt(rec[i], 10, 64)
			if err != nil {
				return fmt.Errorf("datasets: trace %s line %d: %s: %w", path, line, fd.Name, err)
			}
			row[i] = dataflow.Int(v)
		}
		if err := add(row); err != nil {
			return err
		}
	}
}

// writeFileAtomic writes path through fn into a temporary file beside it,
// then renames it into place; on failure the temporary file is removed.
func writeFileAtomic(path string, fn func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Chmod(0o644); err != nil { // CreateTemp makes 0600; a trace is for any reader
		return fail(fmt.Errorf("datasets: %w", err))
	}
	if err := fn(f); err != nil {
		return fail(fmt.Errorf("datasets: write %s: %w", path, err))
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("datasets: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("datasets: %w", err)
	}
	return nil
}
