package lint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/weirlab/weir"

// pkg is the part of `go list -json` output the rules read.
type pkg struct {
	ImportPath   string
	Dir          string
	Standard     bool
	Imports      []string
	Deps         []string
	TestImports  []string
	XTestImports []string
	GoFiles      []string
	DepOnly      bool
	Error        *struct{ Err string }
}

// listPackages runs `go list -e -deps -json` over the module.
func listPackages(t *testing.T) map[string]*pkg {
	t.Helper()
	goBin := "go"
	if root := os.Getenv("GOROOT"); root != "" {
		if p := filepath.Join(root, "bin", "go"); fileExists(p) {
			goBin = p
		}
	}
	cmd := exec.Command(goBin, "list", "-e", "-deps", "-json", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "go list: %s", stderr.String())
	pkgs := map[string]*pkg{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else {
			require.NoError(t, err)
		}
		pkgs[p.ImportPath] = &p
	}
	return pkgs
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// ours returns the module's own packages (not only dependencies), sorted.
func ours(pkgs map[string]*pkg) []*pkg {
	var out []*pkg
	for _, p := range pkgs {
		if !p.DepOnly && (p.ImportPath == module || strings.HasPrefix(p.ImportPath, module+"/")) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b *pkg) int { return strings.Compare(a.ImportPath, b.ImportPath) })
	return out
}

func under(path, dir string) bool {
	d := module + "/" + dir
	return path == d || strings.HasPrefix(path, d+"/")
}

func hasPrefixIn(list []string, prefix string) (string, bool) {
	for _, s := range list {
		if s == prefix || strings.HasPrefix(s, prefix+"/") {
			return s, true
		}
	}
	return "", false
}

// TestImportGraph enforces the package map of DESIGN.md and STYLE.md §3.
func TestImportGraph(t *testing.T) {
	pkgs := listPackages(t)
	require.NotEmpty(t, ours(pkgs), "go list found none of the module's packages")
	for _, p := range ours(pkgs) {
		if p.Error != nil {
			t.Logf("%s: go list: %s (the package is being edited?)", p.ImportPath, p.Error.Err)
		}
	}
	for _, v := range importViolations(pkgs) {
		t.Error(v)
	}
}

// TestImportRulesCatch checks each rule on a made-up graph, so a rule that
// silently stopped matching would show.
func TestImportRulesCatch(t *testing.T) {
	std := func(path string) *pkg { return &pkg{ImportPath: path, Standard: true, DepOnly: true} }
	dep := func(path string) *pkg { return &pkg{ImportPath: path, DepOnly: true} }
	pkgs := map[string]*pkg{
		"fmt":                                  std("fmt"),
		"github.com/apache/arrow/go/v17/arrow": dep("github.com/apache/arrow/go/v17/arrow"),
		"github.com/parquet-go/parquet-go":     dep("github.com/parquet-go/parquet-go"),
		module + "/dataflow": {ImportPath: module + "/dataflow", Imports: []string{"fmt", "github.com/parquet-go/parquet-go"},
			Deps: []string{"fmt", "github.com/parquet-go/parquet-go"}},
		module + "/recordstream": {ImportPath: module + "/recordstream", Imports: []string{module + "/datasets"},
			Deps: []string{module + "/datasets", "github.com/apache/arrow/go/v17/arrow", module + "/microbatch"}},
		module + "/microbatch":   {ImportPath: module + "/microbatch", Deps: []string{module + "/recordstream/checkpoint"}},
		module + "/datasets":     {ImportPath: module + "/datasets", Imports: []string{"github.com/parquet-go/parquet-go"}},
		module + "/notebooks":    {ImportPath: module + "/notebooks", Imports: []string{module + "/compare"}},
		module + "/microbatch/x": {ImportPath: module + "/microbatch/x", XTestImports: []string{module + "/compare"}},
		module + "/cmd/bench":    {ImportPath: module + "/cmd/bench", Imports: []string{module + "/compare"}},
		module + "/internal/snapshot": {ImportPath: module + "/internal/snapshot", Imports: []string{module + "/dataflow/wire"},
			Deps: []string{"fmt", module + "/dataflow/wire"}},
		module + "/dataflow/wire": {ImportPath: module + "/dataflow/wire", Imports: []string{module + "/dataflow"},
			Deps: []string{"fmt", module + "/dataflow"}},
	}
	got := strings.Join(importViolations(pkgs), "\n")
	for _, want := range []string{
		"dataflow depends on github.com/parquet-go/parquet-go: dataflow may import only the standard library",
		"dataflow imports github.com/parquet-go/parquet-go: only datasets may import parquet-go",
		"recordstream depends on github.com/apache/arrow/go/v17/arrow",
		"recordstream depends on " + module + "/microbatch",
		"microbatch depends on " + module + "/recordstream/checkpoint",
		"notebooks imports compare",
		"internal/snapshot depends on " + module + "/dataflow/wire: it may import only the standard library",
		"dataflow/wire depends on " + module + "/dataflow: it may import only the standard library",
	} {
		require.Contains(t, got, want)
	}
	require.NotContains(t, got, "cmd/bench imports")
	require.NotContains(t, got, "microbatch/x imports", "tests may use compare's workloads")
	require.NotContains(t, got, "datasets imports")
}

// importViolations applies the import rules to a `go list -deps` graph.
func importViolations(pkgs map[string]*pkg) []string {
	var out []string
	errorf := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	for _, p := range ours(pkgs) {
		path := p.ImportPath
		switch {
		case under(path, "dataflow"):
			// dataflow imports only the standard library (directly or not).
			for _, d := range p.Deps {
				if dp, ok := pkgs[d]; ok && !dp.Standard && !under(d, "dataflow") {
					errorf("%s depends on %s: dataflow may import only the standard library", path, d)
				}
			}
		case under(path, "recordstream"):
			// The record-at-a-time model gets no columnar help.
			if d, ok := hasPrefixIn(p.Deps, "github.com/apache/arrow"); ok {
				errorf("%s depends on %s: recordstream must not import Arrow, directly or through another package", path, d)
			}
			if d, ok := hasPrefixIn(p.Deps, module+"/microbatch"); ok {
				errorf("%s depends on %s: recordstream must not import microbatch", path, d)
			}
			if d, ok := hasPrefixIn(slices.Concat(p.TestImports, p.XTestImports), "github.com/apache/arrow"); ok {
				errorf("%s tests import %s: recordstream must not use Arrow", path, d)
			}
		case under(path, "microbatch"):
			if d, ok := hasPrefixIn(p.Deps, module+"/recordstream"); ok {
				errorf("%s depends on %s: microbatch must not import recordstream", path, d)
			}
		}
		// The shared snapshot store and the binary encoding sit below both
		// runtimes and dataflow: the standard library only.
		if under(path, "internal/snapshot") || under(path, "dataflow/wire") {
			for _, d := range p.Deps {
				if dp, ok := pkgs[d]; ok && !dp.Standard {
					errorf("%s depends on %s: it may import only the standard library", path, d)
				}
			}
		}
		// Only datasets reads and writes Parquet.
		if !under(path, "datasets") {
			if d, ok := hasPrefixIn(slices.Concat(p.Imports, p.TestImports, p.XTestImports), "github.com/parquet-go/parquet-go"); ok {
				errorf("%s imports %s: only datasets may import parquet-go; use datasets' readers and writers", path, d)
			}
		}
		// compare is the harness: only the CLI builds on it. Tests may use
		// its named workloads (benchmarks through the adapters).
		if !under(path, "cmd/bench") && !under(path, "compare") {
			if _, ok := hasPrefixIn(p.Imports, module+"/compare"); ok {
				errorf("%s imports compare: only cmd/bench may", path)
			}
		}
	}
	return out
}

// TestNoGrabBagPackages enforces STYLE.md: no util, common, helpers or
// types packages.
func TestNoGrabBagPackages(t *testing.T) {
	for _, p := range ours(listPackages(t)) {
		switch filepath.Base(p.ImportPath) {
		case "util", "utils", "common", "helpers", "types", "misc":
			t.Errorf("package %s: name a package after what it provides, not util/common/helpers/types", p.ImportPath)
		}
	}
}

// TestNoInit enforces STYLE.md: no init() functions (no registration, no
// globals written at start) in non-test code.
func TestNoInit(t *testing.T) {
	fset := token.NewFileSet()
	for _, p := range ours(listPackages(t)) {
		for _, name := range p.GoFiles {
			file := filepath.Join(p.Dir, name)
			f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Logf("%s: %v (being edited?)", file, err)
				continue
			}
			for _, d := range f.Decls {
				if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil && fn.Name.Name == "init" {
					t.Errorf("%s: func init: build what you need in a constructor or a function instead", fset.Position(fn.Pos()))
				}
			}
		}
	}
}
