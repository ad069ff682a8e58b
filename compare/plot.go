package compare

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"strconv"
)

// The figures are small hand-written SVG line charts rather than
// gonum.org/v1/plot: a few dozen lines give axes, ticks, lines and a
// legend, the files stay a few kilobytes of diffable text with no embedded
// fonts, and go.mod gains no dependency tree while others edit it.

const (
	plotW, plotH                       = 640.0, 360.0
	marginL, marginR, marginT, marginB = 70.0, 20.0, 36.0, 50.0
)

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"}

// LineChartSVG draws s as an SVG line chart (markers on every point) and
// returns the document.
func LineChartSVG(s Series) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12">`+"\n", plotW, plotH, plotW, plotH)
	b.WriteString(`<rect width="100%" height="100%" fill="white"/>` + "\n")
	// A long title gets a smaller font (an average sans-serif glyph is
	// about 0.55 em wide) rather than running off the figure.
	titleSize := min(14, 0.95*plotW/(0.55*float64(max(len(s.Title), 1))))
	fmt.Fprintf(&b, `<text x="%.0f" y="20" text-anchor="middle" font-size="%.1f">%s</text>`+"\n", plotW/2, titleSize, html.EscapeString(s.Title))
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), 0.0, math.Inf(-1)
	logY := s.LogY
	for _, l := range s.Lines {
		for _, p := range l.Points {
			xmin, xmax = math.Min(xmin, p.T), math.Max(xmax, p.T)
			ymax = math.Max(ymax, p.V)
			if p.V <= 0 {
				logY = false
			}
		}
	}
	if math.IsInf(xmin, 1) { // no points
		xmin, xmax, ymax = 0, 1, 1
	}
	if xmin > 0 && xmin < xmax/2 {
		xmin = 0 // start at the origin when that costs less than half the width
	}
	if xmax == xmin {
		xmax = xmin + 1
	}
	if xmin == 0 {
		xmax = niceCeil(xmax)
	}
	if ymax <= ymin {
		ymax = ymin + 1
	}
	fy := func(v float64) float64 { return v }
	if logY {
		ymin = math.Inf(1)
		for _, l := range s.Lines {
			for _, p := range l.Points {
				ymin = math.Min(ymin, p.V)
			}
		}
		ymin, ymax = math.Floor(math.Log10(ymin)), math.Ceil(math.Log10(ymax))
		if ymax == ymin {
			ymax++
		}
		fy = math.Log10
	} else {
		ymax = niceCeil(ymax)
	}
	pw, ph := plotW-marginL-marginR, plotH-marginT-marginB
	px := func(x float64) float64 { return marginL + (x-xmin)/(xmax-xmin)*pw }
	py := func(y float64) float64 { return marginT + ph - (fy(y)-ymin)/(ymax-ymin)*ph }
	// Axes and ticks.
	fmt.Fprintf(&b, `<path d="M%.1f %.1fV%.1fH%.1f" fill="none" stroke="black"/>`+"\n", marginL, marginT, marginT+ph, marginL+pw)
	for i := 0; i <= 5; i++ {
		xv := xmin + float64(i)/5*(xmax-xmin)
		x := px(xv)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/><text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", x, marginT+ph, x, marginT+ph+5, x, marginT+ph+18, tick(xv))
		yv := ymin + float64(i)/5*(ymax-ymin)
		label := tick(yv)
		if logY {
			label = tick(math.Pow(10, yv))
		}
		y := marginT + ph - float64(i)/5*ph
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/><text x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n", marginL, y, marginL+pw, y, marginL-6, y+4, label)
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", marginL+pw/2, plotH-10, html.EscapeString(s.XLabel))
	fmt.Fprintf(&b, `<text transform="translate(16 %.1f) rotate(-90)" text-anchor="middle">%s</text>`+"\n", marginT+ph/2, html.EscapeString(s.YLabel))
	// Lines, markers and legend.
	for i, l := range s.Lines {
		color := palette[i%len(palette)]
		if len(l.Points) > 0 {
			b.WriteString(`<polyline fill="none" stroke-width="2" stroke="` + color + `" points="`)
			for _, p := range l.Points {
				fmt.Fprintf(&b, "%.1f,%.1f ", px(p.T), py(p.V))
			}
			b.WriteString("\"/>\n")
			if len(l.Points) <= 60 {
				for _, p := range l.Points {
					fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`, px(p.T), py(p.V), color)
				}
				b.WriteString("\n")
			}
		}
		ly := marginT + 8 + float64(i)*16
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="12" height="4" fill="%s"/><text x="%.1f" y="%.1f">%s</text>`+"\n", marginL+12, ly, color, marginL+28, ly+5, html.EscapeString(l.Label))
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
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
