package datasets

import (
	"bytes"
	"fmt"
	"os"

	"github.com/parquet-go/parquet-go"
)

// EncodeTable encodes rows (structs whose fields carry `parquet:"name"`
// tags) as a Parquet file, with meta as its key-value metadata (pairs of
// key and value, in order). It is how compare writes a suite's tidy result
// files; the caller writes the bytes (atomically).
func EncodeTable[T any](rows []T, meta [][2]string) ([]byte, error) {
	var opts []parquet.WriterOption
	for _, kv := range meta {
		opts = append(opts, parquet.KeyValueMetadata(kv[0], kv[1]))
	}
	var buf bytes.Buffer
	if err := parquet.Write(&buf, rows, opts...); err != nil {
		return nil, fmt.Errorf("datasets: encode table: %w", err)
	}
	return buf.Bytes(), nil
}

// ReadTable reads the rows of a Parquet file written by [EncodeTable].
func ReadTable[T any](path string) ([]T, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	rows, err := parquet.ReadFile[T](path)
	if err != nil {
		return nil, fmt.Errorf("datasets: %s: %w", path, err)
	}
	return rows, nil
}

// ReadTableMetadata returns the key-value metadata of a Parquet file.
func ReadTableMetadata(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("datasets: %s: %w", path, err)
	}
	out := map[string]string{}
	for _, kv := range pf.Metadata().KeyValueMetadata {
		out[kv.Key] = kv.Value
	}
	return out, nil
}
