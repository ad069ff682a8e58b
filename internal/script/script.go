// Package script runs script-style golden tests (raft's datadriven format):
// a test file in testdata/ is a sequence of commands, each with the output
// expected from it, so a new case is a text edit and the expected output is
// regenerated rather than typed.
//
// # File format
//
//	# A comment line; blank lines separate cases.
//	barrier ch=1 id=3 late
//	optional input lines
//	----
//	expected output,
//	up to the next blank line
//
// A command line is a name and arguments: key=value, key=(v1,v2) for
// several values, or a bare key with none. An output that holds blank lines
// is written between two double separators:
//
//	cmd
//	----
//	----
//	output with
//
//	a blank line
//	----
//	----
//
// # Usage
//
//	func TestGate(t *testing.T) {
//		script.Walk(t, "testdata/gate", func(t *testing.T, path string) {
//			g := newHarness() // fresh state per file
//			script.RunFile(t, path, func(t *testing.T, c *script.Cmd) string {
//				return g.run(t, c)
//			})
//		})
//	}
//
// [RunFile] calls f for each command in file order, on the test's goroutine,
// and compares what f returns with the expected output. With
// `go test -update` it writes the outputs into the file instead (comments,
// commands and inputs stay as they were); review the diff like code.
//
// The package owns the -update flag: a test package that uses it must not
// define its own. It is for tests only and imports nothing but the standard
// library and testing.
package script

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the expected output of script tests in testdata")

// Cmd is one command of a script file.
type Cmd struct {
	// Name is the command's first word.
	Name string
	// Args are the command's arguments, in order.
	Args []Arg
	// Input is the text between the command line and the separator, with
	// a final newline when not empty.
	Input string
	// Pos is where the command is, "file:line", for messages.
	Pos string
}

// Arg is one argument of a command: key=value has one value, key=(a,b)
// several, a bare key none.
type Arg struct {
	Key  string
	Vals []string
}

// Arg returns the first value of the argument key, and whether the command
// has that argument (a bare key has the value "").
func (c *Cmd) Arg(key string) (string, bool) {
	for _, a := range c.Args {
		if a.Key == key {
			if len(a.Vals) == 0 {
				return "", true
			}
			return a.Vals[0], true
		}
	}
	return "", false
}

// Int returns the argument key as an integer; a missing or malformed one
// fails the test.
func (c *Cmd) Int(t testing.TB, key string) int {
	t.Helper()
	v, ok := c.Arg(key)
	if !ok {
		t.Fatalf("%s: %s: missing argument %s", c.Pos, c.Name, key)
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s: %s: argument %s: %v", c.Pos, c.Name, key, err)
	}
	return n
}

// Walk runs f as a subtest, named after the file, for every .txt file in
// dir, in name order. A dir without any fails the test.
func Walk(t *testing.T, dir string, f func(t *testing.T, path string)) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("script: no .txt files in %s", dir)
	}
	slices.Sort(paths)
	for _, p := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(p), ".txt"), func(t *testing.T) { f(t, p) })
	}
}

// RunFile runs the commands of the script file at path through f and
// checks each output against the file (or, with -update, writes it there).
func RunFile(t *testing.T, path string, f func(t *testing.T, c *Cmd) string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	cases, err := parse(path, lines)
	if err != nil {
		t.Fatal(err)
	}
	var outs []string
	for _, cs := range cases {
		got := f(t, &cs.cmd)
		if got != "" && !strings.HasSuffix(got, "\n") {
			got += "\n"
		}
		outs = append(outs, got)
		if !*update && got != cs.want {
			t.Errorf("%s: %s\ngot:\n%swant:\n%s", cs.cmd.Pos, cs.line, got, cs.want)
		}
	}
	if !*update {
		return
	}
	if err := os.WriteFile(path, []byte(rewrite(lines, cases, outs)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// scriptCase is one command of a file and where its expected output is.
type scriptCase struct {
	cmd  Cmd
	line string // the command line as written
	want string
	// sep and end delimit the separator and the expected output in the
	// file's lines, [sep, end), for -update.
	sep, end int
}

const separator = "----"

func parse(path string, lines []string) ([]scriptCase, error) {
	var cases []scriptCase
	for i := 0; i < len(lines); {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "#") {
			i++
			continue
		}
		pos := fmt.Sprintf("%s:%d", path, i+1)
		cmd, err := parseLine(l)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", pos, err)
		}
		cmd.Pos = pos
		cs := scriptCase{line: l}
		i++
		var input []string
		for i < len(lines) && lines[i] != separator {
			input = append(input, lines[i])
			i++
		}
		if i == len(lines) {
			return nil, fmt.Errorf("%s: %s: no %q after the command", pos, cmd.Name, separator)
		}
		cmd.Input = joinLines(input)
		cs.sep = i
		i++
		var out []string
		if i < len(lines) && lines[i] == separator { // double separator: output may hold blank lines
			i++
			for i < len(lines) && (lines[i] != separator || i+1 >= len(lines) || lines[i+1] != separator) {
				out = append(out, lines[i])
				i++
			}
			if i == len(lines) {
				return nil, fmt.Errorf("%s: %s: output not closed by two %q lines", pos, cmd.Name, separator)
			}
			i += 2
		} else {
			for i < len(lines) && lines[i] != "" {
				out = append(out, lines[i])
				i++
			}
		}
		cs.end = i
		cs.want = joinLines(out)
		cs.cmd = cmd
		cases = append(cases, cs)
	}
	return cases, nil
}

func joinLines(ls []string) string {
	if len(ls) == 0 {
		return ""
	}
	return strings.Join(ls, "\n") + "\n"
}

// parseLine splits a command line into its name and arguments.
func parseLine(l string) (Cmd, error) {
	var c Cmd
	fields, err := splitFields(l)
	if err != nil {
		return c, err
	}
	c.Name = fields[0]
	for _, f := range fields[1:] {
		key, val, ok := strings.Cut(f, "=")
		a := Arg{Key: key}
		switch {
		case !ok:
		case strings.HasPrefix(val, "("):
			if !strings.HasSuffix(val, ")") {
				return c, fmt.Errorf("argument %s: unclosed %q", key, "(")
			}
			if inner := val[1 : len(val)-1]; inner != "" {
				a.Vals = strings.Split(inner, ",")
			}
		default:
			a.Vals = []string{val}
		}
		c.Args = append(c.Args, a)
	}
	return c, nil
}

// splitFields splits on spaces outside parentheses, so key=(a, b) is one
// field.
func splitFields(l string) ([]string, error) {
	var fields []string
	depth, start := 0, -1
	for i, r := range l {
		switch {
		case r == '(':
			depth++
		case r == ')':
			depth--
			if depth < 0 {
				return nil, fmt.Errorf("unbalanced %q in %q", ")", l)
			}
		case r == ' ' || r == '\t':
			if depth == 0 {
				if start >= 0 {
					fields = append(fields, l[start:i])
				}
				start = -1
				continue
			}
		}
		if start < 0 {
			start = i
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("unbalanced %q in %q", "(", l)
	}
	if start >= 0 {
		fields = append(fields, l[start:])
	}
	for i, f := range fields {
		fields[i] = strings.ReplaceAll(f, " ", "")
	}
	return fields, nil
}

// rewrite returns the file with each case's expected output replaced by
// outs[i]; everything else stays as it was.
func rewrite(lines []string, cases []scriptCase, outs []string) string {
	var b strings.Builder
	prev := 0
	for i, cs := range cases {
		b.WriteString(joinLines(lines[prev:cs.sep]))
		b.WriteString(separator + "\n")
		if strings.Contains(outs[i], "\n\n") || strings.HasPrefix(outs[i], "\n") {
			b.WriteString(separator + "\n" + outs[i] + separator + "\n" + separator + "\n")
		} else {
			b.WriteString(outs[i])
		}
		prev = cs.end
	}
	rest := lines[prev:]
	b.WriteString(strings.Join(rest, "\n"))
	return b.String()
}
