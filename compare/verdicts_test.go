package compare

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sp is a spread over the given repetitions.
func sp(v ...float64) spread { return spreadOf(v) }

// verdictCase is one constructed outcome and the verdict kind it must give;
// mention lists figures the explanation must quote.
type verdictCase struct {
	name    string
	verdict func() Verdict
	want    VerdictKind
	mention []string
}

func runVerdictCases(t *testing.T, cases []verdictCase) {
	t.Helper()
	seen := map[VerdictKind]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.verdict()
			assert.Equal(t, tc.want, v.Kind, "verdict = %v", v)
			assert.NotEmpty(t, v.Explanation)
			for _, m := range tc.mention {
				assert.Contains(t, v.Explanation, m, "the explanation quotes the figure")
			}
		})
		seen[tc.want] = true
	}
	for _, k := range []VerdictKind{Holds, DoesNotHold, Inconclusive} {
		assert.True(t, seen[k], "a case comes out %v", k)
	}
}

func TestSpread(t *testing.T) {
	s := sp(3, 1, 2)
	assert.Equal(t, spread{Median: 2, Min: 1, Max: 3, N: 3}, s)
	assert.Equal(t, "2 [1-3]", s.String())
	assert.InDelta(t, 2.5, sp(4, 1, 2, 3).Median, 1e-9, "even count: mean of the middle two")
	assert.Equal(t, "-", spread{}.String())
	assert.True(t, sp(1, 2, 3).below(sp(4, 5, 6)))
	assert.False(t, sp(1, 2, 5).below(sp(4, 5, 6)), "overlapping ranges are inside the spread")
	assert.False(t, spread{}.below(sp(1)), "nothing measured is below nothing")
	assert.True(t, sp(1, 2, 3).enough())
	assert.False(t, sp(1, 2).enough())
}

func TestVerdictJSON(t *testing.T) {
	for _, k := range []VerdictKind{Holds, DoesNotHold, Inconclusive} {
		b, err := json.Marshal(Verdict{k, "x"})
		require.NoError(t, err)
		var got Verdict
		require.NoError(t, json.Unmarshal(b, &got), "%s", b)
		assert.Equal(t, Verdict{k, "x"}, got)
	}
	var k VerdictKind
	assert.ErrorIs(t, k.UnmarshalText([]byte("maybe")), ErrVerdictKind)
	_, err := VerdictKind(7).MarshalText()
	assert.Error(t, err)
	assert.Equal(t, "does not hold: 3 < 4", Verdict{DoesNotHold, "3 < 4"}.String())
}

// TestNoPretypedReasons guards the rule that explanations come from the
// figures: no string in the experiments or their verdicts gives a cause
// ("because ...") that no measurement checked.
func TestNoPretypedReasons(t *testing.T) {
	files, err := filepath.Glob("exp_*.go")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range append(files, "experiments.go", "verdicts.go", "verdict.go") {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				v, err := strconv.Unquote(lit.Value)
				require.NoError(t, err)
				assert.NotContains(t, strings.ToLower(v), "because", "%s: %s", file, v)
				assert.NotContains(t, v, "does not hold here", "%s: verdicts are built with doesNotHold", file)
			}
			return true
		})
	}
}

func TestLectureClaims(t *testing.T) {
	ids := map[string]bool{}
	majors := map[string]bool{}
	for _, c := range LectureClaims() {
		assert.False(t, ids[c.ID], "duplicate claim %s", c.ID)
		ids[c.ID] = true
		majors[strings.SplitN(c.ID, ".", 2)[0]] = true
		assert.NotEmpty(t, c.Statement, c.ID)
		assert.False(t, c.Pending != "" && c.Shown != "", "%s is either pending or shown", c.ID)
	}
	for i := 1; i <= 12; i++ {
		assert.True(t, majors["L"+strconv.Itoa(i)], "claim L%d of the lecture is listed", i)
	}
	for _, e := range Experiments() {
		assert.NotEmpty(t, e.Rule, "%s states its verdict rule", e.Name)
		for _, tok := range claimTokens(e.Claim) {
			assert.True(t, ids[tok] || majors[tok], "%s names claim %s, which LectureClaims lists", e.Name, tok)
			assert.Empty(t, func() string {
				for _, c := range LectureClaims() {
					if c.ID == tok {
						return c.Pending
					}
				}
				return ""
			}(), "%s measures %s, so it is not pending", e.Name, tok)
		}
	}
	for _, c := range LectureClaims() {
		assert.Empty(t, c.Pending, "every claim L1-L12 has its experiment now; %s is still pending", c.ID)
	}
}
