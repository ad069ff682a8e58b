package compare

import (
	"bytes"
	"encoding/xml"
	"errors"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/internal/metrics"
)

// line is a one-line series over points (x, y), x = 1, 2, ...
func line(label string, ys ...float64) Line {
	l := Line{Label: label}
	for i, y := range ys {
		l.Points = append(l.Points, metrics.Point{T: float64(i + 1), V: y})
	}
	return l
}

// svgTexts returns the text elements of an SVG document, failing the test
// when it is not well-formed XML.
func svgTexts(t *testing.T, svg []byte) []string {
	t.Helper()
	var texts []string
	d := xml.NewDecoder(bytes.NewReader(svg))
	inText := false
	for {
		tok, err := d.Token()
		if err != nil {
			require.ErrorContains(t, err, "EOF", "the SVG is well-formed XML")
			return texts
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			inText = tok.Name.Local == "text"
		case xml.CharData:
			if inText {
				texts = append(texts, string(tok))
			}
		case xml.EndElement:
			inText = false
		}
	}
}

func TestRenderFigure(t *testing.T) {
	for _, s := range []Series{
		fakeResults().Experiments[0].Series[0],
		{Name: "empty", Title: "nothing"},
		{Name: "empty-line", Lines: []Line{{Label: "no points"}}},
		{Name: "flat", Lines: []Line{{Label: "one", Points: metrics.Series{{T: 3, V: 0}}}}},
		{Name: "log", YScale: ScaleLog, Lines: []Line{{Label: "l", Points: metrics.Series{{T: 0, V: 0.5}, {T: 1, V: 500}}}}},
		{Name: "not-finite", Lines: []Line{{Label: "gaps", Points: metrics.Series{{T: 1, V: math.NaN()}, {T: 2, V: math.Inf(1)}, {T: 3, V: 4}}}}},
		{Name: "negative", Lines: []Line{line("below zero", -3, -1, 2)}},
		{Name: "long", Lines: []Line{{Label: "series", Points: func() metrics.Series {
			var ps metrics.Series
			for i := range 500 {
				ps = append(ps, metrics.Point{T: float64(i) / 10, V: float64(i % 37)})
			}
			return ps
		}()}}},
		{Name: "scatter", Lines: []Line{{Label: "dots", Scatter: true, Points: metrics.Series{{T: 2, V: 1}, {T: 1, V: 3}, {T: 3, V: 2}}}, line("beside a line", 1, 2, 3)}},
		{Name: "refs", Refs: []RefLine{HLine("capacity", 10), VLine("timeout 30 s", 30)}, Lines: []Line{line("l", 1, 2, 3)}},
	} {
		t.Run(s.Name, func(t *testing.T) {
			svg, err := RenderFigure(s, FigureSVG)
			require.NoError(t, err)
			texts := svgTexts(t, svg)
			for _, l := range s.Lines {
				assert.Contains(t, texts, l.Label, "the legend names every line")
			}
			for _, r := range s.Refs {
				assert.Contains(t, texts, r.Label, "every reference line is labelled")
			}
			assert.NotContains(t, string(svg), "NaN")
			assert.NotContains(t, string(svg), "Inf")

			b, err := RenderFigure(s, FigurePNG)
			require.NoError(t, err)
			img, err := png.Decode(bytes.NewReader(b))
			require.NoError(t, err, "the PNG decodes")
			assert.Equal(t, 1050, img.Bounds().Dx(), "7 in at 150 dpi")
			assert.Equal(t, 600, img.Bounds().Dy(), "4 in at 150 dpi")
		})
	}
	svg, err := RenderFigure(fakeResults().Experiments[0].Series[0], FigureSVG)
	require.NoError(t, err)
	assert.Contains(t, string(svg), "Rate &lt;by&gt; config", "text is escaped")

	_, err = RenderFigure(Series{Name: "x"}, "gif")
	assert.ErrorIs(t, err, errors.ErrUnsupported)
}

// TestRenderFigureScatter checks that a scatter line draws its points
// without the connecting line: fewer paths than the same points as a line
// with markers (the line and its legend thumbnail are gone).
func TestRenderFigureScatter(t *testing.T) {
	pts := metrics.Series{{T: 1, V: 3}, {T: 2, V: 1}, {T: 3, V: 2}}
	paths := func(scatter bool) int {
		svg, err := RenderFigure(Series{Name: "s", Lines: []Line{{Label: "l", Points: pts, Scatter: scatter}}}, FigureSVG)
		require.NoError(t, err)
		return strings.Count(string(svg), "<path")
	}
	assert.Less(t, paths(true), paths(false), "the scatter has no line path")
}

func TestRenderFigureDeterministic(t *testing.T) {
	s := Series{Name: "d", Title: "same data, same bytes", Refs: []RefLine{HLine("batch interval 1s", 1000)}, Lines: []Line{line("a", 10, 200, 3000), line("b", 5, 50, 500)}}
	for _, f := range []string{FigureSVG, FigurePNG} {
		first, err := RenderFigure(s, f)
		require.NoError(t, err)
		second, err := RenderFigure(s, f)
		require.NoError(t, err)
		assert.True(t, bytes.Equal(first, second), "RenderFigure(%s) twice gives the same bytes", f)
	}
}

func TestAxisScales(t *testing.T) {
	for _, tc := range []struct {
		name       string
		s          Series
		logX, logY bool
	}{
		{"one decade stays linear", Series{Lines: []Line{line("l", 1, 5, 10)}}, false, false},
		{"two decades turn log", Series{Lines: []Line{line("l", 1, 50, 100)}}, false, true},
		{"decades across lines", Series{Lines: []Line{line("a", 2, 3), line("b", 400)}}, false, true},
		{"a zero keeps it linear", Series{Lines: []Line{line("l", 0, 1, 1000)}}, false, false},
		{"forced linear", Series{YScale: ScaleLinear, Lines: []Line{line("l", 1, 1e6)}}, false, false},
		{"forced log", Series{YScale: ScaleLog, Lines: []Line{line("l", 1, 2)}}, false, true},
		{"forced log cannot show zero", Series{YScale: ScaleLog, Lines: []Line{line("l", 0, 2)}}, false, false},
		{"x spans decades", Series{Lines: []Line{{Label: "l", Points: metrics.Series{{T: 1e3, V: 1}, {T: 1e5, V: 2}}}}}, true, false},
		{"a reference line counts", Series{Refs: []RefLine{HLine("capacity", 1000)}, Lines: []Line{line("l", 1, 2)}}, false, true},
		{"not finite points are ignored", Series{Lines: []Line{line("l", 1, math.Inf(1), 5)}}, false, false},
		{"no data", Series{}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logX, logY := axisScales(tc.s)
			assert.Equal(t, tc.logX, logX, "axisScales(%+v) log x", tc.s)
			assert.Equal(t, tc.logY, logY, "axisScales(%+v) log y", tc.s)
		})
	}
}

func TestRenderFigureAxes(t *testing.T) {
	wide := Series{Name: "wide", Lines: []Line{line("l", 1, 30, 5000)}}
	svg, err := RenderFigure(wide, FigureSVG)
	require.NoError(t, err)
	texts := svgTexts(t, svg)
	for _, decade := range []string{"1", "10", "100", "1000", "10k"} {
		assert.Contains(t, texts, decade, "a log axis labels the decades")
	}
	wide.YScale = ScaleLinear
	svg, err = RenderFigure(wide, FigureSVG)
	require.NoError(t, err)
	texts = svgTexts(t, svg)
	assert.NotContains(t, texts, "10k", "a linear axis ends on the round number above the data")
	assert.Contains(t, texts, "5000")

	// A reference line above the data stretches the axis to show it.
	refs := Series{Name: "refs", Refs: []RefLine{HLine("message timeout", 30)}, Lines: []Line{line("l", 1, 2, 3)}}
	svg, err = RenderFigure(Series{Lines: refs.Lines}, FigureSVG)
	require.NoError(t, err)
	assert.NotContains(t, svgTexts(t, svg), "50", "data up to 3 alone gives a y axis to 5")
	svg, err = RenderFigure(refs, FigureSVG)
	require.NoError(t, err)
	assert.Contains(t, svgTexts(t, svg), "50", "a line at 30 gives a y axis to 50")
	assert.Contains(t, string(svg), "stroke-dasharray", "reference lines are dashed")

	// One load point: the x axis spans [0, 2v] rounded up, so its ticks differ.
	one := Series{Name: "one", XScale: ScaleLinear, Lines: []Line{{Label: "l", Points: []metrics.Point{{T: 20000, V: 5}}}}}
	svg, err = RenderFigure(one, FigureSVG)
	require.NoError(t, err)
	texts = svgTexts(t, svg)
	assert.Contains(t, texts, "0", "one x value: the axis starts at 0")
	assert.Contains(t, texts, "25k", "and ends on the round number above twice the value")
}

func TestSeriesValidate(t *testing.T) {
	for _, tc := range []struct {
		s     Series
		field string
	}{
		{Series{XScale: "logarithmic"}, "Series.XScale"},
		{Series{YScale: "Log"}, "Series.YScale"},
		{Series{Refs: []RefLine{{Axis: "z", Value: 1, Label: "bad"}}}, "Series.Refs"},
		{Series{Refs: []RefLine{HLine("nan", math.NaN())}}, "Series.Refs"},
	} {
		err := tc.s.Validate()
		fe, ok := errors.AsType[*FieldError](err)
		require.True(t, ok, "Validate(%+v) = %v, want a *FieldError", tc.s, err)
		assert.Equal(t, tc.field, fe.Field)
		_, err = RenderFigure(tc.s, FigureSVG)
		assert.ErrorAs(t, err, &fe, "RenderFigure validates")
	}
	ok := Series{XScale: ScaleLog, YScale: ScaleLinear, Refs: []RefLine{VLine("x", 1), HLine("y", 2)}}
	assert.NoError(t, ok.Validate())
}

func TestWriteFigure(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fig")
	s := Series{Name: "w", Lines: []Line{line("l", 1, 2)}}
	require.NoError(t, WriteFigure(dir, "exp-w", s))
	s.Lines = append(s.Lines, line("second", 3, 4))
	require.NoError(t, WriteFigure(dir, "exp-w", s), "an existing figure is replaced")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{"exp-w.png", "exp-w.svg"}, names, "both formats, no temporary file left behind")
	svg, err := os.ReadFile(filepath.Join(dir, "exp-w.svg"))
	require.NoError(t, err)
	assert.Contains(t, svgTexts(t, svg), "second", "the second write is the one on disk")
	info, err := os.Stat(filepath.Join(dir, "exp-w.png"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), info.Mode().Perm())

	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	assert.Error(t, WriteFigure(file, "x", s), "a directory that is a file")
	assert.True(t, strings.HasPrefix(WriteFigure(file, "x", s).Error(), "compare: "))
}
