package script

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a reporter that keeps what the harness reports, so its own
// tests can assert mismatches without failing.
type recorder struct{ errors, fatals []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.fatals = append(r.fatals, fmt.Sprintf(format, args...))
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "case.txt")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	return path
}

const sample = `# A comment before the first case.
add key=a t=5 vals=(1, 2,3) flag
line one
line two
----
a: 6

# Between cases.
advance wm=10
----
fired a

empty
----

fenced
----
----
first

second
----
----
`

func TestParse(t *testing.T) {
	cases, err := parse("f.txt", sample)
	require.NoError(t, err)
	require.Len(t, cases, 4)

	add := cases[0]
	assert.Equal(t, "add", add.cmd.Name)
	assert.Equal(t, "f.txt:2", add.cmd.Pos)
	assert.Equal(t, []Arg{
		{Key: "key", Vals: []string{"a"}},
		{Key: "t", Vals: []string{"5"}},
		{Key: "vals", Vals: []string{"1", "2", "3"}},
		{Key: "flag"},
	}, add.cmd.Args)
	assert.Equal(t, "line one\nline two", add.cmd.Input)
	assert.Equal(t, "a: 6\n", add.want)
	assert.Equal(t, "add key=a t=5 vals=(1,2,3) flag", add.cmd.String())

	assert.Equal(t, "advance", cases[1].cmd.Name)
	assert.Equal(t, "f.txt:9", cases[1].cmd.Pos)
	assert.Empty(t, cases[1].cmd.Input)
	assert.Equal(t, "fired a\n", cases[1].want)

	assert.Equal(t, "empty", cases[2].cmd.Name)
	assert.Empty(t, cases[2].want)

	assert.Equal(t, "fenced", cases[3].cmd.Name)
	assert.Equal(t, "first\n\nsecond\n", cases[3].want)
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"no separator", "cmd a=1\ninput\n", "f.txt:1: cmd: no \"----\" line"},
		{"open list", "cmd a=(1,2\n----\n", "f.txt:1: argument a=(1,2: no closing parenthesis"},
		{"unclosed fence", "x\n----\n\ncmd\n----\n----\nout\n", "f.txt:4: cmd: output opened with a double"},
		{"no key", "cmd =1\n----\n", "f.txt:1: an argument without a key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse("f.txt", tc.text)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestCmdArgAndInt(t *testing.T) {
	c := &Cmd{Name: "add", Pos: "f.txt:3", Args: []Arg{
		{Key: "t", Vals: []string{"-5"}}, {Key: "vals", Vals: []string{"1", "2"}}, {Key: "flag"},
	}}
	v, ok := c.Arg("vals")
	assert.True(t, ok)
	assert.Equal(t, "1,2", v)
	v, ok = c.Arg("flag")
	assert.True(t, ok)
	assert.Empty(t, v)
	_, ok = c.Arg("missing")
	assert.False(t, ok)
	assert.Equal(t, -5, c.Int(t, "t"))
}

// echo answers every command with its name, arguments and input.
func echo(t *testing.T, c *Cmd) string {
	out := c.String() + "\n"
	if c.Input != "" {
		out += c.Input + "\n"
	}
	return out
}

func TestRunFileMatches(t *testing.T) {
	path := writeFile(t, "echo a=1\n----\necho a=1\n\necho b=(x,y)\nin\n----\necho b=(x,y)\nin\n")
	var r recorder
	var seen []string
	runFile(t, &r, path, false, func(t *testing.T, c *Cmd) string {
		seen = append(seen, c.Pos)
		return echo(t, c)
	})
	assert.Empty(t, r.errors)
	assert.Empty(t, r.fatals)
	assert.Equal(t, []string{path + ":1", path + ":5"}, seen, "every case runs once, in order")
}

func TestRunFileReportsMismatchAtFileLine(t *testing.T) {
	path := writeFile(t, "# header\necho a=1\n----\necho a=1\n\necho a=2\n----\nwrong\n")
	var r recorder
	runFile(t, &r, path, false, echo)
	require.Len(t, r.errors, 1, "one mismatch, and the other case still ran")
	assert.True(t, strings.HasPrefix(r.errors[0], path+":6: echo a=2: output differs"), r.errors[0])
	assert.Contains(t, r.errors[0], "got:\necho a=2\nwant:\nwrong\n")
}

func TestRunFileReportsBadFile(t *testing.T) {
	var r recorder
	runFile(t, &r, filepath.Join(t.TempDir(), "missing.txt"), false, echo)
	require.Len(t, r.fatals, 1)

	r = recorder{}
	runFile(t, &r, writeFile(t, "cmd\n"), false, echo)
	require.Len(t, r.fatals, 1)
	assert.Contains(t, r.fatals[0], "case.txt:1: cmd: no \"----\" line")
}

func TestUpdateRoundTrip(t *testing.T) {
	const before = `# Outputs to regenerate; comments and spacing stay.
echo a=1
----
stale
stale too

# An empty output gains text.
echo b=2
in
----

# Output with a blank line is fenced.
para
----
old
`
	const after = `# Outputs to regenerate; comments and spacing stay.
echo a=1
----
echo a=1

# An empty output gains text.
echo b=2
in
----
echo b=2
in

# Output with a blank line is fenced.
para
----
----
one

two
----
----
`
	path := writeFile(t, before)
	f := func(t *testing.T, c *Cmd) string {
		if c.Name == "para" {
			return "one\n\ntwo"
		}
		return echo(t, c)
	}
	var r recorder
	runFile(t, &r, path, true, f)
	require.Empty(t, r.errors, "update mode reports no mismatch")
	require.Empty(t, r.fatals)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, after, string(data))

	// The rewritten file now passes, and a second update changes nothing.
	runFile(t, &r, path, false, f)
	assert.Empty(t, r.errors)
	runFile(t, &r, path, true, f)
	data, err = os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, after, string(data))
}

func TestUpdateEmptiesAndUnfences(t *testing.T) {
	path := writeFile(t, "a\n----\n----\nx\n\ny\n----\n----\n\nb\n----\nold")
	var r recorder
	runFile(t, &r, path, true, func(t *testing.T, c *Cmd) string {
		if c.Name == "a" {
			return "flat"
		}
		return ""
	})
	require.Empty(t, r.fatals)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "a\n----\nflat\n\nb\n----", string(data), "the missing final newline stays missing")
}

func TestWalkRunsEveryFileAsSubtest(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "sub"), 0o755))
	for name, text := range map[string]string{
		"b.txt":     "echo x=1\n----\necho x=1\n",
		"a.txt":     "echo y=2\n----\necho y=2\n",
		"sub/c.txt": "echo z=3\n----\necho z=3\n",
		"notes.md":  "not a script",
	} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	var names []string
	Walk(t, dir, func(t *testing.T, c *Cmd) string {
		names = append(names, t.Name())
		return echo(t, c)
	})
	assert.Equal(t, []string{
		"TestWalkRunsEveryFileAsSubtest/a",
		"TestWalkRunsEveryFileAsSubtest/b",
		"TestWalkRunsEveryFileAsSubtest/sub/c",
	}, names)
}
