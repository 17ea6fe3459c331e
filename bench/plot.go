package bench

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// WritePlots writes a PNG and an SVG figure into dir for every table of r
// that has one, and returns the names of the files written:
//
//   - cost-forward, cost-backward: ns/element of each activation as grouped
//     bars, one bar per implementation, on a log scale, one panel per size
//     (L1, L2, DRAM); a dashed line in each implementation's colour marks
//     its ReLU time;
//   - gemm: % of the widest FMA peak of the run per shape (identity
//     epilogue), one bar per implementation, one panel per thread count,
//     with lines at 100% (the widest peak) and at the peak of every other
//     implementation with a SIMD probe (from the Gemm and Peak tables);
//   - accuracy (max ULP), train (training error per epoch), dead (dead units
//     per epoch), noise (weights) and zigzag (same-sign rows per batch size).
//
// Tables without rows are skipped; a table that lacks a column its figure
// needs gives an error. The images depend on the tables only.
func WritePlots(dir string, r *Report) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("bench: plots: %w", err)
	}
	var written []string
	for _, t := range r.Tables {
		if len(t.Rows) == 0 {
			continue
		}
		f, err := figureOf(r, t)
		if err != nil {
			return written, fmt.Errorf("bench: plot of %s: %w", t.Name, err)
		}
		if f == nil {
			continue
		}
		files, err := f.save(dir)
		written = append(written, files...)
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

// A figure is a grid of panels, optionally under a title and a legend
// shared by the panels (drawn outside them, so that it hides no data).
type figure struct {
	name   string // file name without extension
	title  string
	legend []legendItem
	rows   [][]*plot.Plot
	width  vg.Length // 0: 360 points per column
	rowH   vg.Length // 0: 300 points per row
}

// one returns the figure of a single panel.
func one(name string, p *plot.Plot) *figure { return &figure{name: name, rows: [][]*plot.Plot{{p}}} }

// figureOf returns the figure of t, or nil for tables without a figure; r
// gives the tables that t's figure reads beside it.
func figureOf(r *Report, t *Table) (*figure, error) {
	if err := checkRows(t); err != nil {
		return nil, err
	}
	switch t.Name {
	case "Forward", "Backward":
		return costFigure(t)
	case "Gemm":
		return gemmFigure(r, t)
	case "Accuracy":
		if err := needColumns(t, "act", "impl", "max ULP"); err != nil {
			return nil, err
		}
		p, err := groupedBars(t, "max ULP error of the forward kernels", "max ULP (infinite shown as 0)", "act", "impl", "max ULP", nil)
		return one("accuracy", p), err
	case "TrainCurve":
		if err := needColumns(t, "act", "epoch", "train err %"); err != nil {
			return nil, err
		}
		p, entries, err := lines(t, "training error per epoch", "epoch", "training error %", "act", "epoch", "train err %")
		if err != nil {
			return nil, err
		}
		addLegend(p, entries)
		return one("train", p), nil
	case "Dead":
		if err := needColumns(t, "act", "bias init", "epoch"); err != nil {
			return nil, err
		}
		return perLayerFigure(t, "dead", "dead%", "dead units, ", "dead %", func(row []Cell) string {
			return row[t.Col("act")].S + " bias " + row[t.Col("bias init")].S
		})
	case "Linear":
		if err := needColumns(t, "act", "epoch"); err != nil {
			return nil, err
		}
		return perLayerFigure(t, "linear", "linear%", "outputs in the linear region, ", "in the linear region %", func(row []Cell) string {
			return row[t.Col("act")].S
		})
	case "NoiseWeights":
		cols := []string{"noise", "L2", "ridge (exact)"}
		if err := needColumns(t, append([]string{"weight"}, cols...)...); err != nil {
			return nil, err
		}
		p := plot.New()
		p.Title.Text = "weights: input noise vs L2 vs exact ridge"
		p.Y.Label.Text = "weight"
		cats := distinct(t, "weight", nil)
		var series []series
		for _, col := range cols {
			series = append(series, valuesOf(t, "weight", cats, col, nil, col))
		}
		return one("noise", p), addBars(p, cats, series)
	case "Zigzag":
		if err := needColumns(t, "act", "batch", "same-sign %"); err != nil {
			return nil, err
		}
		p, err := groupedBars(t, "units whose incoming weight gradients share one sign", "same-sign %", "batch", "act", "same-sign %", nil)
		return one("zigzag", p), err
	}
	return nil, nil
}

// perLayerFigure returns the figure name of one panel per column of t
// whose name starts with prefix and a space ("dead% L1"): the column
// against the epoch, one line per series (named by seriesOf), with one
// legend above the panels (the series are alike in each, and a legend
// inside would cover the top of the data: ELU with a positive bias dies to
// 100%).
func perLayerFigure(t *Table, name, prefix, title, ylabel string, seriesOf func(row []Cell) string) (*figure, error) {
	f := &figure{name: name, rows: [][]*plot.Plot{nil}}
	for _, col := range t.Columns {
		if strings.HasPrefix(col.Name, prefix+" ") {
			p, entries, err := linesBy(t, title+col.Name[len(prefix)+1:], "epoch", ylabel, seriesOf, "epoch", col.Name)
			if err != nil {
				return nil, err
			}
			p.Y.Min = min(p.Y.Min, 0)
			if f.legend == nil {
				f.legend = entries
			}
			f.rows[0] = append(f.rows[0], p)
		}
	}
	if len(f.rows[0]) == 0 {
		return nil, fmt.Errorf("table has no %s column (columns: %s)", prefix, columnNames(t))
	}
	return f, nil
}

// needColumns returns an error naming the first of names that t lacks.
func needColumns(t *Table, names ...string) error {
	for _, n := range names {
		if t.Col(n) < 0 {
			return fmt.Errorf("table has no %q column (columns: %s)", n, columnNames(t))
		}
	}
	return nil
}

// checkRows returns an error unless every row of t has one cell per column.
func checkRows(t *Table) error {
	for i, row := range t.Rows {
		if len(row) != len(t.Columns) {
			return fmt.Errorf("row %d has %d cells for %d columns", i, len(row), len(t.Columns))
		}
	}
	return nil
}

func columnNames(t *Table) string {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = strconv.Quote(c.Name)
	}
	return strings.Join(names, ", ")
}

// distinct returns the values of a label column in order of appearance.
func distinct(t *Table, col string, keep func([]Cell) bool) []string {
	c := t.Col(col)
	var out []string
	for _, row := range t.Rows {
		if (keep == nil || keep(row)) && !slices.Contains(out, row[c].S) {
			out = append(out, row[c].S)
		}
	}
	return out
}

type series struct {
	name string
	vals plotter.Values
}

// valuesOf returns the metric col of the rows whose label column catCol
// takes each of cats (0 where missing or infinite).
func valuesOf(t *Table, catCol string, cats []string, col string, keep func([]Cell) bool, name string) series {
	s := series{name: name, vals: make(plotter.Values, len(cats))}
	cc, mc := t.Col(catCol), t.Col(col)
	for _, row := range t.Rows {
		if keep != nil && !keep(row) {
			continue
		}
		if i := slices.Index(cats, row[cc].S); i >= 0 && row[mc].Num {
			s.vals[i] = row[mc].F
		}
	}
	return s
}

// groupedBars plots metric col with one group of bars per value of catCol
// and one bar per value of barCol.
func groupedBars(t *Table, title, ylabel, catCol, barCol, col string, keep func([]Cell) bool) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	cats := distinct(t, catCol, keep)
	var ss []series
	for _, b := range distinct(t, barCol, keep) {
		bc := t.Col(barCol)
		ss = append(ss, valuesOf(t, catCol, cats, col, func(row []Cell) bool {
			return row[bc].S == b && (keep == nil || keep(row))
		}, b))
	}
	return p, addBars(p, cats, ss)
}

func addBars(p *plot.Plot, cats []string, ss []series) error {
	// About 300 points of plot width: the bars of a group fill 80% of
	// their category's share of it, and no bar is wider than 20 points.
	n := float64(max(len(ss), 1))
	w := vg.Points(max(2, min(20, 0.8*300/float64(max(len(cats), 1))/n)))
	for i, s := range ss {
		b, err := plotter.NewBarChart(s.vals, w)
		if err != nil {
			return err
		}
		b.Color = plotutil.Color(i)
		b.LineStyle.Width = 0
		b.Offset = w * vg.Length(float64(i)-float64(len(ss)-1)/2)
		p.Add(b)
		p.Legend.Add(s.name, b)
	}
	p.Legend.Top = true
	p.NominalX(cats...)
	p.Add(hgrid())
	p.Y.Max *= 1.3 // room for the legend
	return nil
}

// hgrid returns a grid of horizontal lines only.
func hgrid() *plotter.Grid {
	g := plotter.NewGrid()
	g.Vertical.Color = nil
	return g
}

// lines plots metric ycol against the numeric label xcol, one line per
// value of the label column by, with the legend inside the plot at the top
// right (above the data: the y axis gets 30% more room).
func lines(t *Table, title, xlabel, ylabel, by, xcol, ycol string) (*plot.Plot, []legendItem, error) {
	bc := t.Col(by)
	p, entries, err := linesBy(t, title, xlabel, ylabel, func(row []Cell) string { return row[bc].S }, xcol, ycol)
	if err == nil {
		p.Y.Max += 0.3 * (p.Y.Max - p.Y.Min) // room for the legend
	}
	return p, entries, err
}

// addLegend adds entries to the legend of p, at its top.
func addLegend(p *plot.Plot, entries []legendItem) {
	for _, e := range entries {
		p.Legend.Add(e.text, e.thumbs...)
	}
	p.Legend.Top = true
}

// linesBy plots metric ycol against the numeric label xcol, one line with
// markers per key of the rows, and returns the legend entries of the lines.
func linesBy(t *Table, title, xlabel, ylabel string, key func([]Cell) string, xcol, ycol string) (*plot.Plot, []legendItem, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	xc, yc := t.Col(xcol), t.Col(ycol)
	var keys []string
	pts := map[string]plotter.XYs{}
	for _, row := range t.Rows {
		x, err := strconv.ParseFloat(row[xc].S, 64)
		if err != nil || !row[yc].Num {
			continue
		}
		k := key(row)
		if _, ok := pts[k]; !ok {
			keys = append(keys, k)
		}
		pts[k] = append(pts[k], plotter.XY{X: x, Y: row[yc].F})
	}
	var entries []legendItem
	for i, k := range keys {
		l, s, err := plotter.NewLinePoints(pts[k])
		if err != nil {
			return nil, nil, fmt.Errorf("line %s: %w", k, err)
		}
		l.Color, s.Color = plotutil.Color(i), plotutil.Color(i)
		s.Shape = plotutil.Shape(i) // a marker of its own: neighbouring colours are close
		l.Dashes = plotutil.Dashes(i / 7)
		p.Add(l, s)
		entries = append(entries, legendItem{text: k, thumbs: []plot.Thumbnailer{l, s}})
	}
	p.Add(plotter.NewGrid())
	return p, entries, nil
}

// pngDPI is the resolution of the PNG files: a point is 4/3 pixels.
const pngDPI = 96

// layout returns the size of the figure, its number of columns and its
// laid out header. The height is a whole number of PNG pixels.
func (f *figure) layout() (w, h vg.Length, cols int, head header) {
	for _, r := range f.rows {
		cols = max(cols, len(r))
	}
	w, rowH := f.width, f.rowH
	if w == 0 {
		w = vg.Points(float64(cols) * 360)
	}
	if rowH == 0 {
		rowH = vg.Points(300)
	}
	head = f.headerLayout(w)
	px := vg.Inch / pngDPI
	h = vg.Length(math.Ceil(float64((head.height+rowH*vg.Length(len(f.rows)))/px))) * px
	return w, h, cols, head
}

// save draws the figure into name.png and name.svg in dir.
func (f *figure) save(dir string) ([]string, error) {
	w, h, cols, head := f.layout()
	tiles := draw.Tiles{Rows: len(f.rows), Cols: cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	grid := make([][]*plot.Plot, len(f.rows))
	for i, r := range f.rows {
		grid[i] = make([]*plot.Plot, cols)
		copy(grid[i], r)
	}
	var written []string
	for _, format := range []string{"png", "svg"} {
		var c interface {
			vg.CanvasSizer
			io.WriterTo
		}
		if format == "png" {
			c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(pngDPI))}
		} else {
			c = vgsvg.New(w, h)
		}
		dc := draw.New(c)
		if head.height > 0 {
			head.draw(draw.Crop(dc, 0, 0, h-head.height, 0))
			dc = draw.Crop(dc, 0, 0, 0, -head.height)
		}
		canvases := plot.Align(grid, tiles, dc)
		for i := range grid {
			for j, p := range grid[i] {
				if p != nil {
					p.Draw(canvases[i][j])
				}
			}
		}
		path := filepath.Join(dir, f.name+"."+format)
		if err := writeFileAtomic(path, c); err != nil {
			return written, err
		}
		written = append(written, path)
	}
	return written, nil
}

// writeFileAtomic writes what w writes to path through a temporary file
// renamed over it, with mode 0644 (CreateTemp's files are private, and a
// figure is for everyone to read).
func writeFileAtomic(path string, w io.WriterTo) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("bench: writing %s: %w", path, err)
	}
	err = f.Chmod(0o644)
	if err == nil {
		_, err = w.WriteTo(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("bench: writing %s: %w", path, err)
	}
	return nil
}
