package bench

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Sizes of the figures with a shared legend: 720 points is 960 pixels at
// the 96 dpi of the PNG files, the width of a README page.
const (
	wideFigure  = 720 // points
	plotArea    = 640 // about the width of a wide figure's data area, in points
	costRowH    = 210
	gemmRowH    = 270
	maxBarWidth = 24
)

// costFigure draws a Forward or Backward table: per level, one group of
// bars per activation with one bar per implementation, ns per element on a
// log scale shared by the levels, and a dashed line at the ReLU time of
// each implementation in its colour.
func costFigure(t *Table) (*figure, error) {
	if err := needColumns(t, "act", "level", "impl", "ns/elem"); err != nil {
		return nil, err
	}
	ac, lc, ic, vc := t.Col("act"), t.Col("level"), t.Col("impl"), t.Col("ns/elem")
	acts, levels, impls := distinct(t, "act", nil), distinct(t, "level", nil), distinct(t, "impl", nil)
	lo, hi := math.Inf(1), 0.0
	for _, row := range t.Rows {
		if v := row[vc]; v.Num && v.F > 0 {
			lo, hi = min(lo, v.F), max(hi, v.F)
		}
	}
	if hi == 0 {
		return nil, fmt.Errorf("no positive %q value to plot", "ns/elem")
	}
	// From a whole decade, with room above the tallest bar, and at least
	// one decade high, so that the axis labels two powers of ten. The axis
	// is linear in log10 of the values: gonum's log scale places the axis
	// label as on a linear scale and pads the plot for it.
	ymin := math.Floor(math.Log10(lo))
	ymax := max(math.Log10(hi)+0.12, ymin+1)
	colors := implColors(impls)
	w := barWidth(len(acts), len(impls))
	f := &figure{
		name:  "cost-" + strings.ToLower(t.Name),
		title: fmt.Sprintf("%s activation kernels: ns per element, per implementation (log scale)", t.Name),
		width: wideFigure,
		rowH:  costRowH,
	}
	for i, im := range impls {
		f.legend = append(f.legend, legendItem{text: im, thumbs: []plot.Thumbnailer{&barSet{color: plotutil.Color(colors[i])}}})
	}
	withRelu := false
	for li, level := range levels {
		p := plot.New()
		p.Title.Text = level + "-resident arrays"
		if ns := distinct(t, "n", func(row []Cell) bool { return row[lc].S == level }); t.Col("n") >= 0 && len(ns) == 1 {
			p.Title.Text += ", n = " + ns[0]
		}
		p.Y.Label.Text = "ns per element (log scale)"
		p.Y.Tick.Marker = logTicks(ymin, ymax)
		p.Add(hgrid())
		var marks []plot.Plotter
		for i, im := range impls {
			b := &barSet{vals: nanValues(len(acts)), width: w, offset: barOffset(w, i, len(impls)), color: plotutil.Color(colors[i])}
			for _, row := range t.Rows {
				if v := row[vc]; row[lc].S == level && row[ic].S == im && v.Num && v.F > 0 {
					j := slices.Index(acts, row[ac].S)
					b.vals[j] = math.Log10(v.F)
					if row[ac].S == "relu" {
						marks = append(marks, &hline{y: math.Log10(v.F), style: markStyle(colors[i])})
					}
				}
			}
			p.Add(b)
		}
		withRelu = withRelu || len(marks) > 0
		p.Add(marks...) // over the bars: the darker shade shows on its own bars too
		p.NominalX(acts...)
		p.X.Min, p.X.Max = -0.5, float64(len(acts))-0.5 // lines and grid span every group
		p.Y.Padding = 0
		p.Y.Min, p.Y.Max = ymin, ymax
		if li == len(levels)-1 {
			p.X.Label.Text = "activation"
		}
		f.rows = append(f.rows, []*plot.Plot{p})
	}
	if withRelu {
		f.legend = append(f.legend, legendItem{
			text:   "ReLU time of each implementation (dashed, in its colour)",
			thumbs: []plot.Thumbnailer{&hline{style: markStyle(-1)}},
		})
	}
	return f, nil
}

// gemmFigure draws the Gemm table: per thread count, one group of bars per
// shape with one bar per implementation, the %widest column (GFLOP/s as a
// percentage of the widest peak of the run times the threads) of the
// identity epilogue (of the table's first activation if it has no
// identity rows), a line at 100% and one at the peak of every other
// implementation with a SIMD probe. The probes are named from r's Peak
// table, when it has one.
func gemmFigure(r *Report, t *Table) (*figure, error) {
	if err := needColumns(t, "shape", "act", "threads", "impl", "%peak", "%widest"); err != nil {
		return nil, err
	}
	sc, ac, tc, ic, pc, wc := t.Col("shape"), t.Col("act"), t.Col("threads"), t.Col("impl"), t.Col("%peak"), t.Col("%widest")
	act := "identity"
	if acts := distinct(t, "act", nil); !slices.Contains(acts, act) {
		act = acts[0]
	}
	keep := func(row []Cell) bool { return row[ac].S == act }
	shapes, threads, impls := distinct(t, "shape", keep), distinct(t, "threads", keep), distinct(t, "impl", keep)
	// An implementation's peak relative to the widest is %widest/%peak of
	// any of its rows; the GFLOP/s column and the thread count give the
	// widest peak itself where the report has no Peak table.
	rel := map[string]float64{}
	hi, widestGF := 100.0, 0.0
	gc := t.Col("GFLOP/s")
	for _, row := range t.Rows {
		if !keep(row) || !row[wc].Num {
			continue
		}
		hi = max(hi, row[wc].F)
		if _, ok := rel[row[ic].S]; !ok && row[pc].Num && row[pc].F > 0 {
			rel[row[ic].S] = row[wc].F / row[pc].F
		}
		if th, err := strconv.Atoi(row[tc].S); err == nil && th > 0 && gc >= 0 && row[gc].Num && row[wc].F > 0 && widestGF == 0 {
			widestGF = 100 * row[gc].F / (row[wc].F * float64(th))
		}
	}
	// The Peak table lists each implementation's SIMD probe, the widest
	// (the highest) among them.
	probes, probeGF := peakRows(r)
	widestProbe := ""
	if len(probeGF) > 0 {
		i := slices.Index(probeGF, slices.Max(probeGF))
		widestProbe, widestGF = probes[i], probeGF[i]
	}
	colors := implColors(impls)
	title := "GEMM C = A·B + bias (identity epilogue)"
	if act != "identity" {
		title = fmt.Sprintf("GEMM C = %s(A·B + bias)", act)
	}
	f := &figure{
		name:  "gemm",
		title: title + ": GFLOP/s as % of the widest FMA peak measured in the run",
		width: wideFigure,
		rowH:  gemmRowH,
	}
	for i, im := range impls {
		f.legend = append(f.legend, legendItem{text: im, thumbs: []plot.Thumbnailer{&barSet{color: plotutil.Color(colors[i])}}})
	}
	widestLine := &hline{y: 100, style: draw.LineStyle{Color: color.Black, Width: vg.Points(1.5)}}
	label := "100% = the widest peak"
	if widestProbe != "" {
		label += ": " + widestProbe
	}
	if widestGF > 0 {
		label += fmt.Sprintf(", %.1f GFLOP/s per core", widestGF)
	}
	f.legend = append(f.legend, legendItem{text: label, thumbs: []plot.Thumbnailer{widestLine}})
	peakLines := []plot.Plotter{widestLine}
	for i, im := range impls {
		q, ok := rel[im]
		probe, gf := "", q*widestGF
		if len(probes) > 0 {
			// A line for each implementation with a SIMD probe of its
			// own but the widest, even at the widest's height.
			j := slices.Index(probes, simdProbe(im))
			if j < 0 || probes[j] == widestProbe {
				continue
			}
			probe, gf = probes[j], probeGF[j]
			if !ok {
				q, ok = gf/widestGF, true
			}
		} else if q > 0.999 {
			continue // the widest, or measured against it (no SIMD probe)
		}
		if !ok {
			continue
		}
		l := &hline{y: 100 * q, style: markStyle(colors[i])}
		l.style.Width = vg.Points(1.5)
		label := fmt.Sprintf("%s peak = %.1f%%", im, 100*q)
		if probe != "" {
			label += ": " + probe
		}
		if gf > 0 {
			label += fmt.Sprintf(", %.1f GFLOP/s per core", gf)
		}
		f.legend = append(f.legend, legendItem{text: label, thumbs: []plot.Thumbnailer{l}})
		peakLines = append(peakLines, l)
	}
	labels := make([]string, len(shapes))
	for i, s := range shapes {
		labels[i] = shapeLabel(s)
	}
	w := barWidth(len(shapes), len(impls))
	for ti, th := range threads {
		p := plot.New()
		p.Title.Text = th + " threads"
		if th == "1" {
			p.Title.Text = "1 thread"
		}
		p.Y.Label.Text = "% of the widest peak × threads"
		p.Add(hgrid())
		for i, im := range impls {
			b := &barSet{vals: nanValues(len(shapes)), width: w, offset: barOffset(w, i, len(impls)), color: plotutil.Color(colors[i])}
			for _, row := range t.Rows {
				if keep(row) && row[tc].S == th && row[ic].S == im && row[wc].Num {
					b.vals[slices.Index(shapes, row[sc].S)] = row[wc].F
				}
			}
			p.Add(b)
		}
		p.Add(peakLines...)
		p.NominalX(labels...)
		p.X.Min, p.X.Max = -0.5, float64(len(labels))-0.5
		p.Y.Padding = 0
		p.Y.Min, p.Y.Max = 0, 1.08*hi
		if p.Y.Max <= 150 {
			p.Y.Tick.Marker = percentTicks(p.Y.Max)
		}
		if ti == len(threads)-1 {
			p.X.Label.Text = "shape M×K×N"
		}
		f.rows = append(f.rows, []*plot.Plot{p})
	}
	return f, nil
}

// logTicks returns the ticks of an axis of log10 values from lo to hi:
// labelled powers of ten, unlabelled multiples of them.
func logTicks(lo, hi float64) plot.ConstantTicks {
	var ticks plot.ConstantTicks
	for d := int(math.Floor(lo)); float64(d) <= hi; d++ {
		p := math.Pow10(d)
		for k := 1; k < 10; k++ {
			v := math.Log10(float64(k) * p)
			if v < lo-1e-9 || v > hi+1e-9 {
				continue
			}
			t := plot.Tick{Value: v}
			if k == 1 {
				t.Label = strconv.FormatFloat(p, 'f', -1, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// percentTicks returns ticks every 10 from 0 to max, labelled every 20.
func percentTicks(max float64) plot.ConstantTicks {
	var ticks plot.ConstantTicks
	for v := 0; float64(v) <= max; v += 10 {
		t := plot.Tick{Value: float64(v)}
		if v%20 == 0 {
			t.Label = strconv.Itoa(v)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// peakRows returns the probes and GFLOP/s of r's Peak table, if it has one
// with those columns.
func peakRows(r *Report) ([]string, []float64) {
	var probes []string
	var gfs []float64
	for _, t := range r.Tables {
		if t.Name != "Peak" || needColumns(t, "probe", "GFLOP/s") != nil || checkRows(t) != nil {
			continue
		}
		pc, gc := t.Col("probe"), t.Col("GFLOP/s")
		for _, row := range t.Rows {
			if row[gc].Num {
				probes = append(probes, row[pc].S)
				gfs = append(gfs, row[gc].F)
			}
		}
	}
	return probes, gfs
}

// shapeLabel writes a shape of the Gemm table ("784x128x512/At") as a tick
// label, the transposed operands on a second line.
func shapeLabel(s string) string {
	parts := strings.Split(s, "/")
	var ops []string
	for _, p := range parts[1:] {
		switch p {
		case "At":
			ops = append(ops, "A")
		case "Bt":
			ops = append(ops, "B")
		default:
			return s
		}
	}
	if len(ops) == 0 {
		return s
	}
	return parts[0] + "\n" + strings.Join(ops, ", ") + " transposed"
}

// implColors returns the palette index of each implementation: fixed for
// the known ones, so that an implementation has the same colour in every
// figure, then the following indices in order of appearance.
func implColors(impls []string) []int {
	known := map[string]int{"avx512": 0, "avx2": 1, "generic": 2, NaiveName: 3, "neon": 4}
	next := len(known)
	out := make([]int, len(impls))
	for i, im := range impls {
		if c, ok := known[im]; ok {
			out[i] = c
		} else {
			out[i] = next
			next++
		}
	}
	return out
}

// markStyle is the dashed line of a reference level in the darker shade
// of palette colour i (grey for i < 0).
func markStyle(i int) draw.LineStyle {
	var c color.Color = color.Gray{Y: 80}
	if i >= 0 {
		c = plotutil.DarkColors[i%len(plotutil.DarkColors)]
	}
	return draw.LineStyle{Color: c, Width: vg.Points(1.2), Dashes: []vg.Length{vg.Points(5), vg.Points(3)}}
}

// barWidth returns the width of the bars of n series over cats groups in
// a wide figure: the bars of a group fill 80% of its share of the data
// area, and no bar is wider than maxBarWidth.
func barWidth(cats, n int) vg.Length {
	return vg.Points(max(2, min(maxBarWidth, 0.8*plotArea/float64(max(cats, 1))/float64(max(n, 1)))))
}

// barOffset returns the offset of bar i of n in its group.
func barOffset(w vg.Length, i, n int) vg.Length {
	return w * vg.Length(float64(i)-float64(n-1)/2)
}

func nanValues(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = math.NaN()
	}
	return v
}

// barSet draws one bar per category (NaN: none), from the bottom of the
// data area up to its value, so that it also works on an axis of
// logarithms; on a linear axis the y axis must start at 0.
type barSet struct {
	vals   []float64
	width  vg.Length
	offset vg.Length // from the category's centre
	color  color.Color
}

// Plot implements plot.Plotter.
func (b *barSet) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for i, v := range b.vals {
		if math.IsNaN(v) {
			continue
		}
		x := trX(float64(i)) + b.offset
		top := trY(v)
		poly := []vg.Point{
			{X: x - b.width/2, Y: c.Min.Y}, {X: x - b.width/2, Y: top},
			{X: x + b.width/2, Y: top}, {X: x + b.width/2, Y: c.Min.Y},
		}
		c.FillPolygon(b.color, c.ClipPolygonY(poly))
	}
}

// DataRange implements plot.DataRanger.
func (b *barSet) DataRange() (xmin, xmax, ymin, ymax float64) {
	ymin, ymax = math.Inf(1), math.Inf(-1)
	for _, v := range b.vals {
		if !math.IsNaN(v) {
			ymin, ymax = min(ymin, v), max(ymax, v)
		}
	}
	return 0, float64(len(b.vals) - 1), ymin, ymax
}

// GlyphBoxes implements plot.GlyphBoxer, so that the outer bars are not
// clipped.
func (b *barSet) GlyphBoxes(p *plot.Plot) []plot.GlyphBox {
	boxes := make([]plot.GlyphBox, len(b.vals))
	for i := range b.vals {
		boxes[i].X = p.X.Norm(float64(i))
		boxes[i].Rectangle = vg.Rectangle{Min: vg.Point{X: b.offset - b.width/2}, Max: vg.Point{X: b.offset + b.width/2}}
	}
	return boxes
}

// Thumbnail implements plot.Thumbnailer.
func (b *barSet) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(b.color, []vg.Point{
		{X: c.Min.X, Y: c.Min.Y}, {X: c.Min.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Min.Y},
	})
}

// hline draws a horizontal line across the data area at y.
type hline struct {
	y     float64
	style draw.LineStyle
}

// Plot implements plot.Plotter.
func (h *hline) Plot(c draw.Canvas, p *plot.Plot) {
	_, trY := p.Transforms(&c)
	if y := trY(h.y); c.ContainsY(y) {
		c.StrokeLine2(h.style, c.Min.X, y, c.Max.X, y)
	}
}

// Thumbnail implements plot.Thumbnailer.
func (h *hline) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(h.style, c.Min.X, y, c.Max.X, y)
}

// legendItem is one entry of a legend: a text and the thumbnails drawn,
// one over the other, beside it.
type legendItem struct {
	text   string
	thumbs []plot.Thumbnailer
}

// header is the title and the shared legend of a figure, laid out in rows
// centred across the figure's width.
type header struct {
	title      string
	titleStyle text.Style
	style      text.Style
	rows       [][]placedItem
	rowH       vg.Length
	height     vg.Length // 0: no header
}

type placedItem struct {
	legendItem
	x vg.Length // from the left of the figure
}

const (
	headerPad = 6  // points above and below the header
	thumbW    = 20 // points
	thumbGap  = 5  // points between a thumbnail and its text
	itemGap   = 16 // points between two legend entries
)

// headerLayout lays out the title and legend of f for a figure w wide.
func (f *figure) headerLayout(w vg.Length) header {
	h := header{
		title:      f.title,
		titleStyle: text.Style{Color: color.Black, Font: font.From(plot.DefaultFont, 13), Handler: plot.DefaultTextHandler, XAlign: draw.XCenter, YAlign: draw.YTop},
		style:      text.Style{Color: color.Black, Font: font.From(plot.DefaultFont, 11), Handler: plot.DefaultTextHandler, YAlign: draw.YCenter},
	}
	if f.title == "" && len(f.legend) == 0 {
		return h
	}
	h.rowH = 1.5 * h.style.Height("Mg")
	avail := w - 2*vg.Points(headerPad)
	var row []placedItem
	var x vg.Length
	flush := func() {
		if len(row) == 0 {
			return
		}
		shift := (w - (x - vg.Points(itemGap))) / 2 // centre the row
		for i := range row {
			row[i].x += shift
		}
		h.rows = append(h.rows, row)
		row, x = nil, 0
	}
	for _, it := range f.legend {
		iw := vg.Points(thumbW+thumbGap) + h.style.Width(it.text)
		if len(row) > 0 && x+iw > avail {
			flush()
		}
		row = append(row, placedItem{legendItem: it, x: x})
		x += iw + vg.Points(itemGap)
	}
	flush()
	h.height = 2*vg.Points(headerPad) + h.rowH*vg.Length(len(h.rows))
	if f.title != "" {
		h.height += h.titleStyle.Height(f.title) + vg.Points(headerPad)
	}
	return h
}

// draw draws the header into c, a canvas as wide as the figure and as high
// as the header.
func (h header) draw(c draw.Canvas) {
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
	y := c.Max.Y - vg.Points(headerPad)
	if h.title != "" {
		c.FillText(h.titleStyle, vg.Point{X: c.Center().X, Y: y}, h.title)
		y -= h.titleStyle.Height(h.title) + vg.Points(headerPad)
	}
	th := 0.7 * h.style.Font.Size
	for _, row := range h.rows {
		mid := y - h.rowH/2
		for _, it := range row {
			x := c.Min.X + it.x
			icon := &draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
				Min: vg.Point{X: x, Y: mid - th/2},
				Max: vg.Point{X: x + vg.Points(thumbW), Y: mid + th/2},
			}}
			for _, t := range it.thumbs {
				t.Thumbnail(icon)
			}
			c.FillText(h.style, vg.Point{X: x + vg.Points(thumbW+thumbGap), Y: mid}, it.text)
		}
		y -= h.rowH
	}
}
