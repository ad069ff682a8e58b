package lint

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// idUnit is one piece of text invariant ids are read from: a comment group
// or a string literal of a Go file, or a whole text file (a README, a
// script in testdata/).
type idUnit struct {
	file string // path from the module root, for messages
	dir  string // the package directory, from the module root ("." for the root)
	line int    // line of the unit's first byte in file
	text string
	// invariants is set for the package comment of a doc.go: its
	// "# Invariants" section defines ids.
	invariants bool
}

// anywherePrefix is the prefix of dataflow's conventions, which every
// package may cite without naming dataflow.
const anywherePrefix = "I"

// idNear is how far (in bytes, either side) a citation of another
// package's id looks for that package's name.
const idNear = 100

// schemeItem is one line of the "# Invariant ids" list in doc.go:
// "  - DW dataflow: the WatermarkTracker".
var schemeItem = regexp.MustCompile(`^\s*-\s+([A-Z]{1,3})\s+([a-z][a-z0-9/]*):`)

// readScheme returns the prefix scheme documented in this package's doc.go:
// each prefix and the directory (from the module root) of the package
// that owns it.
func readScheme(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	scheme := map[string]string{}
	in := false
	for line := range strings.Lines(string(b)) {
		text := strings.TrimPrefix(strings.TrimRight(line, "\n"), "//")
		text = strings.TrimPrefix(text, " ")
		if strings.HasPrefix(text, "# ") {
			in = text == "# Invariant ids"
			continue
		}
		if m := schemeItem.FindStringSubmatch(text); in && m != nil {
			require.NotContains(t, scheme, m[1], "doc.go: prefix %s listed twice", m[1])
			scheme[m[1]] = m[2]
		}
	}
	require.NotEmpty(t, scheme, `doc.go has no "# Invariant ids" list`)
	return scheme
}

// moduleRoot returns the directory of weir's go.mod, two levels up.
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	require.NoError(t, err)
	require.Contains(t, string(b), "module "+module+"\n", "%s/go.mod is not weir's", root)
	return root
}

// moduleUnits reads every unit of the module under root: the comments and
// string literals of each non-generated .go file outside testdata/, every
// .md file, and the .txt files of testdata/ directories. Nested modules
// (a directory with its own go.mod) and hidden directories are skipped.
func moduleUnits(t *testing.T, root string) []idUnit {
	t.Helper()
	var units []idUnit
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_") || fileExists(filepath.Join(path, "go.mod"))) {
				return filepath.SkipDir
			}
			return nil
		}
		// A file in testdata/ belongs to the package above it.
		parts := strings.Split(rel, "/")
		td := slices.Index(parts, "testdata")
		inTestdata := td >= 0
		dir := filepath.ToSlash(filepath.Dir(rel))
		if inTestdata {
			dir = strings.Join(parts[:td], "/")
			if dir == "" {
				dir = "."
			}
		}
		switch {
		case strings.HasSuffix(rel, ".go") && !inTestdata:
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			us, err := goUnits(rel, dir, src)
			if err != nil {
				t.Logf("%s: %v (being edited?)", rel, err)
				return nil
			}
			units = append(units, us...)
		case strings.HasSuffix(rel, ".md") || (inTestdata && strings.HasSuffix(rel, ".txt")):
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			units = append(units, idUnit{file: rel, dir: dir, line: 1, text: string(b)})
		}
		return nil
	})
	require.NoError(t, err)
	return units
}

// goUnits returns the comment groups and string literals of one Go file,
// none if it is generated.
func goUnits(file, dir string, src []byte) ([]idUnit, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	if ast.IsGenerated(f) {
		return nil, nil
	}
	var units []idUnit
	for _, cg := range f.Comments {
		var b strings.Builder
		for _, c := range cg.List {
			b.WriteString(c.Text)
			b.WriteByte('\n')
		}
		units = append(units, idUnit{
			file: file, dir: dir, line: fset.Position(cg.Pos()).Line, text: b.String(),
			invariants: filepath.Base(file) == "doc.go" && cg == f.Doc,
		})
	}
	ast.Inspect(f, func(n ast.Node) bool {
		if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			v, err := strconv.Unquote(lit.Value)
			if err != nil {
				v = lit.Value
			}
			units = append(units, idUnit{file: file, dir: dir, line: fset.Position(lit.Pos()).Line, text: v})
		}
		return true
	})
	return units, nil
}

// idDef is where an id is defined.
type idDef struct {
	dir, at string // the package directory; file:line
}

// invariantIDViolations applies the rules of doc.go's "# Invariant ids" to
// units under scheme (prefix -> owning package directory) and describes
// every violation.
func invariantIDViolations(scheme map[string]string, units []idUnit) []string {
	prefixes := make([]string, 0, len(scheme))
	for p := range scheme {
		prefixes = append(prefixes, p)
	}
	// Longest first, so that a prefix that begins another cannot shadow it.
	slices.SortFunc(prefixes, func(a, b string) int { return len(b) - len(a) })
	alt := strings.Join(prefixes, "|")
	idRE := regexp.MustCompile(`\b(` + alt + `)([1-9][0-9]?)\b`)
	rangeRE := regexp.MustCompile(`\b(` + alt + `)([1-9][0-9]?)-(` + alt + `)([1-9][0-9]?)\b`)
	defRE := regexp.MustCompile(`^\s*-\s+(` + alt + `)([1-9][0-9]?)\s`)

	var out []string
	defs := map[string]idDef{}
	for _, u := range units {
		if !u.invariants {
			continue
		}
		in := false
		for i, line := range strings.Split(u.text, "\n") {
			text := strings.TrimPrefix(strings.TrimPrefix(line, "//"), " ")
			if strings.HasPrefix(text, "# ") {
				in = text == "# Invariants"
				continue
			}
			m := defRE.FindStringSubmatch(text)
			if !in || m == nil {
				continue
			}
			id, at := m[1]+m[2], fmt.Sprintf("%s:%d", u.file, u.line+i)
			if d, ok := defs[id]; ok {
				out = append(out, fmt.Sprintf("%s: %s is defined twice: here and at %s; give one of them a new number", at, id, d.at))
				continue
			}
			defs[id] = idDef{u.dir, at}
			if owner := scheme[m[1]]; owner != u.dir {
				out = append(out, fmt.Sprintf("%s: %s is defined in %s, but prefix %s belongs to %s (internal/lint/doc.go)", at, id, u.dir, m[1], owner))
			}
		}
	}

	type cite struct {
		prefix, id string
		pos        int // byte offset in the unit
	}
	for _, u := range units {
		var cites []cite
		for _, m := range idRE.FindAllStringSubmatchIndex(u.text, -1) {
			cites = append(cites, cite{u.text[m[2]:m[3]], u.text[m[2]:m[3]] + u.text[m[4]:m[5]], m[0]})
		}
		// A range (dataflow's DO1-DO4) cites the ids between its ends too.
		for _, m := range rangeRE.FindAllStringSubmatchIndex(u.text, -1) {
			p, q := u.text[m[2]:m[3]], u.text[m[6]:m[7]]
			lo, _ := strconv.Atoi(u.text[m[4]:m[5]])
			hi, _ := strconv.Atoi(u.text[m[8]:m[9]])
			if p != q || hi <= lo {
				continue
			}
			for n := lo + 1; n < hi; n++ {
				cites = append(cites, cite{p, p + strconv.Itoa(n), m[0]})
			}
		}
		for _, c := range cites {
			at := fmt.Sprintf("%s:%d", u.file, u.line+strings.Count(u.text[:c.pos], "\n"))
			d, ok := defs[c.id]
			switch {
			case !ok:
				out = append(out, fmt.Sprintf("%s: %s is cited but defined in no doc.go's # Invariants section", at, c.id))
			case d.dir != u.dir && c.prefix != anywherePrefix && !namesNear(u.text, c.pos, filepath.Base(d.dir)):
				out = append(out, fmt.Sprintf("%s: %s belongs to package %s: name it nearby (\"%s's %s\")", at, c.id, d.dir, filepath.Base(d.dir), c.id))
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// namesNear reports whether name occurs as a word within idNear bytes of
// text[pos:].
func namesNear(text string, pos int, name string) bool {
	lo, hi := max(0, pos-idNear), min(len(text), pos+idNear)
	window := text[lo:hi]
	for i := 0; ; {
		j := strings.Index(window[i:], name)
		if j < 0 {
			return false
		}
		j += i
		before := j == 0 || !isWordByte(window[j-1])
		after := j+len(name) == len(window) || !isWordByte(window[j+len(name)])
		if before && after {
			return true
		}
		i = j + 1
	}
}

func isWordByte(b byte) bool {
	return b == '_' || '0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z'
}

// TestInvariantIDs enforces the rules of doc.go's "# Invariant ids" over
// the whole module.
func TestInvariantIDs(t *testing.T) {
	scheme := readScheme(t)
	root := moduleRoot(t)
	for prefix, dir := range scheme {
		assert.FileExists(t, filepath.Join(root, dir, "doc.go"), "doc.go: prefix %s's package %s has no doc.go", prefix, dir)
	}
	units := moduleUnits(t, root)
	require.NotEmpty(t, units)
	for _, v := range invariantIDViolations(scheme, units) {
		t.Error(v)
	}
}

// TestInvariantIDsCatch checks each rule on made-up packages with a
// made-up scheme, so a rule that silently stopped matching would show.
func TestInvariantIDsCatch(t *testing.T) {
	scheme := map[string]string{"XA": "alpha", "XB": "beta", "XAB": "beta"}
	alphaDoc := "// Package alpha.\n//\n// # Invariants\n//\n//   - XA1 one.\n//   - XA2 two.\n//   - XA3 three.\n//\n// # Other\n//\n// Prose.\npackage alpha\n"
	betaDoc := "// Package beta.\n//\n// # Invariants\n//\n//   - XB1 one.\n//   - XAB1 a longer prefix.\npackage beta\n"
	parse := func(file, dir, src string) []idUnit {
		us, err := goUnits(file, dir, []byte(src))
		require.NoError(t, err, "goUnits(%s)", file)
		return us
	}
	clean := slices.Concat(
		parse("alpha/doc.go", "alpha", alphaDoc),
		parse("beta/doc.go", "beta", betaDoc),
		parse("alpha/a.go", "alpha", "package alpha\n\n// f keeps XA1 and XA2-XA3.\nfunc f() { panic(\"XA1: broken\") }\n"),
		parse("beta/b.go", "beta", "package beta\n\n// g relies on alpha's XA2 (and XB1, XAB1).\nfunc g() {}\n"),
		[]idUnit{{file: "beta/README.md", dir: "beta", line: 1, text: "Uses XB1.\n\nAnd package alpha's\nXA3.\n"}},
		parse("beta/gen.go", "beta", "// Code generated by hand. DO NOT EDIT.\n\n// XA7\npackage beta\n"),
	)
	require.Empty(t, invariantIDViolations(scheme, clean), "violations in a clean made-up module")

	for _, tc := range []struct {
		name  string
		units []idUnit
		want  string
	}{
		{"undefined citation in a comment", parse("alpha/c.go", "alpha", "package alpha\n\n// h keeps XA4.\nfunc h() {}\n"),
			"alpha/c.go:3: XA4 is cited but defined"},
		{"undefined citation in an assertion message", parse("alpha/c.go", "alpha", "package alpha\n\nfunc h() { panic(\"XB7: broken\") }\n"),
			"alpha/c.go:3: XB7 is cited but defined"},
		{"a definition outside # Invariants", parse("delta/doc.go", "delta", "// Package delta.\n//\n// # Other\n//\n//   - XA9 not a definition.\npackage delta\n"),
			"delta/doc.go:5: XA9 is cited but defined"},
		{"inside a range", parse("alpha/c.go", "alpha", "package alpha\n\n// XA1-XA5\nfunc h() {}\n"),
			"alpha/c.go:3: XA4 is cited but defined"},
		{"in a README", []idUnit{{file: "alpha/README.md", dir: "alpha", line: 1, text: "line\nXA8\n"}},
			"alpha/README.md:2: XA8 is cited but defined"},
		{"defined twice", parse("beta/doc.go", "beta", "// Package beta.\n//\n// # Invariants\n//\n//   - XB2 two.\n//   - XB2 again.\npackage beta\n"),
			"beta/doc.go:6: XB2 is defined twice: here and at beta/doc.go:5"},
		{"a list in a file other than doc.go defines nothing", parse("beta/x.go", "beta", "// Package beta.\n//\n// # Invariants\n//\n//   - XB3 a type's.\npackage beta\n"),
			"beta/x.go:5: XB3 is cited but defined"},
		{"defined twice, in the wrong package", parse("gamma/doc.go", "gamma", "// Package gamma.\n//\n// # Invariants\n//\n//   - XA1 again.\npackage gamma\n"),
			"gamma/doc.go:5: XA1 is defined twice: here and at alpha/doc.go:5"},
		{"defined by the wrong package", parse("gamma/doc.go", "gamma", "// Package gamma.\n//\n// # Invariants\n//\n//   - XA5 mine.\npackage gamma\n"),
			"gamma/doc.go:5: XA5 is defined in gamma, but prefix XA belongs to alpha"},
		{"another package's id, unnamed", parse("beta/c.go", "beta", "package beta\n\n// h relies on XA2, and on nothing else that the words around it would name.\nfunc h() {}\n"),
			`beta/c.go:3: XA2 belongs to package alpha: name it nearby ("alpha's XA2")`},
		{"a name inside another word does not count", parse("beta/c.go", "beta", "package beta\n\n// alphabet XA2\nfunc h() {}\n"),
			"beta/c.go:3: XA2 belongs to package alpha"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := invariantIDViolations(scheme, slices.Concat(clean, tc.units))
			require.NotEmpty(t, got, "no violation found")
			assert.True(t, slices.ContainsFunc(got, func(v string) bool { return strings.Contains(v, tc.want) }),
				"violations %q, want one containing %q", got, tc.want)
		})
	}
}
