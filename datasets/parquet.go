package datasets

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/weirlab/weir/dataflow"
)

// Parquet files hold plain types that any reader opens: int64, double,
// byte_array annotated UTF8, boolean and int64 annotated TIMESTAMP(millis,
// UTC); every column is required. Columns are stored in name order (the
// order parquet-go gives a group's fields); readers match them by name.

// EventsFile is the name of the events file in a dataset directory
// ([WriteDir]); lookup tables go next to it as <table>.parquet.
const EventsFile = "events.parquet"

// ErrCorrupt marks a file that is not a readable Parquet file.
var ErrCorrupt = errors.New("datasets: corrupt Parquet file")

// ErrSchema marks a Parquet file whose columns are not the expected ones.
var ErrSchema = errors.New("datasets: Parquet schema mismatch")

// regenerate is the advice every file error ends with.
const regenerate = "regenerate it with `bench gen`"

func parquetNode(k dataflow.Kind) (parquet.Node, error) {
	switch k {
	case dataflow.KindInt64:
		return parquet.Leaf(parquet.Int64Type), nil
	case dataflow.KindFloat64:
		return parquet.Leaf(parquet.DoubleType), nil
	case dataflow.KindString:
		return parquet.String(), nil
	case dataflow.KindBool:
		return parquet.Leaf(parquet.BooleanType), nil
	case dataflow.KindTimestamp:
		return parquet.Timestamp(parquet.Millisecond), nil
	}
	return nil, fmt.Errorf("datasets: no Parquet type for column kind %v", k)
}

// parquetSchema returns the Parquet schema of s and, per column of s, its
// leaf index in the file.
func parquetSchema(s dataflow.Schema) (*parquet.Schema, []int, error) {
	g := parquet.Group{}
	for _, f := range s.Fields {
		n, err := parquetNode(f.Kind)
		if err != nil {
			return nil, nil, err
		}
		g[f.Name] = parquet.Required(n)
	}
	ps := parquet.NewSchema("weir", g)
	idx := make([]int, s.Len())
	for i, f := range s.Fields {
		leaf, ok := ps.Lookup(f.Name)
		if !ok {
			return nil, nil, fmt.Errorf("datasets: parquet schema lost column %q", f.Name)
		}
		idx[i] = leaf.ColumnIndex
	}
	return ps, idx, nil
}

// WriteParquet writes rows of schema s to w as one Parquet file, in row
// groups of at most a million rows whose column chunks stay under 64 MiB
// uncompressed: a reader then holds one bounded row group at a time, and so
// does the writer, whatever the number of rows.
func WriteParquet(w io.Writer, s dataflow.Schema, rows iter.Seq[dataflow.Row]) error {
	return writeParquet(context.Background(), w, s, rows, defaultLimits())
}

// ctxCheckRows is how many rows a writer writes between looks at its ctx:
// a few milliseconds of work, so that a canceled write stops at once.
const ctxCheckRows = 4096

// rowGroupLimits bound the row groups [writeParquet] writes: a row group is
// closed once it holds Rows rows or one of its column chunks holds Bytes
// bytes (plain encoding, uncompressed: 8 per number, 1 per boolean, 4 plus
// the length per string).
type rowGroupLimits struct {
	Rows  int
	Bytes int64
}

// WriteParquet's row-group bounds. A million ysb events are a 40 MB chunk
// in the widest (string) column: far below what any reader limits (a single
// row group of 30 million events had a 1.08 GB chunk), and small enough
// that writing and reading hold little at a time.
const (
	defaultRowGroupRows  = 1 << 20
	defaultRowGroupBytes = 64 << 20
)

// defaultLimits are WriteParquet's row-group bounds.
func defaultLimits() rowGroupLimits {
	return rowGroupLimits{Rows: defaultRowGroupRows, Bytes: defaultRowGroupBytes}
}

// writeParquet is [WriteParquet] with row-group bounds lim, stopping with
// ctx's error, before the file is finished, once ctx is done.
func writeParquet(ctx context.Context, w io.Writer, s dataflow.Schema, rows iter.Seq[dataflow.Row], lim rowGroupLimits) error {
	if err := s.Validate(); err != nil {
		return err
	}
	ps, idx, err := parquetSchema(s)
	if err != nil {
		return err
	}
	pw := parquet.NewWriter(w, ps)
	names := make([]string, s.Len())
	for i, f := range s.Fields {
		names[i] = f.Name
	}
	pw.SetKeyValueMetadata(columnsKey, strings.Join(names, ","))
	buf := make([]parquet.Row, 0, min(256, max(lim.Rows, 1)))
	vals := make([]parquet.Value, 0, cap(buf)*s.Len())
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		_, err := pw.WriteRows(buf)
		buf, vals = buf[:0], vals[:0]
		return err
	}
	// The open row group's rows and per-column bytes.
	groupRows, groupBytes, full := 0, make([]int64, s.Len()), false
	r := 0
	for row := range rows {
		if r%ctxCheckRows == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if len(row) != s.Len() {
			return fmt.Errorf("datasets: write parquet: row %d has %d values, schema %v has %d", r, len(row), s, s.Len())
		}
		start := len(vals)
		vals = vals[:start+s.Len()]
		for c, v := range row {
			f := s.Fields[c]
			if v.K != f.Kind {
				return fmt.Errorf("datasets: write parquet: row %d column %q holds a %v value, schema says %v", r, f.Name, v.K, f.Kind)
			}
			var pv parquet.Value
			n := int64(8)
			switch f.Kind {
			case dataflow.KindFloat64:
				pv = parquet.DoubleValue(v.Float64())
			case dataflow.KindString:
				pv = parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(v.S), len(v.S)))
				n = 4 + int64(len(v.S))
			case dataflow.KindBool:
				pv = parquet.BooleanValue(v.I != 0)
				n = 1
			default:
				pv = parquet.Int64Value(v.I)
			}
			vals[start+idx[c]] = pv.Level(0, 0, idx[c])
			groupBytes[c] += n
			full = full || groupBytes[c] >= lim.Bytes
		}
		buf = append(buf, vals[start:start+s.Len():start+s.Len()])
		r++
		groupRows++
		full = full || groupRows >= lim.Rows
		if len(buf) == cap(buf) || full {
			if err := flush(); err != nil {
				return fmt.Errorf("datasets: write parquet: %w", err)
			}
		}
		if full {
			// Close the row group: its pages go to w and the writer
			// holds nothing of it any more.
			if err := pw.Flush(); err != nil {
				return fmt.Errorf("datasets: write parquet: %w", err)
			}
			groupRows, full = 0, false
			clear(groupBytes)
		}
	}
	if err := flush(); err != nil {
		return fmt.Errorf("datasets: write parquet: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("datasets: write parquet: %w", err)
	}
	return nil
}

// LogRows iterates over every record of l in an interleaved order: the first
// record of each partition, then the second of each, and so on. Read back
// with [LoadDir] into the same number of partitions, a log partitioned by a
// key or round robin gets every record back in its partition and position.
// The Row is reused.
func LogRows(l *Log) iter.Seq[dataflow.Row] {
	return func(yield func(dataflow.Row) bool) {
		var row dataflow.Row
		ends := make([]int64, l.Partitions())
		var most int64
		for p := range ends {
			ends[p] = l.End(p)
			most = max(most, ends[p])
		}
		for off := int64(0); off < most; off++ {
			for p := range ends {
				if off < ends[p] {
					row, _ = l.Read(p, off, row)
					if !yield(row) {
						return
					}
				}
			}
		}
	}
}

// WriteLogParquet writes the readable records of l to w ([LogRows] order).
func WriteLogParquet(w io.Writer, l *Log) error { return WriteParquet(w, l.Schema(), LogRows(l)) }

// columnsKey is the file metadata key holding the column names in schema
// order, as Parquet stores them in name order.
const columnsKey = "weir.columns"

// parquetFileSchema returns the schema of the Parquet file at path: its
// leaf columns in the order of its weir.columns metadata when present, else
// in file order.
func parquetFileSchema(path string) (s dataflow.Schema, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %s: %v; %s", ErrCorrupt, path, p, regenerate)
		}
	}()
	file, err := os.Open(path)
	if err != nil {
		return s, fmt.Errorf("datasets: %w", err)
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return s, fmt.Errorf("datasets: %w", err)
	}
	f, err := openParquet(path, file, st.Size())
	if err != nil {
		return s, err
	}
	for _, fld := range f.Schema().Fields() {
		if k, _ := kindOfParquet(fld.Type()); fld.Leaf() && k != dataflow.KindInvalid {
			s.Fields = append(s.Fields, dataflow.Field{Name: fld.Name(), Kind: k})
		}
	}
	if order, ok := f.Lookup(columnsKey); ok {
		names := strings.Split(order, ",")
		slices.SortStableFunc(s.Fields, func(a, b dataflow.Field) int {
			ia, ib := slices.Index(names, a.Name), slices.Index(names, b.Name)
			if ia < 0 {
				ia = len(names)
			}
			if ib < 0 {
				ib = len(names)
			}
			return ia - ib
		})
	}
	return s, nil
}

// fileColumn is how one schema column is read from a file.
type fileColumn struct {
	leaf  int
	scale int64 // divide timestamps by this to get ms
}

// checkParquetSchema matches the file's columns with s and says exactly what
// is wrong when they do not match.
func checkParquetSchema(path string, f *parquet.File, s dataflow.Schema) ([]fileColumn, error) {
	kinds := map[string]dataflow.Kind{}
	cols := map[string]fileColumn{}
	for _, fld := range f.Schema().Fields() {
		if !fld.Leaf() || fld.Repeated() {
			continue
		}
		k, scale := kindOfParquet(fld.Type())
		leaf, _ := f.Schema().Lookup(fld.Name())
		kinds[fld.Name()] = k
		cols[fld.Name()] = fileColumn{leaf: leaf.ColumnIndex, scale: scale}
	}
	out := make([]fileColumn, s.Len())
	var missing, wrong []string
	for i, fd := range s.Fields {
		k, ok := kinds[fd.Name]
		switch {
		case !ok:
			missing = append(missing, fd.Name)
		case k != fd.Kind:
			wrong = append(wrong, fmt.Sprintf("%s is %v, want %v", fd.Name, k, fd.Kind))
		default:
			out[i] = cols[fd.Name]
		}
	}
	if len(missing) == 0 && len(wrong) == 0 {
		return out, nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s", path)
	if like := lookalike(kinds); like != "" {
		fmt.Fprintf(&b, " looks like %s;", like)
	}
	if len(missing) > 0 {
		fmt.Fprintf(&b, " missing column(s) %s;", strings.Join(missing, ", "))
	}
	if len(wrong) > 0 {
		fmt.Fprintf(&b, " wrong type: %s;", strings.Join(wrong, "; "))
	}
	fmt.Fprintf(&b, " expected %v; %s", s, regenerate)
	return nil, fmt.Errorf("%w: %s", ErrSchema, b.String())
}

// lookalike names the dataset (or lookup table) whose schema the file's
// columns match exactly, if any.
func lookalike(kinds map[string]dataflow.Kind) string {
	matches := func(s dataflow.Schema) bool {
		if s.Len() != len(kinds) {
			return false
		}
		for _, f := range s.Fields {
			if kinds[f.Name] != f.Kind {
				return false
			}
		}
		return true
	}
	for _, g := range generators() {
		if matches(g.Schema()) {
			return "the events of dataset " + g.Name()
		}
		for name, t := range g.Tables(0) {
			if matches(t.Schema) {
				return "the " + name + " table of dataset " + g.Name()
			}
		}
	}
	return ""
}

// kindOfParquet maps a Parquet leaf type to a column kind, with the divisor
// that turns its timestamps into ms.
func kindOfParquet(t parquet.Type) (dataflow.Kind, int64) {
	lt := t.LogicalType()
	switch t.Kind() {
	case parquet.Int64:
		if lt != nil {
			if ts, ok := lt.Value.(*format.TimestampType); ok {
				switch ts.Unit.Value.(type) {
				case *format.MilliSeconds:
					return dataflow.KindTimestamp, 1
				case *format.MicroSeconds:
					return dataflow.KindTimestamp, 1000
				case *format.NanoSeconds:
					return dataflow.KindTimestamp, 1_000_000
				}
			}
		}
		return dataflow.KindInt64, 1
	case parquet.Double:
		return dataflow.KindFloat64, 1
	case parquet.ByteArray:
		return dataflow.KindString, 1
	case parquet.Boolean:
		return dataflow.KindBool, 1
	}
	return dataflow.KindInvalid, 1
}

// ScanParquet reads the Parquet file at path, checks that it has the
// columns of s (by name and kind; extra columns are ignored), and calls fn
// with each row in file order, converted to s. The Row is reused; strings
// are fresh. fn's error stops the scan and is returned.
func ScanParquet(path string, s dataflow.Schema, fn func(dataflow.Row) error) (err error) {
	file, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("datasets: %w; %s", err, regenerate)
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	return scanParquet(path, file, st.Size(), s, fn)
}

func scanParquet(path string, r io.ReaderAt, size int64, s dataflow.Schema, fn func(dataflow.Row) error) (err error) {
	var fnErr error
	defer func() {
		// parquet-go may panic on some malformed inputs; a bad file is an
		// error, never a crash.
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %s: %v; %s", ErrCorrupt, path, p, regenerate)
		}
	}()
	f, err := openParquet(path, r, size)
	if err != nil {
		return err
	}
	if err := checkChunkBounds(path, f.Metadata(), size, memoryForLoad()); err != nil {
		return err
	}
	cols, err := checkParquetSchema(path, f, s)
	if err != nil {
		return err
	}
	byLeaf := map[int]int{}
	for i, c := range cols {
		byLeaf[c.leaf] = i
	}
	row := make(dataflow.Row, s.Len())
	buf := make([]parquet.Row, 128)
	var n int64
	for _, rg := range f.RowGroups() {
		rows := rg.Rows()
		for {
			k, rerr := rows.ReadRows(buf)
			for _, pr := range buf[:k] {
				clear(row)
				for _, v := range pr {
					i, ok := byLeaf[v.Column()]
					if !ok {
						continue
					}
					fd := s.Fields[i]
					if v.IsNull() {
						rows.Close()
						return fmt.Errorf("%w: %s: row %d has no value in column %q; %s", ErrSchema, path, n, fd.Name, regenerate)
					}
					switch fd.Kind {
					case dataflow.KindFloat64:
						row[i] = dataflow.Float(v.Double())
					case dataflow.KindString:
						row[i] = dataflow.Str(string(v.ByteArray()))
					case dataflow.KindBool:
						row[i] = dataflow.Bool(v.Boolean())
					default:
						row[i] = dataflow.Value{K: fd.Kind, I: dataflow.FloorDiv(v.Int64(), cols[i].scale)}
					}
				}
				for i := range row {
					if row[i].K == dataflow.KindInvalid {
						rows.Close()
						return fmt.Errorf("%w: %s: row %d has no value in column %q; %s", ErrSchema, path, n, s.Fields[i].Name, regenerate)
					}
				}
				if fnErr = fn(row); fnErr != nil {
					rows.Close()
					return fnErr
				}
				n++
			}
			if rerr == io.EOF {
				break
			}
			if rerr != nil {
				rows.Close()
				return fmt.Errorf("%w: %s: row %d: %v; %s", ErrCorrupt, path, n, rerr, regenerate)
			}
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("%w: %s: %v; %s", ErrCorrupt, path, err, regenerate)
		}
	}
	if n != f.NumRows() {
		return fmt.Errorf("%w: %s: read %d rows, footer says %d; %s", ErrCorrupt, path, n, f.NumRows(), regenerate)
	}
	return nil
}

// openParquet checks the magic numbers and the footer length, then opens
// the file: a corrupt length would make parquet-go allocate what it claims.
func openParquet(path string, r io.ReaderAt, size int64) (*parquet.File, error) {
	if size < 12 {
		return nil, fmt.Errorf("%w: %s is %d bytes, too short for Parquet (not Parquet, or truncated); %s", ErrCorrupt, path, size, regenerate)
	}
	var magic [4]byte
	if _, err := r.ReadAt(magic[:], 0); err != nil || string(magic[:]) != "PAR1" {
		return nil, fmt.Errorf("%w: %s is not a Parquet file (no PAR1 header); %s", ErrCorrupt, path, regenerate)
	}
	var tail [8]byte
	if _, err := r.ReadAt(tail[:], size-8); err != nil || string(tail[4:]) != "PAR1" {
		return nil, fmt.Errorf("%w: %s is truncated (no PAR1 footer); %s", ErrCorrupt, path, regenerate)
	}
	if n := int64(binary.LittleEndian.Uint32(tail[:4])); n > size-12 {
		return nil, fmt.Errorf("%w: %s: footer length %d exceeds the file (%d bytes); %s", ErrCorrupt, path, n, size, regenerate)
	}
	f, err := parquet.OpenFile(r, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v; %s", ErrCorrupt, path, err, regenerate)
	}
	return f, nil
}

// ErrTooLarge marks a Parquet file whose columns, uncompressed, would not
// fit in this machine's memory ([memoryForLoad]).
var ErrTooLarge = errors.New("datasets: Parquet file too large to load")

// checkChunkBounds rejects a footer whose column chunks lie outside the
// file or claim impossible sizes, and a file whose column chunks claim more
// bytes uncompressed, in total, than memLimit: the rows are loaded into
// memory, and parquet-go would otherwise allocate what a corrupt footer
// claims. Any valid file that fits is accepted, however large its row
// groups.
func checkChunkBounds(path string, md *format.FileMetaData, size, memLimit int64) error {
	if md.NumRows < 0 {
		return fmt.Errorf("%w: %s: footer claims %d rows; %s", ErrCorrupt, path, md.NumRows, regenerate)
	}
	var total int64
	for i, rg := range md.RowGroups {
		for j, c := range rg.Columns {
			m := c.MetaData
			start := m.DataPageOffset
			if m.DictionaryPageOffset > 0 && m.DictionaryPageOffset < start {
				start = m.DictionaryPageOffset
			}
			if start < 4 || m.TotalCompressedSize < 0 || m.TotalCompressedSize > size || start > size-m.TotalCompressedSize ||
				m.TotalUncompressedSize < 0 || m.NumValues < 0 {
				return fmt.Errorf("%w: %s: row group %d column %d lies outside the file or claims impossible sizes; %s", ErrCorrupt, path, i, j, regenerate)
			}
			if m.TotalUncompressedSize > memLimit-total {
				return fmt.Errorf("%w: %s: its columns claim more than %d bytes uncompressed, more than this machine's memory for it (%d bytes): "+
					"the file is corrupt, or too large to load; regenerate it with fewer events", ErrTooLarge, path, total+m.TotalUncompressedSize, memLimit)
			}
			total += m.TotalUncompressedSize
		}
	}
	return nil
}

// memoryForLoad is the most a Parquet file's columns may hold uncompressed
// for [ScanParquet] to read it: the machine's physical memory (MemTotal of
// /proc/meminfo), or the Go memory limit (debug.SetMemoryLimit, GOMEMLIMIT)
// when that is lower; 1 TiB where neither is known.
func memoryForLoad() int64 {
	limit := int64(1 << 40)
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				if kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64); err == nil && kb > 0 {
					limit = kb << 10
				}
			}
		}
	}
	return min(limit, debug.SetMemoryLimit(-1))
}

// ReadParquet reads an events file of gen's dataset into rows (file order).
// A file that is not Parquet, is truncated, belongs to another dataset or
// lacks a column gives an error saying which, wrapping [ErrCorrupt] or
// [ErrSchema].
func ReadParquet(path string, gen Generator) ([]dataflow.Row, error) {
	return ReadParquetRows(path, gen.Schema())
}

// ReadParquetRows reads the Parquet file at path into rows of schema s.
func ReadParquetRows(path string, s dataflow.Schema) ([]dataflow.Row, error) {
	var out []dataflow.Row
	err := ScanParquet(path, s, func(r dataflow.Row) error {
		out = append(out, slices.Clone(r))
		return nil
	})
	return out, err
}

// WriteDir writes l's records to dir/events.parquet and each table to
// dir/<name>.parquet, creating dir if needed. It is all or nothing: every
// file is written to a temporary file beside it, and only once all are
// complete are they renamed into place, so a failure or a canceled ctx
// (checked every few thousand rows; WriteDir then returns ctx's error)
// leaves no new file, partial or empty, and the directory as it was (a
// directory WriteDir created is removed again).
func WriteDir(ctx context.Context, dir string, l *Log, tables map[string]*dataflow.Table) (err error) {
	_, statErr := os.Stat(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	var tmps []string // temporary files, by final name in names
	var names []string
	defer func() {
		if err == nil {
			return
		}
		for _, tmp := range tmps {
			os.Remove(tmp)
		}
		if statErr != nil {
			os.Remove(dir) // ours, and empty again (Remove keeps a directory that is not)
		}
	}()
	write := func(name string, fn func(io.Writer) error) error {
		path := filepath.Join(dir, name)
		tmp, err := writeTemp(path, fn)
		if err != nil {
			return err
		}
		tmps, names = append(tmps, tmp), append(names, path)
		return nil
	}
	if err := write(EventsFile, func(w io.Writer) error { return writeParquet(ctx, w, l.Schema(), LogRows(l), defaultLimits()) }); err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(tables)) {
		t := tables[name]
		if err := write(name+".parquet", func(w io.Writer) error {
			return writeParquet(ctx, w, t.Schema, slices.Values(t.Rows), defaultLimits())
		}); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for i, tmp := range tmps {
		if err := os.Rename(tmp, names[i]); err != nil {
			return fmt.Errorf("datasets: %w", err)
		}
	}
	return nil
}

// writeTemp writes path's content through fn into a new temporary file
// beside path (same directory, so a rename moves it into place) and returns
// the temporary file's name; on failure the temporary file is removed. A
// canceled write returns the ctx error fn returned, unwrapped.
func writeTemp(path string, fn func(io.Writer) error) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return "", fmt.Errorf("datasets: %w", err)
	}
	tmp := f.Name()
	fail := func(err error) (string, error) {
		f.Close()
		os.Remove(tmp)
		return "", err
	}
	if err := f.Chmod(0o644); err != nil { // CreateTemp makes 0600; data files are for any reader
		return fail(fmt.Errorf("datasets: %w", err))
	}
	if err := fn(f); err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return fail(err)
		}
		return fail(fmt.Errorf("datasets: write %s: %w", path, err))
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("datasets: %w", err)
	}
	return tmp, nil
}

// writeFile writes path through fn atomically ([writeFileAtomic]): a
// reader, or a run interrupted while writing, never leaves half a file
// under path.
func writeFile(path string, fn func(io.Writer) error) error { return writeFileAtomic(path, fn) }

// LoadDir reads a dataset directory written by [WriteDir] (or `bench gen`)
// for the named dataset into a new closed log of cfg.Partitions partitions,
// partitioned as the generator partitions (by its key column, or round
// robin in file order), with ingest times from the log's clock at load and
// [Log.EventTimeShift] set from the first record. It returns the lookup
// tables read from the directory.
func LoadDir(ctx context.Context, dir, name string, cfg Config) (*Log, map[string]*dataflow.Table, error) {
	gen, err := Lookup(name)
	if err != nil {
		return nil, nil, err
	}
	l, err := NewLogFor(gen, cfg)
	if err != nil {
		return nil, nil, err
	}
	s := gen.Schema()
	key := -1
	if k := gen.PartitionKey(); k != "" {
		key = s.Index(k)
	}
	tcol := s.Index("event_time")
	a := l.Appender()
	parts := l.Partitions()
	var n int64
	var ingest int64
	err = ScanParquet(filepath.Join(dir, EventsFile), s, func(row dataflow.Row) error {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			ingest = l.Now()
			if n > 0 && n%fastFlushEvery == 0 {
				if err := a.Flush(); err != nil {
					return err
				}
			}
		}
		p := int(n % int64(parts))
		if key >= 0 {
			p = int(partitionOf(row[key], parts))
		}
		if n == 0 {
			l.SetEventTimeShift(dataflow.FloorDiv(ingest, 1e6) - row[tcol].I)
		}
		a.AppendRow(p, ingest, row)
		n++
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("datasets: load %s from %s: %w", name, dir, err)
	}
	if err := a.Flush(); err != nil {
		return nil, nil, err
	}
	l.Close()
	tables := map[string]*dataflow.Table{}
	for tn, t := range gen.Tables(cfg.Seed) {
		rows, err := ReadParquetRows(filepath.Join(dir, tn+".parquet"), t.Schema)
		if err != nil {
			return nil, nil, fmt.Errorf("datasets: load %s table %s from %s: %w", name, tn, dir, err)
		}
		tables[tn] = &dataflow.Table{Name: tn, Schema: t.Schema, Rows: rows}
	}
	return l, tables, nil
}
