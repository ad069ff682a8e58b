package script

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// update is the -update flag: rewrite the files with the actual output. See
// the package doc for why it is a package-level variable.
var update = flag.Bool("update", false, "script: rewrite testdata files with the actual output")

// Cmd is one case of a script file: a command line, its input and (to the
// harness) its expected output.
type Cmd struct {
	// Name is the first word of the command line.
	Name string
	// Args are the command's arguments in the order written.
	Args []Arg
	// Input is the lines between the command and the `----` line, joined
	// by newlines, without a final newline; empty when there are none.
	Input string
	// Pos is "file:line" of the command line, for messages.
	Pos string
}

// Arg is one argument of a command: `key` (no values), `key=val` (one) or
// `key=(a,b)` (a list, each value trimmed of spaces).
type Arg struct {
	Key  string
	Vals []string
}

// Arg returns the value of the argument key and whether the command has it.
// A bare `key` gives "" and a list `key=(a,b)` its values joined by commas
// ("a,b"); for the list itself read c.Args.
func (c *Cmd) Arg(key string) (string, bool) {
	for _, a := range c.Args {
		if a.Key == key {
			return strings.Join(a.Vals, ","), true
		}
	}
	return "", false
}

// Int returns the argument key as an int, failing the test (at c.Pos) when
// the command lacks it or it is not a decimal integer.
func (c *Cmd) Int(t *testing.T, key string) int {
	t.Helper()
	s, ok := c.Arg(key)
	if !ok {
		t.Fatalf("%s: %s: missing argument %s=", c.Pos, c.Name, key)
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%s: %s: argument %s=%q is not an integer", c.Pos, c.Name, key, s)
	}
	return n
}

// String formats the command line as it would be written in a file.
func (c *Cmd) String() string {
	var b strings.Builder
	b.WriteString(c.Name)
	for _, a := range c.Args {
		b.WriteByte(' ')
		b.WriteString(a.Key)
		switch len(a.Vals) {
		case 0:
		case 1:
			b.WriteByte('=')
			b.WriteString(a.Vals[0])
		default:
			b.WriteString("=(" + strings.Join(a.Vals, ",") + ")")
		}
	}
	return b.String()
}

// RunFile runs the cases of the file at path in order: f gets each command
// and returns its output, which must equal the case's expected output. With
// -update the file is rewritten with the actual outputs instead.
func RunFile(t *testing.T, path string, f func(t *testing.T, c *Cmd) string) {
	t.Helper()
	runFile(t, t, path, *update, f)
}

// Walk runs every .txt file under dir (recursively, in lexical order) as a
// subtest named after its path relative to dir, with RunFile. It fails the
// test when dir holds no .txt file, so a misspelt directory does not pass.
func Walk(t *testing.T, dir string, f func(t *testing.T, c *Cmd) string) {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".txt") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("script: walk %s: %v", dir, err)
	}
	if len(files) == 0 {
		t.Fatalf("script: no .txt files under %s", dir)
	}
	slices.Sort(files)
	for _, path := range files {
		name, err := filepath.Rel(dir, path)
		if err != nil {
			name = path
		}
		t.Run(strings.TrimSuffix(filepath.ToSlash(name), ".txt"), func(t *testing.T) {
			t.Helper()
			RunFile(t, path, f)
		})
	}
}

// reporter is where mismatches and file errors go: the test itself, or a
// recorder in the harness's own tests.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// runFile is RunFile with the reporter and the update mode passed in.
func runFile(t *testing.T, r reporter, path string, rewrite bool, f func(t *testing.T, c *Cmd) string) {
	r.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		r.Fatalf("script: %v", err)
		return
	}
	cases, err := parse(path, string(data))
	if err != nil {
		r.Fatalf("script: %v", err)
		return
	}
	for i := range cases {
		c := &cases[i]
		got := normalize(f(t, &c.cmd))
		c.got = got
		if !rewrite && got != c.want {
			r.Errorf("%s: %s: output differs\ngot:\n%swant:\n%s", c.cmd.Pos, c.cmd.String(), got, c.want)
		}
	}
	if rewrite {
		out := rewriteFile(string(data), cases)
		if out != string(data) {
			if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
				r.Fatalf("script: %v", err)
			}
		}
	}
}

// normalize gives a non-empty output a final newline, as expected outputs
// are stored.
func normalize(s string) string {
	if s != "" && !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return s
}
