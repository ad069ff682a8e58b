package datasets

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/weirlab/weir/dataflow"
)

// Result files (DESIGN.md): columns window_start_ms, window_end_ms, key,
// value, then the workload's extra columns; rows as given (callers sort with
// [dataflow.SortResults]). The format follows the extension.
//
// window_start_ms and window_end_ms are a window's bounds [start, end) in ms
// since the Unix epoch (0 and 0 for a stateless pipeline's rows, as grep's),
// with one exception: for count windows (dataflow I6) they hold element
// ordinals of the key, [k*slide, k*slide+size) (the count-window workload: 0
// and 100 for a card's first 100 transactions, 100 and 200 for the next), not
// milliseconds. A top-N value is the text "value=count,value=count,..."
// ([dataflow.TopN]).

// resultFormats lists the result file extensions [WriteResults] supports.
var resultFormats = []string{".csv", ".jsonl", ".parquet"}

// resultHeader is the fixed part of every result file's columns.
var resultHeader = []string{"window_start_ms", "window_end_ms", "key", "value"}

func resultFormat(path string) (string, error) {
	ext := strings.ToLower(filepath.Ext(path))
	if slices.Contains(resultFormats, ext) {
		return ext, nil
	}
	return "", fmt.Errorf("datasets: result file %s: unknown extension %q; use one of %s", path, ext, strings.Join(resultFormats, ", "))
}

// WriteResults writes rs to path, in CSV with a header (.csv), JSON lines
// (.jsonl) or Parquet (.parquet). extra names the columns of each result's
// Extra values; every result must have len(extra) of them. In Parquet the
// value and extra columns take the kind of the first result's values, and
// every result must agree (with no results, value is int64).
func WriteResults(path string, extra []string, rs []dataflow.Result) error {
	ext, err := resultFormat(path)
	if err != nil {
		return err
	}
	for i, r := range rs {
		if len(r.Extra) != len(extra) {
			return fmt.Errorf("datasets: result %d has %d extra values for %d extra columns %v", i, len(r.Extra), len(extra), extra)
		}
	}
	return writeFile(path, func(w io.Writer) error {
		switch ext {
		case ".csv":
			return writeResultsCSV(w, extra, rs)
		case ".jsonl":
			return writeResultsJSONL(w, extra, rs)
		}
		return writeResultsParquet(w, extra, rs)
	})
}

func writeResultsCSV(w io.Writer, extra []string, rs []dataflow.Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(append(slices.Clone(resultHeader), extra...)); err != nil {
		return err
	}
	rec := make([]string, 4+len(extra))
	for _, r := range rs {
		rec[0] = strconv.FormatInt(int64(r.Window.Start), 10)
		rec[1] = strconv.FormatInt(int64(r.Window.End), 10)
		rec[2] = r.Key
		rec[3] = r.Value.String()
		for i, v := range r.Extra {
			rec[4+i] = v.String()
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// appendJSONValue appends v as JSON: numbers (floats always with a point or
// exponent, so they read back as floats; NaN and infinities as null),
// strings, booleans, null for a missing value.
func appendJSONValue(dst []byte, v dataflow.Value) []byte {
	switch v.K {
	case dataflow.KindInt64, dataflow.KindTimestamp:
		return strconv.AppendInt(dst, v.I, 10)
	case dataflow.KindFloat64:
		f := v.Float64()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return append(dst, "null"...)
		}
		start := len(dst)
		dst = strconv.AppendFloat(dst, f, 'g', -1, 64)
		if !strings.ContainsAny(string(dst[start:]), ".e") {
			dst = append(dst, ".0"...)
		}
		return dst
	case dataflow.KindBool:
		return strconv.AppendBool(dst, v.I != 0)
	case dataflow.KindString:
		b, _ := json.Marshal(v.S)
		return append(dst, b...)
	}
	return append(dst, "null"...)
}

func writeResultsJSONL(w io.Writer, extra []string, rs []dataflow.Result) error {
	bw := bufio.NewWriter(w)
	names := make([][]byte, len(extra))
	for i, e := range extra {
		names[i], _ = json.Marshal(e)
	}
	var b []byte
	for _, r := range rs {
		b = append(b[:0], `{"window_start_ms":`...)
		b = strconv.AppendInt(b, int64(r.Window.Start), 10)
		b = append(b, `,"window_end_ms":`...)
		b = strconv.AppendInt(b, int64(r.Window.End), 10)
		b = append(b, `,"key":`...)
		b = appendJSONValue(b, dataflow.Str(r.Key))
		b = append(b, `,"value":`...)
		b = appendJSONValue(b, r.Value)
		for i, v := range r.Extra {
			b = append(b, ',')
			b = append(b, names[i]...)
			b = append(b, ':')
			b = appendJSONValue(b, v)
		}
		b = append(b, "}\n"...)
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// resultSchema returns the Parquet-side schema of results.
func resultSchema(extra []string, rs []dataflow.Result) (dataflow.Schema, error) {
	fs := []dataflow.Field{
		{Name: "window_start_ms", Kind: dataflow.KindInt64},
		{Name: "window_end_ms", Kind: dataflow.KindInt64},
		{Name: "key", Kind: dataflow.KindString},
		{Name: "value", Kind: dataflow.KindInt64},
	}
	for _, e := range extra {
		fs = append(fs, dataflow.Field{Name: e, Kind: dataflow.KindInt64})
	}
	if len(rs) > 0 {
		fs[3].Kind = rs[0].Value.K
		for i, v := range rs[0].Extra {
			fs[4+i].Kind = v.K
		}
	}
	s := dataflow.NewSchema(fs...)
	if err := s.Validate(); err != nil {
		return s, fmt.Errorf("datasets: result columns: %w", err)
	}
	return s, nil
}

func writeResultsParquet(w io.Writer, extra []string, rs []dataflow.Result) error {
	s, err := resultSchema(extra, rs)
	if err != nil {
		return err
	}
	var bad error
	rows := func(yield func(dataflow.Row) bool) {
		row := make(dataflow.Row, s.Len())
		for i, r := range rs {
			row[0] = dataflow.Int(int64(r.Window.Start))
			row[1] = dataflow.Int(int64(r.Window.End))
			row[2] = dataflow.Str(r.Key)
			row[3] = r.Value
			copy(row[4:], r.Extra)
			for c := 3; c < len(row); c++ {
				if row[c].K != s.Fields[c].Kind {
					bad = fmt.Errorf("datasets: result %d column %q is %v, earlier results are %v; a Parquet column has one type", i, s.Fields[c].Name, row[c].K, s.Fields[c].Kind)
					return
				}
			}
			if !yield(row) {
				return
			}
		}
	}
	err = WriteParquet(w, s, rows)
	return errors.Join(bad, err)
}

// ReadResults reads a result file written by [WriteResults], returning the
// extra column names and the results. Parquet keeps value kinds; JSON lines
// keep numbers, strings and booleans apart; CSV values are read back as
// int64 if they parse as one, else float64, else string.
func ReadResults(path string) ([]string, []dataflow.Result, error) {
	ext, err := resultFormat(path)
	if err != nil {
		return nil, nil, err
	}
	switch ext {
	case ".csv":
		return readResultsCSV(path)
	case ".jsonl":
		return readResultsJSONL(path)
	}
	return readResultsParquet(path)
}

func readResultsCSV(path string) ([]string, []dataflow.Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("datasets: %w", err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, nil, fmt.Errorf("datasets: read %s: %w", path, err)
	}
	if len(recs) == 0 || len(recs[0]) < 4 || !slices.Equal(recs[0][:4], resultHeader) {
		return nil, nil, fmt.Errorf("datasets: %s has no result header %v", path, resultHeader)
	}
	extra := recs[0][4:]
	var out []dataflow.Result
	for i, rec := range recs[1:] {
		var r dataflow.Result
		s, err1 := strconv.ParseInt(rec[0], 10, 64)
		e, err2 := strconv.ParseInt(rec[1], 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return nil, nil, fmt.Errorf("datasets: %s row %d: window bounds: %w", path, i+1, err)
		}
		r.Window = dataflow.Window{Start: dataflow.Time(s), End: dataflow.Time(e)}
		r.Key = rec[2]
		r.Value = parseCSVValue(rec[3])
		for _, x := range rec[4:] {
			r.Extra = append(r.Extra, parseCSVValue(x))
		}
		out = append(out, r)
	}
	return extra, out, nil
}

func parseCSVValue(s string) dataflow.Value {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return dataflow.Int(i)
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return dataflow.Float(f)
	}
	return dataflow.Str(s)
}

func readResultsJSONL(path string) ([]string, []dataflow.Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("datasets: %w", err)
	}
	defer f.Close()
	var extra []string
	var out []dataflow.Result
	dec := json.NewDecoder(f)
	dec.UseNumber()
	for line := 1; ; line++ {
		// Decode key by key to keep the column order.
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil || tok != json.Delim('{') {
			return nil, nil, fmt.Errorf("datasets: %s line %d: not a JSON object", path, line)
		}
		var r dataflow.Result
		var names []string
		for col := 0; dec.More(); col++ {
			kt, err := dec.Token()
			if err != nil {
				return nil, nil, fmt.Errorf("datasets: %s line %d: %w", path, line, err)
			}
			name, _ := kt.(string)
			vt, err := dec.Token()
			if err != nil {
				return nil, nil, fmt.Errorf("datasets: %s line %d: %w", path, line, err)
			}
			v := jsonValue(vt)
			switch name {
			case "window_start_ms":
				r.Window.Start = dataflow.Time(v.I)
			case "window_end_ms":
				r.Window.End = dataflow.Time(v.I)
			case "key":
				r.Key = v.S
			case "value":
				r.Value = v
			default:
				names = append(names, name)
				r.Extra = append(r.Extra, v)
			}
		}
		if _, err := dec.Token(); err != nil {
			return nil, nil, fmt.Errorf("datasets: %s line %d: %w", path, line, err)
		}
		if extra == nil {
			extra = names
		}
		out = append(out, r)
	}
	return extra, out, nil
}

func jsonValue(t json.Token) dataflow.Value {
	switch x := t.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil && !strings.ContainsAny(string(x), ".eE") {
			return dataflow.Int(i)
		}
		f, _ := x.Float64()
		return dataflow.Float(f)
	case string:
		return dataflow.Str(x)
	case bool:
		return dataflow.Bool(x)
	}
	return dataflow.Value{}
}

func readResultsParquet(path string) ([]string, []dataflow.Result, error) {
	// The file's own schema gives the kinds; read it through a probe.
	s, err := parquetFileSchema(path)
	if err != nil {
		return nil, nil, err
	}
	want := dataflow.NewSchema(s.Fields...)
	var out []dataflow.Result
	ix := make([]int, len(resultHeader))
	for i, h := range resultHeader {
		if ix[i] = want.Index(h); ix[i] < 0 {
			return nil, nil, fmt.Errorf("datasets: %s has no result column %q", path, h)
		}
	}
	var extra []int
	var names []string
	for i, f := range want.Fields {
		if !slices.Contains(resultHeader, f.Name) {
			extra = append(extra, i)
			names = append(names, f.Name)
		}
	}
	err = ScanParquet(path, want, func(row dataflow.Row) error {
		r := dataflow.Result{
			Window: dataflow.Window{Start: dataflow.Time(row[ix[0]].I), End: dataflow.Time(row[ix[1]].I)},
			Key:    row[ix[2]].S,
			Value:  row[ix[3]],
		}
		for _, c := range extra {
			r.Extra = append(r.Extra, row[c])
		}
		out = append(out, r)
		return nil
	})
	return names, out, err
}
