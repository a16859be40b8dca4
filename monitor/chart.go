package monitor

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Chart geometry: one figure, the scatter over time on the left, the
// legend and one histogram per class on the right.
const (
	chartWidth  = 13 * vg.Inch
	chartHeight = 6.5 * vg.Inch
	// ChartDPI is the PNG resolution: 13 x 6.5 in at 110 dpi is
	// 1430 x 715 pixels.
	ChartDPI = 110

	titleBand   = 0.75 * vg.Inch
	leftShare   = 0.62
	legendBand  = 1.25 * vg.Inch
	confStepMaj = 0.1
	confStepMin = 0.05
	// histBinWidth is the target bin width of the histograms; the
	// threshold is always a bin edge.
	histBinWidth = 0.025
)

// Colours: Okabe-Ito bluish green and vermillion, told apart with colour
// blindness too.
func passColor() color.Color      { return color.NRGBA{R: 0x00, G: 0x9e, B: 0x73, A: 0xff} }
func failColor() color.Color      { return color.NRGBA{R: 0xd5, G: 0x5e, B: 0x00, A: 0xff} }
func thresholdColor() color.Color { return color.NRGBA{R: 0x22, G: 0x22, B: 0x22, A: 0xff} }
func gridColor() color.Color      { return color.NRGBA{R: 0xdd, G: 0xdd, B: 0xdd, A: 0xff} }
func mutedColor() color.Color     { return color.NRGBA{R: 0x55, G: 0x55, B: 0x55, A: 0xff} }

func thresholdStyle() draw.LineStyle {
	return draw.LineStyle{Color: thresholdColor(), Width: vg.Points(1.5), Dashes: []vg.Length{vg.Points(6), vg.Points(4)}}
}

// classGlyph is the marker shape of a predicted class.
func classGlyph(cls int) draw.GlyphDrawer {
	switch cls {
	case 0:
		return draw.CircleGlyph{}
	case 1:
		return draw.PyramidGlyph{} // a filled triangle
	case 2:
		return draw.BoxGlyph{}
	}
	return draw.CrossGlyph{}
}

func sans(size vg.Length, bold bool) font.Font {
	f := font.Font{Typeface: "Liberation", Variant: "Sans", Size: size}
	if bold {
		f.Weight = xfont.WeightBold
	}
	return f
}

func textStyle(size vg.Length, bold bool, c color.Color) text.Style {
	return text.Style{Color: c, Font: sans(size, bold), Handler: plot.DefaultTextHandler}
}

// newPlot returns a plot with sans-serif text and a light grid.
func newPlot(title string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = sans(13, true)
	p.Title.Padding = vg.Points(6)
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font = sans(11, false)
		ax.Tick.Label.Font = sans(10, false)
		ax.Padding = vg.Points(2)
	}
	p.Legend.TextStyle.Font = sans(11, false)
	g := plotter.NewGrid()
	g.Vertical.Color, g.Horizontal.Color = gridColor(), gridColor()
	g.Vertical.Width, g.Horizontal.Width = vg.Points(0.5), vg.Points(0.5)
	p.Add(g)
	return p
}

// WriteChart draws the report figure for ds and s (its threshold) as
// "png" or "svg" to w.
func WriteChart(w io.Writer, format string, ds *Dataset, s Summary) error {
	var (
		c  vg.CanvasWriterTo
		dc draw.Canvas
	)
	switch format {
	case "png":
		img := vgimg.NewWith(vgimg.UseWH(chartWidth, chartHeight), vgimg.UseDPI(ChartDPI), vgimg.UseBackgroundColor(color.White))
		c = vgimg.PngCanvas{Canvas: img}
		dc = draw.New(img)
	case "svg":
		svg := vgsvg.New(chartWidth, chartHeight)
		c = svg
		dc = draw.New(svg)
		dc.FillPolygon(color.White, []vg.Point{dc.Min, {X: dc.Max.X, Y: dc.Min.Y}, dc.Max, {X: dc.Min.X, Y: dc.Max.Y}})
	default:
		return fmt.Errorf("chart format %q: want png or svg", format)
	}
	if err := drawFigure(dc, ds, s); err != nil {
		return err
	}
	if format == "svg" {
		// The SVG names the font without embedding it: add fallbacks
		// (Liberation Sans has Arial's metrics, so the layout holds).
		var buf bytes.Buffer
		if _, err := c.WriteTo(&buf); err != nil {
			return fmt.Errorf("writing svg chart: %w", err)
		}
		out := bytes.ReplaceAll(buf.Bytes(), []byte("font-family:Liberation Sans;"), []byte("font-family:'Liberation Sans',Arial,Helvetica,sans-serif;"))
		if _, err := w.Write(out); err != nil {
			return fmt.Errorf("writing svg chart: %w", err)
		}
		return nil
	}
	if _, err := c.WriteTo(w); err != nil {
		return fmt.Errorf("writing %s chart: %w", format, err)
	}
	return nil
}

// drawFigure lays out the figure on dc.
func drawFigure(dc draw.Canvas, ds *Dataset, s Summary) (err error) {
	// gonum/plot reports some drawing problems by panicking.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("drawing chart: %v", r)
		}
	}()
	t := s.Threshold
	lo := confLow(ds)

	// Title band.
	w := dc.Max.X - dc.Min.X
	head := fmt.Sprintf("Endpoint data capture: %d %s, %d pass / %d fail at threshold %s (%.1f%% pass)",
		s.Captures, plural(s.Captures, "inference", "inferences"), s.Passed, s.Failed, fmtConf(t), 100*s.PassRate)
	dc.FillText(centered(textStyle(16, true, color.Black)), vg.Point{X: dc.Min.X + w/2, Y: dc.Max.Y - 0.28*vg.Inch}, head)
	var parts []string
	if s.Source != "" {
		parts = append(parts, s.Source)
	}
	parts = append(parts, windowText(s), fmt.Sprintf("pass = top confidence > %s, as the filter Lambda decides", fmtConf(t)))
	if s.MalformedLines > 0 {
		parts = append(parts, fmt.Sprintf("%d malformed %s skipped", s.MalformedLines, plural(s.MalformedLines, "line", "lines")))
	}
	sub := strings.Join(parts, "  ·  ")
	dc.FillText(centered(textStyle(10.5, false, mutedColor())), vg.Point{X: dc.Min.X + w/2, Y: dc.Max.Y - 0.56*vg.Inch}, sub)
	body := draw.Crop(dc, 0.1*vg.Inch, -0.15*vg.Inch, 0.05*vg.Inch, -titleBand)

	bw := body.Max.X - body.Min.X
	left := draw.Crop(body, 0, -(1-leftShare)*bw, 0, 0)
	right := draw.Crop(body, leftShare*bw+0.2*vg.Inch, 0, 0, 0)

	scatter, err := scatterPlot(ds, t, lo)
	if err != nil {
		return err
	}
	scatter.Draw(left)

	legend := figureLegend(s)
	legendArea := draw.Crop(right, 0.45*vg.Inch, 0, 0, 0)
	legendArea.Min.Y = legendArea.Max.Y - legendBand
	drawLegendBox(legendArea, legend)

	hists := draw.Crop(right, 0, 0, 0, -legendBand-0.1*vg.Inch)
	plots, err := classHistograms(ds, s, t, lo)
	if err != nil {
		return err
	}
	tiles := draw.Tiles{Rows: len(plots), Cols: 1, PadY: 0.12 * vg.Inch}
	for i, p := range plots {
		p.Draw(tiles.At(hists, 0, i))
	}
	return nil
}

func centered(s text.Style) text.Style {
	s.XAlign = draw.XCenter
	s.YAlign = draw.YCenter
	return s
}

// confLow is the bottom of the confidence axes: 0.5 (the least top
// confidence of two classes) unless some record is lower.
func confLow(ds *Dataset) float64 {
	lo := 0.5
	for _, r := range ds.Records {
		if top, _ := r.Top(); top < 0.5 {
			// more than two classes: down to a margin below the lowest point
			lo = math.Min(lo, math.Floor((top-0.01)/confStepMaj)*confStepMaj)
		}
	}
	return math.Max(0, lo)
}

func fmtConf(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func windowText(s Summary) string {
	if s.Captures == 0 {
		return "no inferences"
	}
	first, last := s.Window.First, s.Window.Last
	w := first.Format("2006-01-02 15:04:05") + " to "
	if last.Format("2006-01-02") == first.Format("2006-01-02") {
		w += last.Format("15:04:05")
	} else {
		w += last.Format("2006-01-02 15:04:05")
	}
	w += " UTC"
	if s.Window.Since != nil {
		w += " (since " + s.Window.Since.Format("2006-01-02 15:04:05") + ")"
	}
	return w
}

// unixSeconds converts a time to the float seconds the time axis uses.
func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// scatterPlot is top confidence over inference time, one point per record,
// coloured pass/fail and shaped by predicted class, with the threshold.
func scatterPlot(ds *Dataset, t, lo float64) (*plot.Plot, error) {
	p := newPlot("Top confidence over inference time")
	p.Y.Label.Text = "top confidence (max of the class probabilities)"
	p.Y.Min, p.Y.Max = lo, 1.0
	p.Y.Tick.Marker = confTicks{}
	pts := map[[2]int]plotter.XYs{}
	var tmin, tmax float64
	for i, r := range ds.Records {
		top, cls := r.Top()
		x := unixSeconds(r.Time)
		if i == 0 || x < tmin {
			tmin = x
		}
		if i == 0 || x > tmax {
			tmax = x
		}
		pass := 0
		if Passes(top, t) {
			pass = 1
		}
		k := [2]int{cls, pass}
		pts[k] = append(pts[k], plotter.XY{X: x, Y: top})
	}
	// Pad the time range; widen a very short one.
	span := tmax - tmin
	if span < 60 {
		mid := (tmin + tmax) / 2
		tmin, tmax, span = mid-30, mid+30, 60
	}
	p.X.Min, p.X.Max = tmin-0.04*span, tmax+0.04*span
	p.X.Tick.Marker = clockTicks{}
	p.X.Label.Text = "inference time (" + dateLabel(p.X.Min, p.X.Max) + ")"

	// Fail points first, then pass points, then the threshold line on top.
	for _, pass := range []int{0, 1} {
		for cls := range maxClass(ds) + 1 {
			xys := pts[[2]int{cls, pass}]
			if len(xys) == 0 {
				continue
			}
			sc, err := plotter.NewScatter(xys)
			if err != nil {
				return nil, fmt.Errorf("scatter: %w", err)
			}
			c := failColor()
			if pass == 1 {
				c = passColor()
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: translucent(c), Radius: vg.Points(3.6), Shape: classGlyph(cls)}
			p.Add(sc)
		}
	}
	line := plotter.NewFunction(func(float64) float64 { return t })
	line.LineStyle = thresholdStyle()
	if t > lo && t < 1 {
		p.Add(line)
	}
	return p, nil
}

func translucent(c color.Color) color.Color {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	n.A = 0xd0
	return n
}

func maxClass(ds *Dataset) int {
	m := numClasses - 1
	for _, r := range ds.Records {
		m = max(m, len(r.Output)-1)
	}
	return m
}

// glyphThumb is a legend thumbnail of one marker.
type glyphThumb struct{ sty draw.GlyphStyle }

func (g glyphThumb) Thumbnail(c *draw.Canvas) { c.DrawGlyph(g.sty, c.Center()) }

// lineThumb is a legend thumbnail of a horizontal line.
type lineThumb struct{ sty draw.LineStyle }

func (l lineThumb) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(l.sty, c.Min.X, y, c.Max.X, y)
}

// barThumb is a legend thumbnail of a filled box.
type barThumb struct{ c color.Color }

func (b barThumb) Thumbnail(c *draw.Canvas) {
	r := c.Rectangle
	h := (r.Max.Y - r.Min.Y) * 0.8
	y0 := r.Min.Y + (r.Max.Y-r.Min.Y-h)/2
	c.FillPolygon(b.c, []vg.Point{{X: r.Min.X, Y: y0}, {X: r.Max.X, Y: y0}, {X: r.Max.X, Y: y0 + h}, {X: r.Min.X, Y: y0 + h}})
}

func figureLegend(s Summary) plot.Legend {
	l := plot.NewLegend()
	l.TextStyle.Font = sans(11, false)
	l.Top, l.Left = true, true
	l.ThumbnailWidth = vg.Points(22)
	l.Padding = vg.Points(3)
	r := vg.Points(4)
	l.Add(fmt.Sprintf("pass: top confidence > %s (%d)", fmtConf(s.Threshold), s.Passed),
		barThumb{passColor()})
	l.Add(fmt.Sprintf("fail: top confidence ≤ %s (%d)", fmtConf(s.Threshold), s.Failed),
		barThumb{failColor()})
	l.Add(fmt.Sprintf("threshold %s", fmtConf(s.Threshold)), lineThumb{thresholdStyle()})
	for i, name := range s.classNames() {
		if i >= numClasses && s.Classes[name].Count == 0 {
			continue
		}
		cls := i
		l.Add(fmt.Sprintf("predicted %s (%d)", name, s.Classes[name].Count),
			glyphThumb{draw.GlyphStyle{Color: mutedColor(), Radius: r, Shape: classGlyph(cls)}})
	}
	return l
}

// drawLegendBox draws the legend in the top left corner of c, in a light
// frame.
func drawLegendBox(c draw.Canvas, l plot.Legend) {
	pad := vg.Points(7)
	inner := draw.Crop(c, pad, 0, 0, -pad)
	r := l.Rectangle(inner) // only its size: its position is off for Left legends
	w, h := r.Max.X-r.Min.X, r.Max.Y-r.Min.Y
	x0, y1 := c.Min.X, c.Max.Y
	x1, y0 := x0+w+2*pad, y1-h-2*pad
	c.StrokeLines(draw.LineStyle{Color: gridColor(), Width: vg.Points(1)},
		[]vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}, {X: x0, Y: y0}})
	l.Draw(inner)
}

// classHistograms are one histogram per predicted class of the top
// confidences, bars coloured pass/fail, with the threshold.
func classHistograms(ds *Dataset, s Summary, t, lo float64) ([]*plot.Plot, error) {
	names := s.classNames()
	values := make([][]float64, len(names))
	index := map[string]int{}
	for i, n := range names {
		index[n] = i
	}
	for _, r := range ds.Records {
		top, cls := r.Top()
		i := index[ClassName(cls)]
		values[i] = append(values[i], top)
	}
	edges := binEdges(lo, 1, t)
	var (
		plots []*plot.Plot
		ymax  float64
		bins  [][]plotter.HistogramBin
	)
	for i, name := range names {
		if i >= numClasses && len(values[i]) == 0 {
			continue
		}
		b := binCounts(values[i], edges, t)
		for _, x := range b {
			ymax = math.Max(ymax, x.Weight)
		}
		bins = append(bins, b)
		c := s.Classes[name]
		title := fmt.Sprintf("Predicted %s: %d", name, c.Count)
		if c.Count > 0 {
			title += fmt.Sprintf(", %.1f%% pass", 100*c.PassRate)
		}
		plots = append(plots, newPlot(title))
	}
	ymax = math.Max(1, math.Ceil(ymax*1.12))
	for i, p := range plots {
		p.Title.TextStyle.Font = sans(11.5, true)
		p.X.Min, p.X.Max = lo, 1.0
		p.X.Tick.Marker = confTicks{}
		p.Y.Min, p.Y.Max = 0, ymax
		p.Y.Tick.Marker = countTicks{}
		p.Y.Label.Text = "inferences"
		if i == len(plots)-1 {
			p.X.Label.Text = "top confidence"
		}
		var pass, fail []plotter.HistogramBin
		for _, b := range bins[i] {
			if b.Min >= t {
				pass = append(pass, b)
			} else {
				fail = append(fail, b)
			}
		}
		for _, part := range []struct {
			bins []plotter.HistogramBin
			c    color.Color
		}{{fail, failColor()}, {pass, passColor()}} {
			if len(part.bins) == 0 {
				continue
			}
			h := &plotter.Histogram{Bins: part.bins, Width: part.bins[0].Max - part.bins[0].Min, FillColor: part.c}
			h.LineStyle = draw.LineStyle{Color: color.White, Width: vg.Points(0.6)}
			p.Add(h)
		}
		if t > lo && t < 1 {
			p.Add(verticalLine{x: t, sty: thresholdStyle()})
		}
	}
	return plots, nil
}

// binEdges splits [lo, hi] into bins of about histBinWidth with t as an
// edge when it lies inside.
func binEdges(lo, hi, t float64) []float64 {
	split := func(a, b float64) []float64 {
		n := max(1, int(math.Round((b-a)/histBinWidth)))
		e := make([]float64, n+1)
		for i := range e {
			e[i] = a + (b-a)*float64(i)/float64(n)
		}
		e[n] = b
		return e
	}
	if t <= lo || t >= hi {
		return split(lo, hi)
	}
	a := split(lo, t)
	return append(a[:len(a)-1], split(t, hi)...)
}

// binCounts counts vs into the bins between edges. Bins are (a, b] at and
// above t, so that a value equal to t (a fail) falls in the bin below it,
// and [a, b) below it except the one ending at t, which is [a, t]; the
// outermost bins include their outer edge.
func binCounts(vs, edges []float64, t float64) []plotter.HistogramBin {
	bins := make([]plotter.HistogramBin, len(edges)-1)
	for i := range bins {
		bins[i] = plotter.HistogramBin{Min: edges[i], Max: edges[i+1]}
	}
	for _, v := range vs {
		i := 0
		for i < len(bins)-1 {
			b := bins[i]
			if (b.Max < t && v < b.Max) || (b.Max >= t && v <= b.Max) {
				break
			}
			i++
		}
		bins[i].Weight++
	}
	return bins
}

// verticalLine is a plotter of a vertical line at x across the plot.
type verticalLine struct {
	x   float64
	sty draw.LineStyle
}

func (v verticalLine) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	x := trX(v.x)
	c.StrokeLine2(v.sty, x, c.Min.Y, x, c.Max.Y)
}

// confTicks label a confidence axis every 0.1, with minor ticks every
// 0.05.
type confTicks struct{}

func (confTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for i := int(math.Ceil(min/confStepMin - 1e-9)); float64(i)*confStepMin <= max+1e-9; i++ {
		v := float64(i) * confStepMin
		tk := plot.Tick{Value: v}
		if i%2 == 0 {
			tk.Label = strconv.FormatFloat(v, 'f', 1, 64)
		}
		ticks = append(ticks, tk)
	}
	return ticks
}

// countTicks label a count axis with a few whole numbers.
type countTicks struct{}

func (countTicks) Ticks(min, max float64) []plot.Tick {
	step := niceStep(max-min, 5)
	var ticks []plot.Tick
	for v := math.Ceil(min/step) * step; v <= max+1e-9; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', 0, 64)})
	}
	return ticks
}

// niceStep is the smallest whole 1, 2 or 5 x 10^k step giving at most n
// intervals over span.
func niceStep(span float64, n int) float64 {
	for mag := 1.0; ; mag *= 10 {
		for _, s := range []float64{1, 2, 5} {
			if span/(s*mag) <= float64(n) {
				return s * mag
			}
		}
	}
}

// clockSteps are the time-axis tick intervals, in seconds.
func clockSteps() []float64 {
	return []float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400}
}

// clockTicks label a time axis (Unix seconds) with UTC clock times at
// round intervals, about six of them, with minor ticks between. When the
// axis spans more than one day, the first label and each one on a new day
// carry the date.
type clockTicks struct{}

func (clockTicks) Ticks(min, max float64) []plot.Tick {
	span := max - min
	steps := clockSteps()
	step := steps[len(steps)-1]
	for _, s := range steps {
		if span/s <= 7 {
			step = s
			break
		}
	}
	layout := "15:04"
	switch {
	case step < 60:
		layout = "15:04:05"
	case step >= 86400:
		layout = "Jan 2"
	}
	multiDay := time.Unix(int64(min), 0).UTC().Format("20060102") != time.Unix(int64(max), 0).UTC().Format("20060102")
	minor := step / 2
	var (
		ticks   []plot.Tick
		lastDay string
	)
	for v := math.Ceil(min/minor) * minor; v <= max; v += minor {
		tk := plot.Tick{Value: v}
		if math.Mod(v, step) == 0 {
			t := time.Unix(int64(v), 0).UTC()
			tk.Label = t.Format(layout)
			if day := t.Format("Jan 2"); multiDay && step < 86400 && day != lastDay {
				tk.Label = day + " " + tk.Label
				lastDay = day
			}
		}
		ticks = append(ticks, tk)
	}
	return ticks
}

// dateLabel names the UTC date or dates of a time axis.
func dateLabel(min, max float64) string {
	a := time.Unix(int64(min), 0).UTC().Format("2006-01-02")
	b := time.Unix(int64(max), 0).UTC().Format("2006-01-02")
	if a == b {
		return "UTC, " + a
	}
	return "UTC, " + a + " to " + b
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
