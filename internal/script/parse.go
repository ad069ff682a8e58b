package script

import (
	"fmt"
	"strings"
)

// separator ends a command's input and starts its expected output.
const separator = "----"

// testCase is one parsed case with the lines its expected output occupies,
// so that -update can replace just those.
type testCase struct {
	cmd  Cmd
	want string // expected output, each line ending in "\n"
	got  string // actual output, filled by runFile
	// The expected output is lines [outStart, outEnd) of the file (for a
	// double-separator output, including the separators after the first
	// `----`).
	outStart, outEnd int
}

// parse splits a script file into its cases. Errors name the file and line.
func parse(path, text string) ([]testCase, error) {
	lines := strings.Split(text, "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1] // a final newline ends the last line
	}
	var cases []testCase
	i := 0
	for i < len(lines) {
		line := strings.TrimSpace(lines[i])
		if line == "" || strings.HasPrefix(line, "#") {
			i++
			continue
		}
		pos := fmt.Sprintf("%s:%d", path, i+1)
		name, args, err := parseCommand(line)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", pos, err)
		}
		c := testCase{cmd: Cmd{Name: name, Args: args, Pos: pos}}
		i++
		var input []string
		for i < len(lines) && lines[i] != separator {
			input = append(input, lines[i])
			i++
		}
		if i == len(lines) {
			return nil, fmt.Errorf("%s: %s: no %q line after the command", pos, name, separator)
		}
		c.cmd.Input = strings.Join(input, "\n")
		i++ // the separator
		c.outStart = i
		var want []string
		if i < len(lines) && lines[i] == separator {
			// Double separator: the output runs to a `----` `----` pair.
			i++
			for {
				if i+1 >= len(lines) {
					return nil, fmt.Errorf("%s: %s: output opened with a double %q is not closed by one", pos, name, separator)
				}
				if lines[i] == separator && lines[i+1] == separator {
					i += 2
					break
				}
				want = append(want, lines[i])
				i++
			}
		} else {
			for i < len(lines) && lines[i] != "" {
				want = append(want, lines[i])
				i++
			}
		}
		c.outEnd = i
		if len(want) > 0 {
			c.want = strings.Join(want, "\n") + "\n"
		}
		cases = append(cases, c)
	}
	return cases, nil
}

// parseCommand splits a command line into its name and arguments.
func parseCommand(line string) (string, []Arg, error) {
	name, rest, _ := strings.Cut(line, " ")
	var args []Arg
	for {
		rest = strings.TrimLeft(rest, " \t")
		if rest == "" {
			return name, args, nil
		}
		end := strings.IndexAny(rest, " \t=")
		if end < 0 {
			end = len(rest)
		}
		a := Arg{Key: rest[:end]}
		rest = rest[end:]
		if strings.HasPrefix(rest, "=") {
			rest = rest[1:]
			if strings.HasPrefix(rest, "(") {
				closing := strings.IndexByte(rest, ')')
				if closing < 0 {
					return "", nil, fmt.Errorf("argument %s=%s: no closing parenthesis", a.Key, rest)
				}
				for v := range strings.SplitSeq(rest[1:closing], ",") {
					a.Vals = append(a.Vals, strings.TrimSpace(v))
				}
				rest = rest[closing+1:]
			} else {
				end := strings.IndexAny(rest, " \t")
				if end < 0 {
					end = len(rest)
				}
				a.Vals = []string{rest[:end]}
				rest = rest[end:]
			}
		}
		if a.Key == "" {
			return "", nil, fmt.Errorf("an argument without a key in %q", line)
		}
		args = append(args, a)
	}
}

// rewriteFile returns text with each case's expected output replaced by its
// actual output; everything else is kept as written.
func rewriteFile(text string, cases []testCase) string {
	lines := strings.Split(text, "\n")
	finalNewline := len(lines) > 0 && lines[len(lines)-1] == ""
	if finalNewline {
		lines = lines[:len(lines)-1]
	}
	var b strings.Builder
	next := 0
	for _, c := range cases {
		for _, l := range lines[next:c.outStart] {
			b.WriteString(l + "\n")
		}
		if strings.Contains("\n"+c.got, "\n\n") || strings.HasPrefix(c.got, separator+"\n") {
			// A blank line would end the output early, and a leading
			// separator would read as a fence: fence it.
			b.WriteString(separator + "\n" + c.got + separator + "\n" + separator + "\n")
		} else {
			b.WriteString(c.got)
		}
		next = c.outEnd
	}
	for _, l := range lines[next:] {
		b.WriteString(l + "\n")
	}
	out := b.String()
	if !finalNewline {
		out = strings.TrimSuffix(out, "\n")
	}
	return out
}
