package compare

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// The figures are drawn with gonum.org/v1/plot: one plot gives axes with
// ticks, linear or log scales, a legend and reference lines, and renders
// to SVG (text, diffable, fonts named rather than embedded) and PNG (for
// viewers that show no SVG) from the same description.
//
// Rendering is deterministic: the same Series gives the same bytes in each
// format (no clock, no map order, no randomness reaches the canvas), so
// tests and reviewers can compare figures across runs.

// Scale says how a figure axis maps values to positions.
type Scale string

const (
	// ScaleAuto, the zero value, is log when every value on the axis
	// (points and reference lines) is positive and the largest is at
	// least 100 times the smallest (the range spans two decades or more),
	// and linear otherwise.
	ScaleAuto Scale = ""
	// ScaleLinear is a linear axis.
	ScaleLinear Scale = "linear"
	// ScaleLog is a log axis; it falls back to linear when a value on
	// the axis is zero or negative, which a log axis cannot show.
	ScaleLog Scale = "log"
)

// RefAxis is the axis a [RefLine]'s value lies on.
type RefAxis string

const (
	// RefX is a value on the x axis, drawn as a vertical line.
	RefX RefAxis = "x"
	// RefY is a value on the y axis, drawn as a horizontal line.
	RefY RefAxis = "y"
)

// RefLine is a labelled reference line across a figure: a batch interval,
// a message timeout, a measured capacity. The axis range always includes
// it, so it is visible even when the data stays below it.
type RefLine struct {
	Axis  RefAxis `json:"axis"`
	Value float64 `json:"value"`
	// Label is written beside the line.
	Label string `json:"label"`
}

// HLine is a horizontal reference line at y = v.
func HLine(label string, v float64) RefLine { return RefLine{Axis: RefY, Value: v, Label: label} }

// VLine is a vertical reference line at x = v.
func VLine(label string, v float64) RefLine { return RefLine{Axis: RefX, Value: v, Label: label} }

// batchIntervalLine is a horizontal line at a batch interval on a y axis
// in milliseconds.
func batchIntervalLine(d time.Duration) RefLine {
	return HLine("batch interval "+d.String(), float64(d)/float64(time.Millisecond))
}

// Figure formats written by [WriteFigure], by file extension.
const (
	FigureSVG = "svg"
	FigurePNG = "png"
)

const (
	figW, figH = 7 * vg.Inch, 4 * vg.Inch
	// figDPI gives a 1050×600 PNG: sharp on a laptop screen, about
	// 50-100 KB a figure.
	figDPI = 150
	// markerLimit is the largest line that gets a marker on every point;
	// longer lines (time series) would be a smear of glyphs.
	markerLimit = 60
	// legendPad is the space above and below the legend strip;
	// legendIndent puts its entries under the plot's y axis.
	legendPad, legendIndent = 4, 48
)

var palette = []color.RGBA{
	{0x1f, 0x77, 0xb4, 0xff}, {0xd6, 0x27, 0x28, 0xff}, {0x2c, 0xa0, 0x2c, 0xff},
	{0xff, 0x7f, 0x0e, 0xff}, {0x94, 0x67, 0xbd, 0xff}, {0x8c, 0x56, 0x4b, 0xff},
}

var glyphs = []draw.GlyphDrawer{
	draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{},
	draw.PlusGlyph{}, draw.CrossGlyph{}, draw.RingGlyph{},
}

// Validate reports a scale or reference line the figure cannot draw, as a
// *FieldError naming the field.
func (s *Series) Validate() error {
	for _, f := range []struct {
		field string
		scale Scale
	}{{"Series.XScale", s.XScale}, {"Series.YScale", s.YScale}} {
		switch f.scale {
		case ScaleAuto, ScaleLinear, ScaleLog:
		default:
			return &FieldError{Field: f.field, Err: fmt.Errorf("figure %q: want %q, %q or %q; got %q", s.Name, ScaleAuto, ScaleLinear, ScaleLog, f.scale)}
		}
	}
	for i, r := range s.Refs {
		if r.Axis != RefX && r.Axis != RefY {
			return &FieldError{Field: "Series.Refs", Err: fmt.Errorf("figure %q: line %d (%q): want axis %q or %q; got %q", s.Name, i, r.Label, RefX, RefY, r.Axis)}
		}
		if math.IsNaN(r.Value) || math.IsInf(r.Value, 0) {
			return &FieldError{Field: "Series.Refs", Err: fmt.Errorf("figure %q: line %d (%q): want a finite value; got %v", s.Name, i, r.Label, r.Value)}
		}
	}
	return nil
}

// RenderFigure draws s as a line chart (a marker on every point of a line
// of at most 60 points, a [Line.Scatter] as dots without a line, reference lines dashed and labelled, a legend when
// there are lines) in format, [FigureSVG] or [FigurePNG], and returns the
// document. Points with a NaN or infinite coordinate are left out, as are
// points a log axis cannot show. An invalid s gives a *FieldError.
func RenderFigure(s Series, format string) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	p, legend, err := newPlot(s)
	if err != nil {
		return nil, fmt.Errorf("compare: figure %q: %w", s.Name, err)
	}
	var c interface {
		vg.CanvasSizer
		io.WriterTo
	}
	switch format {
	case FigureSVG:
		c = vgsvg.New(figW, figH)
	case FigurePNG:
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(figW, figH), vgimg.UseDPI(figDPI))}
	default:
		return nil, fmt.Errorf("compare: figure %q: format %q: %w", s.Name, format, errors.ErrUnsupported)
	}
	dc := draw.New(c)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	// The legend goes in a strip below the plot rather than inside it,
	// where gonum/plot puts it over the data with no background.
	var strip vg.Length
	if legend.Rectangle(dc).Size().Y > 0 {
		// The last entry's descenders fall below the legend's
		// rectangle, so the strip keeps twice the padding below it.
		strip = legend.Rectangle(dc).Size().Y + 3*legendPad
	}
	p.Draw(draw.Crop(dc, 0, 0, strip, 0))
	if strip > 0 {
		legend.Draw(draw.Crop(dc, legendIndent, 0, 0, -(dc.Size().Y - strip + legendPad)))
	}
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("compare: figure %q: %w", s.Name, err)
	}
	return b.Bytes(), nil
}

// WriteFigure writes s as dir/base.svg and dir/base.png ([RenderFigure]),
// creating dir if needed. Each file is written to a temporary file in dir
// and renamed into place, so a reader never sees half a figure and a
// failed write leaves the previous figure intact.
func WriteFigure(dir, base string, s Series) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	for _, f := range []string{FigureSVG, FigurePNG} {
		b, err := RenderFigure(s, f)
		if err != nil {
			return err
		}
		if err := writeFileAtomic(filepath.Join(dir, base+"."+f), b); err != nil {
			return err
		}
	}
	return nil
}

// writeFileAtomic writes b to path through a temporary file beside it and
// a rename.
func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("compare: write %s: %w", path, err)
	}
	return nil
}

// axisScales returns whether s's x and y axes are drawn on a log scale
// (see [Scale]).
func axisScales(s Series) (logX, logY bool) {
	var xs, ys []float64
	for _, l := range s.Lines {
		for _, p := range l.Points {
			if finite(p.T) && finite(p.V) {
				xs, ys = append(xs, p.T), append(ys, p.V)
			}
		}
	}
	for _, r := range s.Refs {
		if r.Axis == RefX {
			xs = append(xs, r.Value)
		} else {
			ys = append(ys, r.Value)
		}
	}
	return useLog(s.XScale, xs), useLog(s.YScale, ys)
}

func useLog(s Scale, vs []float64) bool {
	if s == ScaleLinear || len(vs) == 0 {
		return false
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		if v <= 0 {
			return false
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	return s == ScaleLog || hi >= 100*lo
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func sans(size vg.Length) font.Font {
	return font.Font{Typeface: "Liberation", Variant: "Sans", Size: size}
}

// newPlot builds the plot of s and its legend, drawn apart; s is valid.
func newPlot(s Series) (*plot.Plot, *plot.Legend, error) {
	logX, logY := axisScales(s)
	p := plot.New()
	// A long title gets a smaller font (an average sans-serif glyph is
	// about 0.55 em wide) rather than running off the figure.
	titleSize := min(13, 0.95*figW/(0.55*vg.Length(max(len(s.Title), 1))))
	p.Title.Text = s.Title
	p.Title.TextStyle.Font = sans(titleSize)
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text, p.Y.Label.Text = s.XLabel, s.YLabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = sans(11)
		a.Tick.Label.Font = sans(9)
	}
	legend := plot.NewLegend()
	legend.TextStyle.Font = sans(9)
	legend.Top, legend.Left = true, true
	legend.ThumbnailWidth = vg.Points(18)
	legend.Padding = vg.Points(1)

	grid := plotter.NewGrid()
	grid.Vertical.Color = color.Gray{0xe4}
	grid.Horizontal.Color = color.Gray{0xe4}
	grid.Vertical.Dashes, grid.Horizontal.Dashes = nil, nil
	p.Add(grid)

	// A log axis plots log10 of the values on a linear scale with ticks
	// at the powers of ten (logTicks), rather than using plot.LogScale:
	// gonum/plot v0.17 places the axis label's glyph box at the data
	// midpoint, which on a log scale sits near the end of the axis and
	// pads the plot by the label's length.
	fx, fy := scaleFunc(logX), scaleFunc(logY)
	keep := func(x, y float64) bool {
		return finite(x) && finite(y) && (!logX || x > 0) && (!logY || y > 0)
	}
	for i, l := range s.Lines {
		var xys plotter.XYs
		for _, pt := range l.Points {
			if keep(pt.T, pt.V) {
				xys = append(xys, plotter.XY{X: fx(pt.T), Y: fy(pt.V)})
			}
		}
		c := palette[i%len(palette)]
		var thumbs []plot.Thumbnailer
		if len(xys) > 0 && l.Scatter {
			sc, err := plotter.NewScatter(xys)
			if err != nil {
				return nil, nil, err
			}
			sc.Color, sc.Shape, sc.Radius = c, draw.CircleGlyph{}, vg.Points(1)
			p.Add(sc)
			thumbs = append(thumbs, sc)
		} else if len(xys) > 0 {
			line, err := plotter.NewLine(xys)
			if err != nil {
				return nil, nil, err
			}
			line.Color, line.Width = c, vg.Points(1.5)
			p.Add(line)
			thumbs = append(thumbs, line)
			if len(xys) <= markerLimit {
				sc, err := plotter.NewScatter(xys)
				if err != nil {
					return nil, nil, err
				}
				sc.Color, sc.Shape, sc.Radius = c, glyphs[i%len(glyphs)], vg.Points(2.5)
				p.Add(sc)
				thumbs = append(thumbs, sc)
			}
		}
		if len(thumbs) == 0 { // an empty line is still named in the legend
			thumbs = append(thumbs, &plotter.Line{LineStyle: draw.LineStyle{Color: c, Width: vg.Points(1.5)}})
		}
		legend.Add(l.Label, thumbs...)
	}
	for _, r := range s.Refs {
		if (r.Axis == RefX && logX || r.Axis == RefY && logY) && r.Value <= 0 {
			continue
		}
		if r.Axis == RefX {
			r.Value = fx(r.Value)
		} else {
			r.Value = fy(r.Value)
		}
		p.Add(&refLine{RefLine: r})
	}

	setRange(&p.X, logX, false)
	setRange(&p.Y, logY, true)
	return p, &legend, nil
}

// setRange fixes axis a's range and ticks: decades on a log axis; on a
// linear axis the range starts at zero when that costs less than half of
// it (always for the y axis, so bars of growth are read from zero) and
// ends on a round number.
func setRange(a *plot.Axis, log, fromZero bool) {
	if a.Min > a.Max { // no data at all
		a.Min, a.Max = 0, 1
	}
	if log { // a.Min and a.Max are log10 of the values
		a.Min, a.Max = math.Floor(a.Min), math.Ceil(a.Max)
		if a.Min == a.Max {
			a.Max++
		}
		a.Tick.Marker = logTicks{}
		return
	}
	if a.Min > 0 && (fromZero || a.Min < a.Max/2 || a.Min == a.Max) {
		// A single positive value (one load point) gets [0, 2v], not a
		// range of width 1 whose ticks all print the same.
		if a.Min == a.Max {
			a.Max *= 2
		}
		a.Min = 0
	}
	if a.Max < 0 && fromZero {
		a.Max = 0
	}
	if a.Min == a.Max {
		a.Max = a.Min + 1
	}
	if a.Min == 0 {
		a.Max = niceCeil(a.Max)
	}
	a.Tick.Marker = relabel{plot.DefaultTicks{}}
}

func scaleFunc(log bool) func(float64) float64 {
	if log {
		return math.Log10
	}
	return func(v float64) float64 { return v }
}

// logTicks marks an axis of log10 values: a labelled tick at every power
// of ten, minor ticks at its multiples 2-9.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for k := math.Floor(lo); k <= hi; k++ {
		if k >= lo {
			ts = append(ts, plot.Tick{Value: k, Label: tick(math.Pow(10, k))})
		}
		for m := 2.0; m < 10; m++ {
			if v := k + math.Log10(m); v >= lo && v <= hi {
				ts = append(ts, plot.Tick{Value: v})
			}
		}
	}
	return ts
}

// relabel writes t's labelled ticks the way the tables write numbers
// (12k, 3.5M).
type relabel struct{ t plot.Ticker }

func (r relabel) Ticks(lo, hi float64) []plot.Tick {
	ts := r.t.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = tick(ts[i].Value)
		}
	}
	return ts
}

// refLine draws a [RefLine] dashed across the data area, its label at the
// line's end: above a horizontal line at the right, beside a vertical one
// at the top.
type refLine struct{ RefLine }

var refStyle = draw.LineStyle{Color: color.Gray{0x55}, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(5), vg.Points(3)}}

// Plot implements plot.Plotter.
func (r *refLine) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	sty := text.Style{Color: color.Gray{0x33}, Font: sans(8), Handler: p.TextHandler}
	pad := vg.Points(3)
	if r.Axis == RefY {
		y := trY(r.Value)
		c.StrokeLine2(refStyle, c.Min.X, y, c.Max.X, y)
		sty.XAlign, sty.YAlign = draw.XRight, draw.YBottom
		c.FillText(sty, vg.Point{X: c.Max.X - pad, Y: y + pad}, r.Label)
		return
	}
	x := trX(r.Value)
	c.StrokeLine2(refStyle, x, c.Min.Y, x, c.Max.Y)
	sty.XAlign, sty.YAlign = draw.XLeft, draw.YTop
	c.FillText(sty, vg.Point{X: x + pad, Y: c.Max.Y - pad}, r.Label)
}

// DataRange implements plot.DataRanger: the axis range includes the line.
func (r *refLine) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax, ymin, ymax = math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	if r.Axis == RefX {
		return r.Value, r.Value, ymin, ymax
	}
	return xmin, xmax, r.Value, r.Value
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func tick(v float64) string {
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0"
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 3, 64) + "M"
	case a >= 1e4:
		return strconv.FormatFloat(v/1e3, 'g', 3, 64) + "k"
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}
