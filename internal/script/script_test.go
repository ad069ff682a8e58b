package script

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sample = `# a comment
add a=1 b=(2,3) verbose
x
y
----
6

noop
----

multi
----
----
one

two
----
----
`

func TestParse(t *testing.T) {
	cases, err := parse("f.txt", strings.Split(sample, "\n"))
	require.NoError(t, err)
	require.Len(t, cases, 3)

	c := cases[0].cmd
	assert.Equal(t, "add", c.Name)
	assert.Equal(t, []Arg{{Key: "a", Vals: []string{"1"}}, {Key: "b", Vals: []string{"2", "3"}}, {Key: "verbose"}}, c.Args)
	assert.Equal(t, "x\ny\n", c.Input)
	assert.Equal(t, "f.txt:2", c.Pos)
	assert.Equal(t, "6\n", cases[0].want)
	v, ok := c.Arg("b")
	assert.True(t, ok)
	assert.Equal(t, "2", v, "Arg(b) is the first value")
	_, ok = c.Arg("verbose")
	assert.True(t, ok, "a bare key is present")
	_, ok = c.Arg("c")
	assert.False(t, ok)
	assert.Equal(t, 1, c.Int(t, "a"))

	assert.Equal(t, "noop", cases[1].cmd.Name)
	assert.Empty(t, cases[1].cmd.Input)
	assert.Empty(t, cases[1].want)
	assert.Equal(t, "f.txt:8", cases[1].cmd.Pos)

	assert.Equal(t, "one\n\ntwo\n", cases[2].want, "double separators keep blank lines")
}

func TestParseErrors(t *testing.T) {
	for _, src := range []string{
		"cmd\nno separator\n",
		"cmd a=(1,2\n----\n",
		"cmd a=1)\n----\n",
		"cmd\n----\n----\nnot closed\n",
	} {
		_, err := parse("f.txt", strings.Split(src, "\n"))
		assert.Error(t, err, "parse(%q)", src)
	}
}

func TestSplitFieldsKeepsParenthesesTogether(t *testing.T) {
	got, err := splitFields("cmd  k=(a, b)\tz")
	require.NoError(t, err)
	assert.Equal(t, []string{"cmd", "k=(a,b)", "z"}, got)
}

func TestRewrite(t *testing.T) {
	lines := strings.Split(sample, "\n")
	cases, err := parse("f.txt", lines)
	require.NoError(t, err)
	got := rewrite(lines, cases, []string{"7\n", "now something\n", "no blank line\n"})
	want := `# a comment
add a=1 b=(2,3) verbose
x
y
----
7

noop
----
now something

multi
----
no blank line
`
	assert.Equal(t, want, got)
	outs := []string{"6\n", "", "one\n\ntwo\n"}
	assert.Equal(t, sample, rewrite(lines, cases, outs), "rewriting the expected outputs gives the file back")
}

func TestRunFileUpdateThenCheck(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.txt")
	require.NoError(t, os.WriteFile(path, []byte("echo v=hi\n----\nstale\n\necho v=(x,y)\n----\n"), 0o644))
	echo := func(t *testing.T, c *Cmd) string {
		v, _ := c.Arg("v")
		return v // RunFile adds the final newline
	}
	*update = true
	t.Cleanup(func() { *update = false })
	RunFile(t, path, echo)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "echo v=hi\n----\nhi\n\necho v=(x,y)\n----\nx\n", string(b))

	*update = false
	var names []string
	Walk(t, dir, func(t *testing.T, p string) {
		names = append(names, filepath.Base(p))
		RunFile(t, p, echo)
	})
	assert.Equal(t, []string{"a.txt"}, names)
}
