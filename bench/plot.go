package bench

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// WritePlots writes a PNG and an SVG figure into dir for every table of r
// that has one: cost-forward, cost-backward (ns/element per activation and
// implementation, one panel per size), gemm (GFLOP/s per shape and
// activation), accuracy (max ULP), train (training error per epoch), dead
// (dead units per epoch), noise (weights) and zigzag (same-sign rows per
// batch size). It returns the names of the files written.
func WritePlots(dir string, r *Report) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("bench: plots: %w", err)
	}
	var written []string
	for _, t := range r.Tables {
		name, rows, err := figure(t)
		if err != nil {
			return written, fmt.Errorf("bench: plot of %s: %w", t.Name, err)
		}
		if rows == nil {
			continue
		}
		files, err := savePlots(dir, name, rows)
		written = append(written, files...)
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

// figure returns the file name and the panels of the figure of t, or nil
// panels for tables without a figure.
func figure(t *Table) (string, [][]*plot.Plot, error) {
	switch t.Name {
	case "Forward", "Backward":
		var panels []*plot.Plot
		for _, level := range distinct(t, "level", nil) {
			p, err := nominalLog(t, fmt.Sprintf("%s, %s-resident", t.Name, level), "ns per element (log)",
				"act", "impl", "ns/elem", func(row []Cell) bool { return row[t.Col("level")].S == level })
			if err != nil {
				return "", nil, err
			}
			panels = append(panels, p)
		}
		return "cost-" + map[string]string{"Forward": "forward", "Backward": "backward"}[t.Name], [][]*plot.Plot{panels}, nil
	case "Gemm":
		th := distinct(t, "threads", nil)[0]
		impl := distinct(t, "impl", nil)[0]
		p, err := groupedBars(t, fmt.Sprintf("fused GEMM, %s, %s thread(s)", impl, th), "GFLOP/s", "shape", "act", "GFLOP/s",
			func(row []Cell) bool { return row[t.Col("threads")].S == th && row[t.Col("impl")].S == impl })
		return "gemm", [][]*plot.Plot{{p}}, err
	case "Accuracy":
		p, err := groupedBars(t, "max ULP error of the forward kernels", "max ULP (infinite shown as 0)", "act", "impl", "max ULP", nil)
		return "accuracy", [][]*plot.Plot{{p}}, err
	case "TrainCurve":
		p, err := lines(t, "training error per epoch", "epoch", "training error %", "act", "epoch", "train err %")
		return "train", [][]*plot.Plot{{p}}, err
	case "Dead":
		var panels []*plot.Plot
		for _, col := range t.Columns {
			if len(col.Name) > 5 && col.Name[:5] == "dead%" {
				p, err := linesBy(t, "dead units, "+col.Name[6:], "epoch", "dead %", func(row []Cell) string {
					return row[t.Col("act")].S + " bias " + row[t.Col("bias init")].S
				}, "epoch", col.Name)
				if err != nil {
					return "", nil, err
				}
				panels = append(panels, p)
			}
		}
		return "dead", [][]*plot.Plot{panels}, nil
	case "NoiseWeights":
		p, err := plot.New(), error(nil)
		p.Title.Text = "weights: input noise vs L2 vs exact ridge"
		p.Y.Label.Text = "weight"
		cats := distinct(t, "weight", nil)
		var series []series
		for _, col := range []string{"noise", "L2", "ridge (exact)"} {
			series = append(series, valuesOf(t, "weight", cats, col, nil, col))
		}
		err = addBars(p, cats, series)
		return "noise", [][]*plot.Plot{{p}}, err
	case "Zigzag":
		p, err := groupedBars(t, "units whose incoming weight gradients share one sign", "same-sign %", "batch", "act", "same-sign %", nil)
		return "zigzag", [][]*plot.Plot{{p}}, err
	}
	return "", nil, nil
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

// nominalLog plots metric col on a log scale against the categories of
// catCol, one line with points per value of lineCol.
func nominalLog(t *Table, title, ylabel, catCol, lineCol, col string, keep func([]Cell) bool) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	cats := distinct(t, catCol, keep)
	lc := t.Col(lineCol)
	for i, name := range distinct(t, lineCol, keep) {
		s := valuesOf(t, catCol, cats, col, func(row []Cell) bool {
			return row[lc].S == name && (keep == nil || keep(row))
		}, name)
		var pts plotter.XYs
		for j, v := range s.vals {
			if v > 0 {
				pts = append(pts, plotter.XY{X: float64(j), Y: v})
			}
		}
		if len(pts) == 0 {
			continue
		}
		l, sc, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, err
		}
		l.Color, sc.Color = plotutil.Color(i), plotutil.Color(i)
		sc.Shape = plotutil.Shape(i)
		p.Add(l, sc)
		p.Legend.Add(name, l, sc)
	}
	p.NominalX(cats...)
	p.Add(hgrid())
	p.Legend.Top = true
	p.Legend.Left = true
	p.Y.Max *= 10 // room for the legend
	return p, nil
}

// lines plots metric ycol against the numeric label xcol, one line per
// value of the label column by.
func lines(t *Table, title, xlabel, ylabel, by, xcol, ycol string) (*plot.Plot, error) {
	bc := t.Col(by)
	return linesBy(t, title, xlabel, ylabel, func(row []Cell) string { return row[bc].S }, xcol, ycol)
}

func linesBy(t *Table, title, xlabel, ylabel string, key func([]Cell) string, xcol, ycol string) (*plot.Plot, error) {
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
	for i, k := range keys {
		l, s, err := plotter.NewLinePoints(pts[k])
		if err != nil {
			return nil, err
		}
		l.Color, s.Color = plotutil.Color(i), plotutil.Color(i)
		s.Shape = plotutil.Shape(i) // a marker of its own: neighbouring colours are close
		l.Dashes = plotutil.Dashes(i / 7)
		p.Add(l, s)
		p.Legend.Add(k, l, s)
	}
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	p.Y.Max += 0.3 * (p.Y.Max - p.Y.Min) // room for the legend
	return p, nil
}

// savePlots draws the panels into name.png and name.svg in dir.
func savePlots(dir, name string, rows [][]*plot.Plot) ([]string, error) {
	cols := 0
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	w, h := vg.Points(float64(cols)*360), vg.Points(float64(len(rows))*300)
	tiles := draw.Tiles{Rows: len(rows), Cols: cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	grid := make([][]*plot.Plot, len(rows))
	for i, r := range rows {
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
			c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(96))}
		} else {
			c = vgsvg.New(w, h)
		}
		dc := draw.New(c)
		canvases := plot.Align(grid, tiles, dc)
		for i := range grid {
			for j, p := range grid[i] {
				if p != nil {
					p.Draw(canvases[i][j])
				}
			}
		}
		path := filepath.Join(dir, name+"."+format)
		if err := writeFileAtomic(path, c); err != nil {
			return written, err
		}
		written = append(written, path)
	}
	return written, nil
}

// writeFileAtomic writes what w writes to path through a temporary file
// renamed over it.
func writeFileAtomic(path string, w io.WriterTo) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("bench: writing %s: %w", path, err)
	}
	_, err = w.WriteTo(f)
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
