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
	"regexp"
	"slices"
	"strconv"
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
		module + "/dataflow": {ImportPath: module + "/dataflow", Imports: []string{"fmt", "github.com/parquet-go/parquet-go", module + "/internal/invariants"},
			Deps: []string{"fmt", "github.com/parquet-go/parquet-go", module + "/internal/invariants"}},
		module + "/dataflow/x": {ImportPath: module + "/dataflow/x", Imports: []string{module + "/dataflow", module + "/internal/metrics"},
			Deps: []string{module + "/dataflow", module + "/internal/invariants", module + "/internal/metrics"}},
		module + "/internal/invariants": {ImportPath: module + "/internal/invariants", Imports: []string{"fmt", module + "/internal/metrics"},
			Deps: []string{"fmt", module + "/internal/metrics"}},
		module + "/internal/metrics": {ImportPath: module + "/internal/metrics", Imports: []string{module + "/internal/script"}},
		module + "/internal/script":  {ImportPath: module + "/internal/script"},
		module + "/dataflow/y":       {ImportPath: module + "/dataflow/y", TestImports: []string{module + "/internal/script"}},
		module + "/recordstream": {ImportPath: module + "/recordstream", Imports: []string{module + "/datasets"},
			Deps: []string{module + "/datasets", "github.com/apache/arrow/go/v17/arrow", module + "/microbatch"}},
		module + "/recordstream/internal/acking": {ImportPath: module + "/recordstream/internal/acking",
			Deps: []string{"fmt", module + "/internal/invariants", module + "/internal/metrics"}},
		module + "/microbatch":   {ImportPath: module + "/microbatch", Deps: []string{module + "/recordstream/checkpoint"}},
		module + "/datasets":     {ImportPath: module + "/datasets", Imports: []string{"github.com/parquet-go/parquet-go"}},
		module + "/notebooks":    {ImportPath: module + "/notebooks", Imports: []string{module + "/compare"}},
		module + "/microbatch/x": {ImportPath: module + "/microbatch/x", XTestImports: []string{module + "/compare"}},
		module + "/cmd/bench":    {ImportPath: module + "/cmd/bench", Imports: []string{module + "/compare"}},
		module + "/internal/clock": {ImportPath: module + "/internal/clock", Imports: []string{"fmt", module + "/datasets"},
			Deps: []string{"fmt", module + "/datasets"}},
		module + "/internal/snapshot": {ImportPath: module + "/internal/snapshot", Imports: []string{module + "/dataflow/wire"},
			Deps: []string{"fmt", module + "/dataflow/wire"}},
		module + "/dataflow/wire": {ImportPath: module + "/dataflow/wire", Imports: []string{module + "/dataflow"},
			Deps: []string{"fmt", module + "/dataflow"}},
	}
	got := strings.Join(importViolations(pkgs), "\n")
	for _, want := range []string{
		"dataflow depends on github.com/parquet-go/parquet-go: dataflow may import only the standard library and internal/invariants",
		"dataflow/x depends on " + module + "/internal/metrics: dataflow may import only",
		"internal/invariants depends on " + module + "/internal/metrics: internal/invariants may import only the standard library",
		"dataflow imports github.com/parquet-go/parquet-go: only datasets may import parquet-go",
		"recordstream depends on github.com/apache/arrow/go/v17/arrow",
		"recordstream depends on " + module + "/microbatch",
		"microbatch depends on " + module + "/recordstream/checkpoint",
		"notebooks imports compare",
		"internal/clock depends on " + module + "/datasets: internal/clock may import only the standard library",
		"internal/metrics imports internal/script: only tests may",
		"recordstream/internal/acking depends on " + module + "/internal/metrics: recordstream's pure cores may import only",
		"internal/snapshot depends on " + module + "/dataflow/wire: it may import only the standard library",
		"dataflow/wire depends on " + module + "/dataflow: it may import only the standard library",
	} {
		require.Contains(t, got, want)
	}
	require.NotContains(t, got, "cmd/bench imports")
	require.NotContains(t, got, "microbatch/x imports", "tests may use compare's workloads")
	require.NotContains(t, got, "datasets imports")
	require.NotContains(t, got, "dataflow/y imports", "tests may use internal/script")
	require.NotContains(t, got, "depends on "+module+"/internal/invariants", "dataflow may use the debug assertions")
	require.NotContains(t, got, "dataflow/x depends on "+module+"/dataflow:", "dataflow's subpackages may use dataflow")
}

// importViolations applies the import rules to a `go list -deps` graph.
func importViolations(pkgs map[string]*pkg) []string {
	var out []string
	errorf := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	for _, p := range ours(pkgs) {
		path := p.ImportPath
		switch {
		case under(path, "dataflow"):
			// dataflow depends (directly or not) only on the standard
			// library, on dataflow/..., and on internal/invariants, which
			// is itself standard-library-only (the next case).
			for _, d := range p.Deps {
				if dp, ok := pkgs[d]; ok && !dp.Standard && !under(d, "dataflow") && !under(d, "internal/invariants") {
					errorf("%s depends on %s: dataflow may import only the standard library and internal/invariants", path, d)
				}
			}
		case under(path, "internal/invariants"):
			// dataflow builds on it, so it must stay standard-library-only.
			for _, d := range p.Deps {
				if dp, ok := pkgs[d]; ok && !dp.Standard {
					errorf("%s depends on %s: internal/invariants may import only the standard library", path, d)
				}
			}
		case under(path, "recordstream/internal"):
			// recordstream's pure cores (acker, rotating map, pending
			// tables): the standard library and the debug assertions only.
			for _, d := range p.Deps {
				if dp, ok := pkgs[d]; ok && !dp.Standard && !under(d, "internal/invariants") {
					errorf("%s depends on %s: recordstream's pure cores may import only the standard library and internal/invariants", path, d)
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
		case under(path, "internal/clock"):
			// The clock sits below everything that keeps time.
			for _, d := range p.Deps {
				if dp, ok := pkgs[d]; ok && !dp.Standard {
					errorf("%s depends on %s: internal/clock may import only the standard library", path, d)
				}
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
		// internal/script is a test harness (it imports testing and
		// registers -update): tests only.
		if !under(path, "internal/script") {
			if _, ok := hasPrefixIn(p.Imports, module+"/internal/script"); ok {
				errorf("%s imports internal/script: only tests may", path)
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

// eachGoFile parses the non-test Go files of the module's packages that
// keep says to look at, and hands each to fn with the file set that
// positions its nodes.
func eachGoFile(t *testing.T, keep func(p *pkg) bool, fn func(fset *token.FileSet, f *ast.File)) {
	t.Helper()
	fset := token.NewFileSet()
	for _, p := range ours(listPackages(t)) {
		if !keep(p) {
			continue
		}
		for _, name := range p.GoFiles {
			file := filepath.Join(p.Dir, name)
			f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Logf("%s: %v (being edited?)", file, err)
				continue
			}
			fn(fset, f)
		}
	}
}

// TestNoInit enforces STYLE.md: no init() functions (no registration, no
// globals written at start) in non-test code.
func TestNoInit(t *testing.T) {
	eachGoFile(t, func(*pkg) bool { return true }, func(fset *token.FileSet, f *ast.File) {
		for _, d := range f.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil && fn.Name.Name == "init" {
				t.Errorf("%s: func init: build what you need in a constructor or a function instead", fset.Position(fn.Pos()))
			}
		}
	})
}

// clockBound lists the packages that take processing time only from an
// injected internal/clock.Clock, and the time functions that read or wait
// on the wall clock behind the Clock's back.
var (
	clockBound   = []string{"microbatch", "datasets", "recordstream"}
	wallClockUse = map[string]bool{
		"Now": true, "Since": true, "Until": true, "After": true, "AfterFunc": true,
		"Sleep": true, "Tick": true, "NewTimer": true, "NewTicker": true,
	}
)

// TestInjectedClock enforces STYLE.md's "time comes in through an injected
// clock": the non-test code of clockBound packages calls none of the time
// package's clock functions.
func TestInjectedClock(t *testing.T) {
	bound := func(p *pkg) bool {
		return slices.ContainsFunc(clockBound, func(dir string) bool { return under(p.ImportPath, dir) })
	}
	eachGoFile(t, bound, func(fset *token.FileSet, f *ast.File) {
		for _, pos := range wallClockCalls(f) {
			t.Errorf("%s: %s: take the time from the injected internal/clock.Clock", fset.Position(pos.pos), pos.name)
		}
	})
}

type wallClockCall struct {
	pos  token.Pos
	name string
}

// wallClockCalls returns the uses of the time package's clock functions in
// f (under whatever name f imports "time").
func wallClockCalls(f *ast.File) []wallClockCall {
	timeName := ""
	for _, imp := range f.Imports {
		if imp.Path.Value == `"time"` {
			timeName = "time"
			if imp.Name != nil {
				timeName = imp.Name.Name
			}
		}
	}
	if timeName == "" {
		return nil
	}
	var out []wallClockCall
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if id, ok := sel.X.(*ast.Ident); ok && id.Name == timeName && wallClockUse[sel.Sel.Name] {
			out = append(out, wallClockCall{sel.Pos(), timeName + "." + sel.Sel.Name})
		}
		return true
	})
	return out
}

// TestInjectedClockCatches checks the rule on made-up files.
func TestInjectedClockCatches(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"direct", "package p\nimport \"time\"\nvar _ = time.Now()\nvar _ = time.Duration(0)\n", []string{"time.Now"}},
		{"renamed", "package p\nimport t \"time\"\nfunc f() { <-t.After(1); _ = t.NewTicker }\n", []string{"t.After", "t.NewTicker"}},
		{"no time import", "package p\nvar time struct{ Now int }\nvar _ = time.Now\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := parser.ParseFile(token.NewFileSet(), "p.go", tc.src, 0)
			require.NoError(t, err)
			var got []string
			for _, c := range wallClockCalls(f) {
				got = append(got, c.name)
			}
			require.Equal(t, tc.want, got, "wallClockCalls(%q)", tc.src)
		})
	}
}

// TestNoFlagsInLibraryErrors enforces issue 9's "library errors do not
// name CLI flags": outside cmd/, no string literal in an errors.New or
// fmt.Errorf call contains a flag ("--name"). A library names the field
// the caller set (compare.FieldError, recordstream.ConfigError) and
// cmd/bench maps the field to its flag. Text for people that is not an
// error (a result's notes) may name the flag that reproduces it, saying so.
func TestNoFlagsInLibraryErrors(t *testing.T) {
	eachGoFile(t, func(p *pkg) bool { return !under(p.ImportPath, "cmd") }, func(fset *token.FileSet, f *ast.File) {
		for _, c := range flagsInErrors(f) {
			t.Errorf("%s: %s names the flag %s: name the field the caller set (a typed error such as compare.FieldError) and let cmd/bench map it to its flag",
				fset.Position(c.pos), c.call, c.flag)
		}
	})
}

// flagPattern is a command-line flag inside a message: two dashes and a
// lower-case letter.
var flagPattern = regexp.MustCompile(`--[a-z][a-z0-9-]*`)

type flagInError struct {
	pos        token.Pos
	call, flag string
}

// flagsInErrors returns the flags in the string literals of f's
// errors.New and fmt.Errorf calls (under whatever names f imports errors
// and fmt), anywhere in their arguments, each literal once.
func flagsInErrors(f *ast.File) []flagInError {
	ctors := map[string]string{} // package name in f -> its error constructor
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		ctor := map[string]string{"errors": "New", "fmt": "Errorf"}[path]
		if ctor == "" {
			continue
		}
		name := path
		if imp.Name != nil {
			name = imp.Name.Name
		}
		ctors[name] = ctor
	}
	if len(ctors) == 0 {
		return nil
	}
	var out []flagInError
	seen := map[token.Pos]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		pkg, ok := sel.X.(*ast.Ident)
		if !ok || ctors[pkg.Name] != sel.Sel.Name {
			return true
		}
		for _, arg := range call.Args {
			ast.Inspect(arg, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING || seen[lit.Pos()] {
					return true
				}
				seen[lit.Pos()] = true
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					return true
				}
				if fl := flagPattern.FindString(v); fl != "" {
					out = append(out, flagInError{lit.Pos(), pkg.Name + "." + sel.Sel.Name, fl})
				}
				return true
			})
		}
		return true
	})
	return out
}

// TestNoFlagsInLibraryErrorsCatches checks the rule on made-up files.
func TestNoFlagsInLibraryErrorsCatches(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string // call: flag
	}{
		{"errors.New", "package p\nimport \"errors\"\nvar e = errors.New(\"--rate paces built-in data only\")\n",
			[]string{"errors.New: --rate"}},
		{"fmt.Errorf", "package p\nimport \"fmt\"\nfunc f(n int) error { return fmt.Errorf(\"%d: use --max-spout-pending 0\", n) }\n",
			[]string{"fmt.Errorf: --max-spout-pending"}},
		{"raw string and concatenation", "package p\nimport \"fmt\"\nvar e = fmt.Errorf(\"bad: \" + `run bench suite --out %s`, \"d\")\n",
			[]string{"fmt.Errorf: --out"}},
		{"an argument, nested once", "package p\nimport (\"errors\"; \"fmt\")\nvar e = fmt.Errorf(\"%w (flag %s)\", errors.New(\"x\"), \"--unaligned\")\n",
			[]string{"fmt.Errorf: --unaligned"}},
		{"nested constructor reported once", "package p\nimport (\"errors\"; \"fmt\")\nvar e = fmt.Errorf(\"w: %w\", errors.New(\"drop --input\"))\n",
			[]string{"fmt.Errorf: --input"}},
		{"renamed imports", "package p\nimport (e \"errors\"; f \"fmt\")\nvar a, b = e.New(\"--mode\"), f.Errorf(\"--seed\")\n",
			[]string{"e.New: --mode", "f.Errorf: --seed"}},
		{"not an error constructor", "package p\nimport \"fmt\"\nvar s = fmt.Sprintf(\"(bench flag --slow) %v\", 1)\n// errors.New(\"--x\")\n", nil},
		{"field names and dashes that are no flag", "package p\nimport \"errors\"\nvar e = errors.New(\"DataSpec.Rate: a -- b, -1, --5\")\n", nil},
		{"no errors or fmt import", "package p\nvar errors struct{ New func(string) error }\nvar e = errors.New(\"--rate\")\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := parser.ParseFile(token.NewFileSet(), "p.go", tc.src, 0)
			require.NoError(t, err)
			var got []string
			for _, c := range flagsInErrors(f) {
				got = append(got, c.call+": "+c.flag)
			}
			require.Equal(t, tc.want, got, "flagsInErrors(%q)", tc.src)
		})
	}
}
