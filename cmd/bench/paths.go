package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/weirlab/weir/compare"
	"github.com/weirlab/weir/datasets"
)

// The output paths of a command are checked before its work starts, so a
// path that cannot be written is exit 2 naming the flag, not exit 1 after
// minutes of work. A file is written into an existing directory (a
// temporary file beside it, renamed into place); a directory is created
// with its parents when missing.

// checkFileOut checks that a file can be written at path: its directory
// exists, is a directory and takes a new file, and path is not a directory.
func checkFileOut(path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return errors.New("is a directory; name a file")
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case err == nil && !st.IsDir():
		return fmt.Errorf("%s is a file, not a directory", dir)
	case err == nil:
		return probeWrite(dir)
	}
	if file := fileAncestor(dir); file != "" {
		return fmt.Errorf("%s is a file, not a directory", file)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("directory %s does not exist; create it first", dir)
	}
	return fmt.Errorf("cannot use directory %s: %w", dir, err)
}

// checkDirOut checks that dir is a directory that takes new files, or can
// be created: its nearest existing ancestor is a directory that takes new
// ones.
func checkDirOut(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case err == nil && !st.IsDir():
		return errors.New("is a file, not a directory; name a directory")
	case err == nil:
		return probeWrite(dir)
	}
	if file := fileAncestor(dir); file != "" {
		return fmt.Errorf("%s is a file, not a directory", file)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cannot use it: %w", err)
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		if _, err := os.Stat(p); err == nil {
			return probeWrite(p)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// fileAncestor returns the nearest existing ancestor of path (path
// included) when it is a file, else "".
func fileAncestor(path string) string {
	for p := filepath.Clean(path); ; p = filepath.Dir(p) {
		if st, err := os.Stat(p); err == nil {
			if st.IsDir() {
				return ""
			}
			return p
		}
		if p == filepath.Dir(p) {
			return ""
		}
	}
}

// probeWrite checks that dir takes a new file by creating and removing one.
func probeWrite(dir string) error {
	f, err := os.CreateTemp(dir, ".bench-write-check-*")
	if err != nil {
		return fmt.Errorf("cannot write in %s: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// samePath reports whether a and b name the same file: the same file when
// both exist, else the same absolute path once the directory's symbolic
// links are resolved.
func samePath(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if sa, err := os.Stat(a); err == nil {
		if sb, err := os.Stat(b); err == nil {
			return os.SameFile(sa, sb)
		}
	}
	return resolved(a) == resolved(b)
}

func resolved(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	dir, base := filepath.Split(abs)
	if d, err := filepath.EvalSymlinks(dir); err == nil {
		return filepath.Join(d, base)
	}
	return abs
}

// outputFlag is one file output flag of a command and its value.
type outputFlag struct{ name, path string }

// checkOutputs checks each file output given (path not empty) with
// [checkFileOut], and that no two name the same file.
func checkOutputs(outs ...outputFlag) error {
	var given []outputFlag
	for _, o := range outs {
		if o.path == "" {
			continue
		}
		if err := checkFileOut(o.path); err != nil {
			return fmt.Errorf("--%s %s: %w", o.name, o.path, err)
		}
		for _, g := range given {
			if samePath(g.path, o.path) {
				return fmt.Errorf("--%s %s and --%s %s name the same file; give each its own", g.name, g.path, o.name, o.path)
			}
		}
		given = append(given, o)
	}
	return nil
}

// genReplaces returns the files of a dataset directory that bench gen
// would replace in dir (the events file and the table files), sorted, and
// the number of other entries it leaves.
func genReplaces(dir string, tables []string) (replaced []string, others int) {
	es, err := os.ReadDir(dir)
	if err != nil {
		return nil, 0
	}
	ours := map[string]bool{datasets.EventsFile: true}
	for _, t := range tables {
		ours[t+".parquet"] = true
	}
	for _, e := range es {
		if ours[e.Name()] {
			replaced = append(replaced, e.Name())
		} else {
			others++
		}
	}
	slices.Sort(replaced)
	return replaced, others
}

// genNotice is what bench gen says before writing into a non-empty
// directory: what it replaces and what it leaves; "" for an empty or new
// directory.
func genNotice(dir string, tables []string) string {
	replaced, others := genReplaces(dir, tables)
	var parts []string
	if len(replaced) > 0 {
		parts = append(parts, "replacing "+strings.Join(replaced, ", "))
	}
	if others > 0 {
		parts = append(parts, fmt.Sprintf("leaving %d other entries as they are", others))
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("%s is not empty: %s", dir, strings.Join(parts, "; "))
}

// writeFileAtomic writes data to path through a temporary file beside it,
// renamed into place: a reader never sees half a file, and a failed write
// leaves the previous one.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644) // CreateTemp makes 0600; a report is for any reader
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// checkGenOut checks bench gen's --out directory before generating, and
// says what writing into it replaces. It prints the problem and returns
// false when the directory cannot be used.
func checkGenOut(w *compare.Workload, dir string, seed uint64, stderr io.Writer) bool {
	if err := checkDirOut(dir); err != nil {
		fmt.Fprintf(stderr, "bench gen: --out %s: %v\n", dir, err)
		return false
	}
	var tables []string
	if gen, err := datasets.Lookup(w.Dataset); err == nil {
		for name := range gen.Tables(seed) {
			tables = append(tables, name)
		}
	}
	if msg := genNotice(dir, tables); msg != "" {
		fmt.Fprintf(stderr, "bench gen: %s\n", msg)
	}
	return true
}

// reportPathsProblem checks bench report's --out file and its figures'
// directory (--figures, or docs/figures beside the report) before the
// report is rendered; "" when both can be written.
func reportPathsProblem(out, figDir string, figuresGiven bool) string {
	if err := checkFileOut(out); err != nil {
		return fmt.Sprintf("--out %s: %v", out, err)
	}
	if err := checkDirOut(figDir); err != nil {
		if figuresGiven {
			return fmt.Sprintf("--figures %s: %v", figDir, err)
		}
		return fmt.Sprintf("the figures' directory %s (beside --out %s; choose another with --figures DIR): %v", figDir, out, err)
	}
	return ""
}

// printWarnings prints a run's warnings (compare.Summary.Warnings), each
// with the flag of the field it is about.
func printWarnings(w io.Writer, ws []compare.Warning) {
	flags := fieldFlags()
	for _, x := range ws {
		line := "warning: " + x.Message
		if fl := flags["compare."+x.Field]; fl != "" {
			line += " (flag " + fl + ")"
		}
		fmt.Fprintln(w, line)
	}
}
