package bench

import (
	"bytes"
	"flag"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

var plotOut = flag.String("plotout", "", "write the test figures to this directory")

// costSample returns a Forward or Backward table of made-up but plausible
// figures: 6 activations, 3 levels, 4 implementations.
func costSample(name string) *Table {
	t := &Table{
		Name: name,
		Columns: []Column{
			{Name: "act", Label: true}, {Name: "level", Label: true}, {Name: "n", Label: true},
			{Name: "impl", Label: true}, {Name: "ns/elem", Unit: "ns/elem"}, {Name: "×relu", Unit: "x-relu"},
			{Name: "samples", Unit: "samples", Int: true},
		},
	}
	acts := []string{"relu", "identity", "leakyrelu", "elu", "sigmoid", "tanh"}
	levels := []struct {
		name string
		n    int
		f    float64
	}{{"L1", 4096, 1}, {"L2", 65536, 1.3}, {"DRAM", 9437184, 8}}
	base := map[string][]float64{
		"avx512":  {0.06, 0.06, 0.1, 0.35, 0.45, 0.6},
		"avx2":    {0.085, 0.083, 0.155, 0.57, 0.77, 1.07},
		"generic": {1.02, 0.088, 1.11, 19.5, 21.5, 31.6},
		"naive":   {3.74, 0.063, 6.11, 10.1, 15.0, 43.9},
	}
	for _, l := range levels {
		for i, a := range acts {
			for _, im := range []string{"avx512", "avx2", "generic", "naive"} {
				v := base[im][i]
				if im == "avx512" || im == "avx2" {
					v = max(v, 0.1*l.f)
				}
				t.Add(Str(a), Str(l.name), Str(fmt.Sprint(l.n)), Str(im), Num(v), Num(v/base[im][0]), Num(7))
			}
		}
	}
	return t
}

// gemmSample returns a Peak and a Gemm table for 3 implementations, 2
// thread counts and the default shapes.
func gemmSample() (*Table, *Table) {
	peaks := map[string]float64{"avx512": 152.4, "avx2": 84.1, "generic": 152.4}
	peakT := &Table{Name: "Peak", Columns: []Column{{Name: "probe", Label: true}, {Name: "GFLOP/s", Unit: "GFLOP/s"}}}
	peakT.Add(Str(simdProbe("avx512")), Num(peaks["avx512"]))
	peakT.Add(Str(simdProbe("avx2")), Num(peaks["avx2"]))
	g := &Table{Name: "Gemm", Columns: []Column{
		{Name: "shape", Label: true}, {Name: "act", Label: true}, {Name: "threads", Label: true}, {Name: "impl", Label: true},
		{Name: "GFLOP/s", Unit: "GFLOP/s"}, {Name: "%peak", Unit: "%peak"}, {Name: "%widest", Unit: "%widest"},
		{Name: "unfused GFLOP/s", Unit: "unfused-GFLOP/s"}, {Name: "fused gain", Unit: "x-unfused"},
		{Name: "samples", Unit: "samples", Int: true},
	}}
	eff := map[string]float64{"avx512": 0.78, "avx2": 0.82, "generic": 0.04}
	for si, s := range DefaultShapes() {
		acts := []string{"identity", "relu"}
		if s.TransA || s.TransB {
			acts = acts[:1]
		}
		for _, th := range []int{1, 2} {
			for _, a := range acts {
				for _, im := range []string{"avx512", "avx2", "generic"} {
					gf := peaks[im] * float64(th) * eff[im] * (1 - 0.03*float64(si%4))
					if s.N == 10 {
						gf *= 0.55
					}
					g.Add(Str(s.String()), Str(a), Str(fmt.Sprint(th)), Str(im), Num(gf),
						Num(100*gf/(peaks[im]*float64(th))), Num(100*gf/(peaks["avx512"]*float64(th))), Missing(), Missing(), Num(7))
				}
			}
		}
	}
	return peakT, g
}

func trainCurveSample() *Table {
	t := &Table{Name: "TrainCurve", Columns: []Column{{Name: "epoch", Label: true}, {Name: "act", Label: true},
		{Name: "train err %", Unit: "train-err-%"}, {Name: "train s", Unit: "train-s"}}}
	for e := 1; e <= 8; e++ {
		for i, a := range []string{"relu", "leakyrelu", "elu", "sigmoid", "tanh"} {
			t.Add(Str(fmt.Sprintf("%.2f", float64(e)/4)), Str(a), Num(20/float64(e)+float64(i)), Num(float64(e)))
		}
	}
	return t
}

func deadSample() *Table {
	t := &Table{Name: "Dead", Columns: []Column{{Name: "act", Label: true}, {Name: "bias init", Label: true}, {Name: "epoch", Label: true},
		{Name: "dead% L1", Unit: "dead-%-layer1"}, {Name: "dead% L2", Unit: "dead-%-layer2"}, {Name: "test acc %", Unit: "test-acc-%"}}}
	for _, a := range []string{"relu", "leakyrelu", "elu"} {
		for _, b := range []string{"0", "0.1"} {
			for e := 1; e <= 5; e++ {
				t.Add(Str(a), Str(b), Str(fmt.Sprint(e)), Num(float64(e*len(a))), Num(float64(e)), Num(97))
			}
		}
	}
	return t
}

func linearSample() *Table {
	t := &Table{Name: "Linear", Columns: []Column{{Name: "act", Label: true}, {Name: "epoch", Label: true},
		{Name: "linear% L1", Unit: "linear-%-layer1"}, {Name: "sat% L1", Unit: "saturated-%-layer1"},
		{Name: "linear% L2", Unit: "linear-%-layer2"}, {Name: "sat% L2", Unit: "saturated-%-layer2"},
		{Name: "train err %", Unit: "train-err-%"}}}
	for i, a := range []string{"sigmoid", "scaledsigmoid(0.5)", "tanh", "scaledtanh(1.7159,0.6666667)"} {
		for e := 0; e <= 4; e++ {
			t.Add(Str(a), Str(fmt.Sprint(e)), Num(90-float64(e*(i+1))), Num(float64(e)), Num(80-float64(e*i)), Num(float64(e)), Num(10/float64(e+1)))
		}
	}
	return t
}

func accuracySample() *Table {
	t := &Table{Name: "Accuracy", Columns: []Column{{Name: "act", Label: true}, {Name: "impl", Label: true}, {Name: "max ULP", Unit: "max-ulp"}}}
	for _, a := range []string{"sigmoid", "tanh", "elu"} {
		for i, im := range []string{"avx2", "generic"} {
			t.Add(Str(a), Str(im), Num(1.5+0.2*float64(i)))
		}
	}
	return t
}

func noiseSample() *Table {
	t := &Table{Name: "NoiseWeights", Columns: []Column{{Name: "weight", Label: true},
		{Name: "noise", Unit: "w-noise"}, {Name: "L2", Unit: "w-l2"}, {Name: "ridge (exact)", Unit: "w-ridge"}, {Name: "noise-L2", Unit: "w-gap"}}}
	for i := range 4 {
		w := float64(i) - 1.5
		t.Add(Str(fmt.Sprintf("w%d", i)), Num(w), Num(w*1.01), Num(w*1.02), Num(-0.01*w))
	}
	return t
}

func zigzagSample() *Table {
	t := &Table{Name: "Zigzag", Columns: []Column{{Name: "act", Label: true}, {Name: "batch", Label: true}, {Name: "same-sign %", Unit: "same-sign-%"}}}
	for _, a := range []string{"sigmoid", "tanh"} {
		for _, b := range []string{"1", "8", "32"} {
			t.Add(Str(a), Str(b), Num(float64(len(a)*len(b))))
		}
	}
	return t
}

// plotSample returns a report with a table of every figure.
func plotSample() *Report {
	peak, gemm := gemmSample()
	return &Report{Tables: []*Table{costSample("Forward"), costSample("Backward"), peak, gemm,
		trainCurveSample(), deadSample(), linearSample(), accuracySample(), noiseSample(), zigzagSample()}}
}

// TestWritePlots writes every figure and checks the files: each PNG
// decodes, with the size its layout gives (the wide figures 960 pixels),
// and each SVG is one. With -plotout DIR the figures stay in DIR.
func TestWritePlots(t *testing.T) {
	dir := *plotOut
	if dir == "" {
		dir = t.TempDir()
	}
	files, err := WritePlots(dir, plotSample())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]int{ // width in pixels, rows of panels
		"cost-forward": {960, 3}, "cost-backward": {960, 3}, "gemm": {960, 2},
		"train": {480, 1}, "dead": {960, 1}, "linear": {960, 1}, "accuracy": {480, 1}, "noise": {480, 1}, "zigzag": {480, 1},
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	for name, size := range want {
		if !slices.Contains(names, name+".png") || !slices.Contains(names, name+".svg") {
			t.Errorf("%s.png and %s.svg not among the files written: %v", name, name, names)
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(filepath.Join(dir, name+".png")); err != nil {
			t.Error(err)
		} else if runtime.GOOS != "windows" && st.Mode().Perm() != 0o644 {
			t.Errorf("%s.png: mode %v, want -rw-r--r--", name, st.Mode())
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Errorf("%s.png: %v", name, err)
			continue
		}
		f := figureFor(t, name)
		w, h, _, _ := f.layout()
		wantW, wantH := int(w.Dots(pngDPI)+0.5), int(h.Dots(pngDPI)+0.5)
		if got := img.Bounds().Size(); got.X != wantW || got.Y != wantH || got.X != size[0] {
			t.Errorf("%s.png: %v pixels, want %dx%d (%d wide)", name, got, wantW, wantH, size[0])
		}
		if len(f.rows) != size[1] {
			t.Errorf("%s: %d rows of panels, want %d", name, len(f.rows), size[1])
		}
		if svg, err := os.ReadFile(filepath.Join(dir, name+".svg")); err != nil || !bytes.Contains(svg, []byte("<svg")) {
			t.Errorf("%s.svg: not an SVG (%v)", name, err)
		}
	}
	if len(files) != 2*len(want) {
		t.Errorf("files written: %v, want a PNG and an SVG for each of %d figures", names, len(want))
	}
}

// figureFor returns the figure of the sample table whose figure is name.
func figureFor(t *testing.T, name string) *figure {
	t.Helper()
	r := plotSample()
	for _, tab := range r.Tables {
		f, err := figureOf(r, tab)
		if err != nil {
			t.Fatalf("figure of %s: %v", tab.Name, err)
		}
		if f != nil && f.name == name {
			return f
		}
	}
	t.Fatalf("no figure %s", name)
	return nil
}

// TestWritePlotsDeterministic checks that the same tables give the same
// bytes.
func TestWritePlotsDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	files, err := WritePlots(a, plotSample())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WritePlots(b, plotSample()); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		x, errx := os.ReadFile(f)
		y, erry := os.ReadFile(filepath.Join(b, filepath.Base(f)))
		if errx != nil || erry != nil || !bytes.Equal(x, y) {
			t.Errorf("%s: two runs differ (%v, %v)", filepath.Base(f), errx, erry)
		}
	}
}

// TestPlotLegends checks what the shared legends say: every
// implementation, the ReLU marks, the widest peak with its probe and the
// avx2 peak as a percentage of it, and no line for generic, which has no
// SIMD probe.
func TestPlotLegends(t *testing.T) {
	texts := func(f *figure) []string {
		var s []string
		for _, it := range f.legend {
			s = append(s, it.text)
		}
		return s
	}
	cost := texts(figureFor(t, "cost-forward"))
	if len(cost) != 5 || !slices.Equal(cost[:4], []string{"avx512", "avx2", "generic", "naive"}) || !strings.Contains(cost[4], "ReLU") {
		t.Errorf("cost legend %q", cost)
	}
	gemm := texts(figureFor(t, "gemm"))
	if len(gemm) != 5 || !slices.Equal(gemm[:3], []string{"avx512", "avx2", "generic"}) {
		t.Fatalf("gemm legend %q", gemm)
	}
	if want := "100% = the widest peak: SIMD FMA loop (kernels.PeakGFLOPS, avx512), 152.4 GFLOP/s per core"; gemm[3] != want {
		t.Errorf("widest peak: %q, want %q", gemm[3], want)
	}
	if want := "avx2 peak = 55.2%: SIMD FMA loop (kernels.PeakGFLOPS, avx2), 84.1 GFLOP/s per core"; gemm[4] != want {
		t.Errorf("avx2 peak: %q, want %q", gemm[4], want)
	}
	// Without the Peak table the lines are there, unnamed.
	_, g := gemmSample()
	f, err := gemmFigure(&Report{Tables: []*Table{g}}, g)
	if err != nil {
		t.Fatal(err)
	}
	if got := texts(f); len(got) != 5 || got[3] != "100% = the widest peak, 152.4 GFLOP/s per core" || got[4] != "avx2 peak = 55.2%, 84.1 GFLOP/s per core" {
		t.Errorf("gemm legend without the Peak table: %q", got)
	}
	// An avx2 peak as high as the avx512 one (as on Zen 4) has its line
	// at 100%.
	peak, g := gemmSample()
	peak.Rows[1][1] = peak.Rows[0][1]
	for _, row := range g.Rows {
		if row[g.Col("impl")].S == "avx2" {
			row[g.Col("%peak")] = row[g.Col("%widest")]
		}
	}
	f, err = gemmFigure(&Report{Tables: []*Table{peak, g}}, g)
	if err != nil {
		t.Fatal(err)
	}
	if got := texts(f); len(got) != 5 || got[4] != "avx2 peak = 100.0%: SIMD FMA loop (kernels.PeakGFLOPS, avx2), 152.4 GFLOP/s per core" {
		t.Errorf("gemm legend with equal peaks: %q", got)
	}
	// The shared legend of the dead units names each series once.
	if dead := texts(figureFor(t, "dead")); len(dead) != 6 || dead[0] != "relu bias 0" {
		t.Errorf("dead legend %q", dead)
	}
}

// TestWritePlotsBadTables checks that a table without a column its
// figure needs, or with a ragged row, gives an error naming the table and
// the column, and that a table without rows is skipped.
func TestWritePlotsBadTables(t *testing.T) {
	needs := map[string][]string{
		"Forward":      {"act", "level", "impl", "ns/elem"},
		"Backward":     {"act", "level", "impl", "ns/elem"},
		"Gemm":         {"shape", "act", "threads", "impl", "%peak", "%widest"},
		"TrainCurve":   {"act", "epoch", "train err %"},
		"Dead":         {"act", "bias init", "epoch", "dead% L1"},
		"Linear":       {"act", "epoch", "linear% L1"},
		"Accuracy":     {"act", "impl", "max ULP"},
		"NoiseWeights": {"weight", "noise", "L2", "ridge (exact)"},
		"Zigzag":       {"act", "batch", "same-sign %"},
	}
	for name, cols := range needs {
		for _, col := range cols {
			r := plotSample()
			i := slices.IndexFunc(r.Tables, func(t *Table) bool { return t.Name == name })
			tab := r.Tables[i]
			c := tab.Col(col)
			tab.Columns = slices.Delete(tab.Columns, c, c+1)
			for j := range tab.Rows {
				tab.Rows[j] = slices.Delete(tab.Rows[j], c, c+1)
			}
			// Without its per-layer columns a figure has no panel: rename
			// the second one too.
			perLayer := name == "Dead" && col == "dead% L1" || name == "Linear" && col == "linear% L1"
			if perLayer {
				c := tab.Col(strings.Replace(col, "L1", "L2", 1))
				tab.Columns[c].Name = "other L2"
			}
			r.Tables = []*Table{tab}
			_, err := WritePlots(t.TempDir(), r)
			if err == nil || !strings.Contains(err.Error(), "plot of "+name) || !strings.Contains(err.Error(), "no ") {
				t.Errorf("%s without %q: error %v", name, col, err)
			}
			if !perLayer && err != nil && !strings.Contains(err.Error(), fmt.Sprintf("%q", col)) {
				t.Errorf("%s without %q: the error does not name the column: %v", name, col, err)
			}
		}
	}
	r := plotSample()
	r.Tables[0].Rows[2] = r.Tables[0].Rows[2][:3]
	if _, err := WritePlots(t.TempDir(), &Report{Tables: r.Tables[:1]}); err == nil || !strings.Contains(err.Error(), "row 2 has 3 cells") {
		t.Errorf("a ragged row: error %v", err)
	}
	empty := costSample("Forward")
	empty.Rows = nil
	if files, err := WritePlots(t.TempDir(), &Report{Tables: []*Table{empty}}); err != nil || len(files) != 0 {
		t.Errorf("a table without rows: files %v, error %v", files, err)
	}
	noPositive := costSample("Forward")
	for _, row := range noPositive.Rows {
		row[noPositive.Col("ns/elem")] = Missing()
	}
	if _, err := WritePlots(t.TempDir(), &Report{Tables: []*Table{noPositive}}); err == nil || !strings.Contains(err.Error(), "no positive") {
		t.Errorf("a cost table without values: error %v", err)
	}
}
