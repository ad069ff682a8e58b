//go:build !student

package labs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exercises returns the labs: the directories holding an exercise.go.
func exercises(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("*", "exercise.go"))
	require.NoError(t, err)
	var dirs []string
	for _, f := range files {
		dirs = append(dirs, filepath.Dir(f))
	}
	require.GreaterOrEqual(t, len(dirs), 4, "labs: want at least four exercises, found %v", dirs)
	return dirs
}

// goTool returns the go command: $GOROOT/bin/go (go test sets GOROOT for
// the binaries it runs), else the one on PATH.
func goTool(t *testing.T) string {
	t.Helper()
	if root := os.Getenv("GOROOT"); root != "" {
		p := filepath.Join(root, "bin", "go")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p, err := exec.LookPath("go")
	require.NoError(t, err, "labs: the grading test needs the go command (set GOROOT or put go on PATH)")
	return p
}

// testEvent is one line of `go test -json`.
type testEvent struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// TestSkeletonsFail runs every lab's tests against its unfilled skeleton
// (-tags student): every graded test must fail, and every TestHarness test
// (the lab's fixtures) must pass, so a failure is the skeleton's and not a
// broken fixture's. A lab whose package does not build under the tag
// fails this test.
func TestSkeletonsFail(t *testing.T) {
	dirs := exercises(t)
	// -vet=off: go vet -tags student is CI's job; here only the
	// outcomes matter, and vet would double the time.
	args := []string{"test", "-tags", "student", "-count=1", "-vet=off", "-json"}
	for _, d := range dirs {
		args = append(args, "./"+d+"/")
	}
	cmd := exec.CommandContext(t.Context(), goTool(t), args...)
	cmd.Env = append(os.Environ(), "GOFLAGS=") // no -race, no tags from outside
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.Error(t, err, "go test -tags student passed on the skeletons:\n%s", out)

	results := map[string]map[string]string{} // package dir -> top-level test -> pass/fail
	pkgAction := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var e testEvent
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue
		}
		dir := filepath.Base(e.Package)
		if e.Action != "pass" && e.Action != "fail" {
			continue
		}
		if e.Test == "" {
			pkgAction[dir] = e.Action
			continue
		}
		if strings.Contains(e.Test, "/") {
			continue
		}
		if results[dir] == nil {
			results[dir] = map[string]string{}
		}
		results[dir][e.Test] = e.Action
	}
	for _, d := range dirs {
		tests := results[d]
		if !assert.NotEmpty(t, tests, "labs/%s: no test ran under -tags student (does the skeleton build?):\n%s", d, stderr.String()) {
			continue
		}
		assert.Equal(t, "fail", pkgAction[d], "labs/%s under -tags student", d)
		graded := 0
		for name, action := range tests {
			if strings.HasPrefix(name, "TestHarness") {
				assert.Equal(t, "pass", action, "labs/%s: %s checks only the lab's fixtures and must pass on the skeleton", d, name)
				continue
			}
			graded++
			assert.Equal(t, "fail", action, "labs/%s: %s passes on the skeleton, so it grades nothing; if you filled in exercise.go, restore the skeleton (git checkout labs/%s/exercise.go) before committing", d, name, d)
		}
		assert.Positive(t, graded, "labs/%s has no graded test", d)
	}
}

// api returns the exported declarations of a file: funcs and methods with
// their signatures, and type names.
func api(t *testing.T, path string) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	require.NoError(t, err)
	var out []string
	sig := func(n ast.Node) string {
		var b bytes.Buffer
		require.NoError(t, printer.Fprint(&b, fset, n))
		return b.String()
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() {
				continue
			}
			name := d.Name.Name
			if d.Recv != nil {
				name = sig(d.Recv.List[0].Type) + "." + name
			}
			out = append(out, "func "+name+sig(d.Type)[len("func"):])
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					if s.Name.IsExported() {
						out = append(out, "type "+s.Name.Name)
					}
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if n.IsExported() {
							out = append(out, "value "+n.Name)
						}
					}
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestSkeletonMatchesSolution: a lab's exercise.go and solution.go
// declare the same exported names with the same signatures, and carry
// opposite build tags, so the tests compile against either.
func TestSkeletonMatchesSolution(t *testing.T) {
	for _, d := range exercises(t) {
		ex, sol := filepath.Join(d, "exercise.go"), filepath.Join(d, "solution.go")
		assert.Equal(t, api(t, sol), api(t, ex), "labs/%s: exported API of exercise.go (right) and solution.go (left)", d)
		for file, tag := range map[string]string{ex: "//go:build student\n", sol: "//go:build !student\n"} {
			b, err := os.ReadFile(file)
			require.NoError(t, err)
			assert.True(t, bytes.HasPrefix(b, []byte(tag)), "%s must begin with %q", file, tag)
		}
		_, err := os.Stat(filepath.Join(d, "README.md"))
		assert.NoError(t, err, "labs/%s needs a README.md", d)
	}
}
