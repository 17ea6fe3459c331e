package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/actfuse/actfuse/kernels"
)

// report mirrors the documented JSON schema of bench.Report, decoded
// without the bench types so that the test checks the schema itself.
type report struct {
	Machine struct {
		GOOS            string   `json:"goos"`
		GOARCH          string   `json:"goarch"`
		ISA             string   `json:"isa"`
		Implementations []string `json:"implementations"`
		L1D             int      `json:"l1d_bytes"`
		L2              int      `json:"l2_bytes"`
		L3              int      `json:"l3_bytes"`
		Emulated        bool     `json:"emulated"`
		GoVersion       string   `json:"go_version"`
		CPU             string   `json:"cpu"`
		Vendor          string   `json:"vendor"`
		NumCPU          int      `json:"num_cpu"`
		GOMAXPROCS      int      `json:"gomaxprocs"`
		CacheSource     string   `json:"cache_source"`
		Hypervisor      bool     `json:"hypervisor"`
		EmulationReason string   `json:"emulation_reason"`
		Time            string   `json:"time"`
	} `json:"machine"`
	Tables []struct {
		Name    string   `json:"name"`
		Title   string   `json:"title"`
		Columns []column `json:"columns"`
		Rows    [][]any  `json:"rows"`
		Notes   []string `json:"notes"`
		Pivot   string   `json:"pivot"`
	} `json:"tables"`
}

// column is a decoded column of a table.
type column struct {
	Name  string `json:"name"`
	Unit  string `json:"unit"`
	Label bool   `json:"label"`
}

// table is one decoded table with typed access by column name.
type table struct {
	name  string
	cols  []string
	rows  []map[string]any
	notes []string
}

func (t table) num(tb testing.TB, i int, col string) (float64, bool) {
	tb.Helper()
	v, ok := t.rows[i][col]
	if !ok {
		tb.Fatalf("table %s: no column %q (have %v)", t.name, col, t.cols)
	}
	switch v := v.(type) {
	case nil:
		return 0, false
	case float64:
		return v, true
	case string:
		if v == "Inf" {
			return math.Inf(1), true
		}
	}
	tb.Fatalf("table %s row %d column %s: %v (%T) is not a number", t.name, i, col, v, v)
	return 0, false
}

// positive returns the value of a metric that must be present, finite and > 0.
func (t table) positive(tb testing.TB, i int, col string) float64 {
	tb.Helper()
	v, ok := t.num(tb, i, col)
	if !ok || !(v > 0) || math.IsInf(v, 0) {
		tb.Fatalf("table %s row %d (%v): %s = %v, want a positive finite number", t.name, i, t.rows[i], col, v)
	}
	return v
}

func (t table) str(i int, col string) string {
	s, _ := t.rows[i][col].(string)
	return s
}

// runJSON runs actbench with args and -format json and decodes the output.
func runJSON(t *testing.T, args ...string) (report, map[string]table) {
	t.Helper()
	var out, errb bytes.Buffer
	args = append([]string{"-q", "-format", "json"}, args...)
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("actbench %v: exit %d\nstderr:\n%s", args, code, errb.String())
	}
	var r report
	dec := json.NewDecoder(&out)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("actbench %v: output does not decode into the schema: %v", args, err)
	}
	if r.Machine.GOARCH == "" || r.Machine.ISA == "" || !slices.Contains(r.Machine.Implementations, "generic") {
		t.Errorf("machine = %+v: missing goarch, isa or the generic implementation", r.Machine)
	}
	if r.Machine.L1D <= 0 || r.Machine.L2 < r.Machine.L1D || r.Machine.L3 < r.Machine.L2 {
		t.Errorf("implausible caches: L1d %d, L2 %d, L3 %d", r.Machine.L1D, r.Machine.L2, r.Machine.L3)
	}
	tables := map[string]table{}
	for _, tb := range r.Tables {
		tt := table{name: tb.Name, notes: tb.Notes}
		for _, c := range tb.Columns {
			tt.cols = append(tt.cols, c.Name)
		}
		if tb.Title == "" {
			t.Errorf("table %s has no title", tb.Name)
		}
		for i, row := range tb.Rows {
			if len(row) != len(tb.Columns) {
				t.Fatalf("table %s row %d: %d cells for %d columns", tb.Name, i, len(row), len(tb.Columns))
			}
			m := map[string]any{}
			for j, c := range tb.Columns {
				if _, isStr := row[j].(string); c.Label && !isStr {
					t.Errorf("table %s row %d: label %s = %v is not a string", tb.Name, i, c.Name, row[j])
				}
				m[c.Name] = row[j]
			}
			tt.rows = append(tt.rows, m)
		}
		tables[tb.Name] = tt
	}
	return r, tables
}

func need(t *testing.T, tables map[string]table, names ...string) {
	t.Helper()
	for _, n := range names {
		if tt, ok := tables[n]; !ok || len(tt.rows) == 0 {
			t.Fatalf("table %s missing or empty (have %v)", n, slices.Collect(mapKeys(tables)))
		}
	}
}

func mapKeys(m map[string]table) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// tiny are the timing flags that keep the tests short.
var tiny = []string{"-samples", "3", "-mintime", "100us"}

func TestCost(t *testing.T) {
	_, tables := runJSON(t, append([]string{"cost", "-sizes", "1000,20000"}, tiny...)...)
	need(t, tables, "Forward", "Backward", "Stream")
	impls := append(kernels.Implementations(), "naive")
	for _, name := range []string{"Forward", "Backward"} {
		tt := tables[name]
		if want := 2 * 6 * len(impls); len(tt.rows) != want {
			t.Errorf("%s: %d rows, want %d (2 sizes × 6 activations × %v)", name, len(tt.rows), want, impls)
		}
		seen := map[string]bool{}
		for i := range tt.rows {
			seen[tt.str(i, "impl")] = true
			tt.positive(t, i, "ns/elem")
			r := tt.positive(t, i, "×relu")
			if tt.str(i, "act") == "relu" && r != 1 {
				t.Errorf("%s row %d: relu ratio to itself = %v", name, i, r)
			}
			if r > 1000 {
				t.Errorf("%s row %d: ratio to relu %v is implausible", name, i, r)
			}
			if n := tt.str(i, "n"); n != "1000" && n != "20000" {
				t.Errorf("%s row %d: n = %q", name, i, n)
			}
		}
		for _, im := range impls {
			if !seen[im] {
				t.Errorf("%s: no rows for implementation %s", name, im)
			}
		}
	}
	st := tables["Stream"]
	if st.str(0, "kernel") != "copy" || st.str(1, "kernel") != "sum" {
		t.Errorf("stream table starts with %q, %q; want copy, sum", st.str(0, "kernel"), st.str(1, "kernel"))
	}
	for i := range st.rows {
		st.positive(t, i, "GB/s")
		st.positive(t, i, "%copy")
	}
	if want := 2 + 2*6*len(impls); len(st.rows) != want {
		t.Errorf("stream: %d rows, want %d", len(st.rows), want)
	}
}

func TestGemm(t *testing.T) {
	_, tables := runJSON(t, append([]string{"gemm", "-shapes", "24x40x56,8x16x20/At", "-threads", "1,2", "-impl", "native,generic"}, tiny...)...)
	need(t, tables, "Peak", "Gemm")
	g := tables["Gemm"]
	// Every row's %peak and %widest follow from its GFLOP/s and one peak
	// of the Peak table: the widest is the largest.
	pt := tables["Peak"]
	var peaks []float64
	widest := 0.0
	for i := range pt.rows {
		peaks = append(peaks, pt.positive(t, i, "GFLOP/s"))
		widest = max(widest, peaks[i])
	}
	// 5 activations for the plain shape, identity only for the transposed one,
	// for the dispatched and the generic implementation (the same one when
	// the generic path is forced).
	impls := 2
	if kernels.ISA() == "generic" {
		impls = 1
	}
	if want := (5 + 1) * 2 * impls; len(g.rows) != want {
		t.Errorf("gemm: %d rows, want %d", len(g.rows), want)
	}
	for i := range g.rows {
		gf := g.positive(t, i, "GFLOP/s")
		pct := g.positive(t, i, "%peak")
		th, _ := strconv.Atoi(g.str(i, "threads"))
		if w := g.positive(t, i, "%widest"); math.Abs(w-100*gf/(widest*float64(th))) > 1e-6*w {
			t.Errorf("gemm row %d: %%widest %v != 100·%v/(%v·%d)", i, w, gf, widest, th)
		}
		found := false
		for _, pk := range peaks {
			found = found || math.Abs(pct-100*gf/(pk*float64(th))) <= 1e-6*pct
		}
		if !found {
			t.Errorf("gemm row %d: %%peak %v is 100·%v/(peak·%d) for none of the peaks %v", i, pct, gf, th, peaks)
		}
		_, hasUnfused := g.num(t, i, "unfused GFLOP/s")
		if act := g.str(i, "act"); (act == "identity") == hasUnfused {
			t.Errorf("gemm row %d (%s): unfused present = %v", i, act, hasUnfused)
		}
		if hasUnfused {
			g.positive(t, i, "fused gain")
		}
	}
}

func TestAccuracy(t *testing.T) {
	_, tables := runJSON(t, "accuracy", "-stride", "1000003")
	need(t, tables, "Accuracy")
	a := tables["Accuracy"]
	impls := append(kernels.Implementations(), "naive")
	if want := 6 * len(impls); len(a.rows) != want {
		t.Errorf("accuracy: %d rows, want %d", len(a.rows), want)
	}
	wantInputs := float64((1<<32 + 1000003 - 1) / 1000003)
	for i := range a.rows {
		u, ok := a.num(t, i, "max ULP")
		if !ok || u < 0 {
			t.Errorf("row %d: max ULP %v", i, u)
		}
		if n, _ := a.num(t, i, "inputs"); n != wantInputs {
			t.Errorf("row %d: %v inputs, want %v", i, n, wantInputs)
		}
		act, impl := a.str(i, "act"), a.str(i, "impl")
		if (act == "relu" || act == "identity") && u != 0 {
			t.Errorf("%s/%s: max ULP %v, want exact", act, impl, u)
		}
		if impl != "naive" && math.IsInf(u, 0) {
			t.Errorf("%s/%s: infinite error (NaN or sign mismatch) at %s", act, impl, a.str(i, "worst x"))
		}
		if a.str(i, "worst x") == "" {
			t.Errorf("row %d: no worst input", i)
		}
	}
}

// syntheticMNIST writes MNIST-format IDX files of easy 10-class data, 10×10
// images in which each class lights its own row, into a temporary directory
// (small images keep the tests fast under emulation).
var syntheticMNIST = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "actbench-mnist")
	if err != nil {
		return "", err
	}
	rng := rand.New(rand.NewPCG(7, 7))
	write := func(name string, n int) error {
		var im, lb bytes.Buffer
		binary.Write(&im, binary.BigEndian, []uint32{0x803, uint32(n), 10, 10})
		binary.Write(&lb, binary.BigEndian, []uint32{0x801, uint32(n)})
		for range n {
			c := rng.IntN(10)
			lb.WriteByte(byte(c))
			for p := range 10 * 10 {
				v := rng.IntN(60)
				if p/10 == c {
					v += 180
				}
				im.WriteByte(byte(v))
			}
		}
		for _, f := range []struct {
			name string
			b    []byte
		}{{name + "-images-idx3-ubyte.gz", im.Bytes()}, {name + "-labels-idx1-ubyte.gz", lb.Bytes()}} {
			var z bytes.Buffer
			w := gzip.NewWriter(&z)
			w.Write(f.b)
			w.Close()
			if err := os.WriteFile(filepath.Join(dir, f.name), z.Bytes(), 0o644); err != nil {
				return err
			}
		}
		return nil
	}
	if err := write("train", 400); err != nil {
		return "", err
	}
	return dir, write("t10k", 100)
})

func dataDir(t *testing.T) string {
	dir, err := syntheticMNIST()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestTrain(t *testing.T) {
	_, tables := runJSON(t, "train", "-data", dataDir(t), "-hidden", "32", "-epochs", "3", "-target", "0.3", "-lr", "0.1")
	need(t, tables, "Train", "TrainCurve")
	r := tables["Train"]
	if len(r.rows) != 5 {
		t.Fatalf("train: %d rows, want 5 activations", len(r.rows))
	}
	for i := range r.rows {
		run := r.positive(t, i, "epochs run")
		if run > 3 || math.Mod(run, 0.25) != 0 {
			t.Errorf("row %d: %v epochs run, want quarters of an epoch within the budget of 3", i, run)
		}
		if acc := r.positive(t, i, "test acc %"); acc > 100 {
			t.Errorf("row %d: test accuracy %v%%", i, acc)
		}
		if e, ok := r.num(t, i, "epochs to target"); ok {
			r.positive(t, i, "s to target")
			if e != run {
				t.Errorf("row %d: reached the target at epoch %v but ran %v", i, e, run)
			}
			if err, _ := r.num(t, i, "final train err %"); err > 30 {
				t.Errorf("row %d: reached the 30%% target with %v%% error", i, err)
			}
		}
	}
	// The synthetic classes are separable: ReLU reaches 30% error in 3 epochs.
	if _, ok := r.num(t, 0, "epochs to target"); r.str(0, "act") != "relu" || !ok {
		t.Errorf("relu did not reach the target: %v", r.rows[0])
	}
	c := tables["TrainCurve"]
	for i := range c.rows {
		if e, _ := c.num(t, i, "train err %"); e < 0 || e > 100 {
			t.Errorf("curve row %d: error %v%%", i, e)
		}
	}
}

func TestDead(t *testing.T) {
	_, tables := runJSON(t, "dead", "-data", dataDir(t), "-hidden", "16,16", "-epochs", "2", "-test", "100")
	need(t, tables, "Dead")
	d := tables["Dead"]
	if len(d.rows) != 3*2*3 {
		t.Fatalf("dead: %d rows, want 3 activations × 2 bias inits × 3 epochs (0..2)", len(d.rows))
	}
	for i := range d.rows {
		for _, col := range []string{"dead% L1", "dead% L2"} {
			if v, ok := d.num(t, i, col); !ok || v < 0 || v > 100 {
				t.Errorf("row %d: %s = %v", i, col, v)
			}
		}
		if d.str(i, "epoch") == "0" {
			// He initialisation with a zero or positive bias kills no unit on
			// data with positive inputs before training.
			if v, _ := d.num(t, i, "dead% L1"); v > 50 {
				t.Errorf("row %d: %v%% dead before training", i, v)
			}
		}
	}
}

func TestLinear(t *testing.T) {
	_, tables := runJSON(t, "linear", "-data", dataDir(t), "-hidden", "16,16", "-epochs", "4", "-test", "200", "-target", "0.5")
	need(t, tables, "Linear", "LinearSummary")
	l, s := tables["Linear"], tables["LinearSummary"]
	if len(l.rows) != 4*5 || len(s.rows) != 4 {
		t.Fatalf("linear: %d and %d rows, want 4 activations × 5 epochs (0..4) and 4", len(l.rows), len(s.rows))
	}
	for i := range l.rows {
		for _, col := range []string{"linear% L1", "linear% L2", "sat% L1", "sat% L2"} {
			if v, ok := l.num(t, i, col); !ok || v < 0 || v > 100 {
				t.Errorf("row %d: %s = %v", i, col, v)
			}
		}
		lin, _ := l.num(t, i, "linear% L1")
		sat, _ := l.num(t, i, "sat% L1")
		if lin+sat > 100 {
			t.Errorf("row %d: %v%% linear and %v%% saturated", i, lin, sat)
		}
	}
	for i, want := range []string{"sigmoid", "scaledsigmoid(0.5)", "tanh", "scaledtanh(1.7159,0.6666667)"} {
		if got := s.str(i, "act"); got != want {
			t.Errorf("summary row %d: %q, want %q", i, got, want)
		}
		// Training moves every model away from its initial accuracy, and
		// the tanh forms, with the larger gradients, past chance by far.
		before, _ := l.num(t, 5*i, "test acc %")
		after, ok := s.num(t, i, "final test acc %")
		t.Logf("%s: test accuracy %.1f%% before training, %.1f%% after 4 epochs", want, before, after)
		if !ok || after <= before || strings.Contains(want, "tanh") && after < 50 {
			t.Errorf("%s: test accuracy %v%% before training, %v%% after", want, before, after)
		}
	}
}

func TestNoise(t *testing.T) {
	_, tables := runJSON(t, "noise", "-train", "1000", "-epochs", "30")
	need(t, tables, "Noise", "NoiseWeights")
	n := tables["Noise"]
	if len(n.rows) != 3 || n.str(2, "model") != "ridge (exact)" {
		t.Fatalf("noise table rows: %v", n.rows)
	}
	if v, _ := n.num(t, 2, "‖w-ridge‖/‖ridge‖"); v != 0 {
		t.Errorf("ridge distance to itself = %v", v)
	}
	for i := range 2 {
		// Both trained models approximate the same ridge solution.
		if v := n.positive(t, i, "‖w-ridge‖/‖ridge‖"); v > 0.2 {
			t.Errorf("%s: %v from the ridge solution", n.str(i, "model"), v)
		}
		n.positive(t, i, "loss")
	}
	// The exact ridge solution minimises the objective.
	obj := func(i int) float64 { return n.positive(t, i, "objective") }
	if obj(2) > obj(0)+1e-6 || obj(2) > obj(1)+1e-6 {
		t.Errorf("ridge objective %v not minimal (noise %v, L2 %v)", obj(2), obj(0), obj(1))
	}
	if w := tables["NoiseWeights"]; len(w.rows) != 9 {
		t.Errorf("weights table: %d rows, want 8 weights and the bias", len(w.rows))
	}
}

func TestZigzag(t *testing.T) {
	_, tables := runJSON(t, "zigzag", "-data", dataDir(t), "-hidden", "16", "-train", "512")
	need(t, tables, "Zigzag")
	z := tables["Zigzag"]
	if len(z.rows) != 8 {
		t.Fatalf("zigzag: %d rows, want 2 activations × 4 batch sizes", len(z.rows))
	}
	for i := range z.rows {
		act, batch := z.str(i, "act"), z.str(i, "batch")
		same, ok := z.num(t, i, "same-sign %")
		if !ok || same < 0 || same > 100 {
			t.Errorf("row %d: same-sign %v", i, same)
		}
		mean, _ := z.num(t, i, "mean input")
		switch {
		case act == "sigmoid" && batch == "1" && same != 100:
			// Positive inputs: every per-example gradient row has one sign.
			t.Errorf("sigmoid, batch 1: %v%% same-sign rows, want 100", same)
		case act == "tanh" && batch == "1" && same > 10:
			t.Errorf("tanh, batch 1: %v%% same-sign rows, want few", same)
		case act == "sigmoid" && mean <= 0:
			t.Errorf("sigmoid mean input %v, want positive", mean)
		}
	}
}

func TestQuick(t *testing.T) {
	_, tables := runJSON(t, append([]string{"-sizes", "512,4096", "-shapes", "16x32x24", "-data", dataDir(t), "-train", "300", "-test", "100", "-hidden", "16", "-epochs", "1"}, tiny...)...)
	need(t, tables, "Forward", "Backward", "Stream", "Peak", "Gemm", "Train")
	if g := tables["Gemm"]; len(g.rows) != 4 {
		t.Errorf("quick GEMM summary: %d rows, want 4 activations on the native implementation", len(g.rows))
	}
}

var benchLine = regexp.MustCompile(`^Benchmark[A-Za-z]+(/[^ /=]+=[^ /]+)+ [0-9]+( [-+0-9.e]+ [^ ]+)+$`)

func TestBenchFormat(t *testing.T) {
	var out, errb bytes.Buffer
	args := append([]string{"-q", "-format", "bench", "cost", "-sizes", "1000"}, tiny...)
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	names := map[string]int{}
	for _, l := range lines {
		if strings.HasPrefix(l, "Benchmark") {
			names[strings.Fields(l)[0]]++
			if !benchLine.MatchString(l) {
				t.Errorf("not a benchmark line: %q", l)
			}
			f := strings.Fields(l)
			for j := 2; j < len(f); j += 2 {
				if v, err := strconv.ParseFloat(f[j], 64); err != nil || !(v > 0) {
					t.Errorf("%q: value %q", l, f[j])
				}
			}
			if strings.Contains(l, "impl="+kernels.ISA()) && kernels.ISA() != "generic" {
				t.Errorf("%q: implementation named by ISA, want its role (native)", l)
			}
			continue
		}
		if k, _, ok := strings.Cut(l, ": "); !ok || strings.Contains(k, " ") {
			t.Errorf("neither a benchmark nor a configuration line: %q", l)
		}
	}
	impls := len(kernels.Implementations()) + 1
	if want := 2*6*impls + 2 + 2*6*impls; len(names) != want {
		t.Errorf("%d benchmarks, want %d", len(names), want)
	}
	// The kernels' timings come one line per sample, as with -count.
	for n, c := range names {
		if strings.HasPrefix(n, "BenchmarkForward/") && c != 3 {
			t.Errorf("%s: %d lines, want one per sample (3)", n, c)
		}
	}
	for _, key := range []string{"goos: ", "goarch: ", "pkg: ", "isa: "} {
		if !strings.Contains(out.String(), "\n"+key) && !strings.HasPrefix(out.String(), key) {
			t.Errorf("no %q configuration line", key)
		}
	}
}

func TestTextFormat(t *testing.T) {
	var out, errb bytes.Buffer
	args := append([]string{"-q", "cost", "-sizes", "1000"}, tiny...)
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	s := out.String()
	for _, want := range []string{"kernels   active " + kernels.ISA(), "act", "level", kernels.ISA() + " ns/elem", "generic ns/elem", "naive ×relu", "sigmoid", "copy"} {
		if !strings.Contains(s, want) {
			t.Errorf("text output lacks %q:\n%s", want, s)
		}
	}
	if errb.Len() != 0 {
		t.Errorf("-q printed progress: %q", errb.String())
	}
}

func TestProgressPlain(t *testing.T) {
	var out, errb bytes.Buffer
	args := append([]string{"cost", "-sizes", "1000", "-impl", "native"}, tiny...)
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "actbench: cost forward: 6 steps") || !strings.Contains(errb.String(), "done in") {
		t.Errorf("plain progress lines missing from stderr: %q", errb.String())
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-format", "xml"},
		{"nosuchsuite"},
		{"-impl", "sse9"},
		{"cost", "-sizes", "0"},
		{"gemm", "-threads", "two"},
		{"gemm", "-shapes", "3x4"},
		{"-nosuchflag"},
		{"cost", "extra"},
		{"-samples", "0"},
		{"train", "-target", "2"},
	} {
		var out, errb bytes.Buffer
		if code := run(append([]string{"-q"}, args...), &out, &errb); code != 2 {
			t.Errorf("actbench %v: exit %d, want 2", args, code)
		}
		if !strings.Contains(errb.String(), "actbench") && !strings.Contains(errb.String(), "flag") {
			t.Errorf("actbench %v: unclear error %q", args, errb.String())
		}
		if out.Len() != 0 {
			t.Errorf("actbench %v: wrote to stdout: %q", args, out.String())
		}
	}
}

func TestProfiles(t *testing.T) {
	dir := t.TempDir()
	cpu, mem, tr := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "mem.pprof"), filepath.Join(dir, "trace.out")
	var out, errb bytes.Buffer
	args := append([]string{"-q", "-cpuprofile", cpu, "-memprofile", mem, "-trace", tr, "cost", "-sizes", "1000", "-impl", "native"}, tiny...)
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, p := range []string{cpu, mem} {
		b, err := os.ReadFile(p)
		if err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
			t.Errorf("%s: not a gzipped pprof profile (%v)", p, err)
		}
	}
	if b, err := os.ReadFile(tr); err != nil || !bytes.HasPrefix(b, []byte("go 1.")) {
		t.Errorf("%s: not an execution trace (%v)", tr, err)
	}
}

func TestPlots(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"-q", "-plot", dir, "cost", "-sizes", "1000,8000", "-impl", "native,generic"},
		{"-q", "-plot", dir, "gemm", "-shapes", "24x40x56,8x16x20/At", "-threads", "1", "-impl", "native,generic"},
	} {
		var out, errb bytes.Buffer
		if code := run(append(args, tiny...), &out, &errb); code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, errb.String())
		}
	}
	for _, name := range []string{"cost-forward", "cost-backward", "gemm"} {
		b, err := os.ReadFile(filepath.Join(dir, name+".png"))
		if err != nil {
			t.Errorf("%s.png: %v", name, err)
			continue
		}
		if _, err := png.Decode(bytes.NewReader(b)); err != nil {
			t.Errorf("%s.png: %v", name, err)
		}
		svg, err := os.ReadFile(filepath.Join(dir, name+".svg"))
		if err != nil || !bytes.Contains(svg, []byte("<svg")) {
			t.Errorf("%s.svg: not an SVG (%v)", name, err)
		}
	}
	// A directory that cannot be made: the tables are printed all the same.
	file := filepath.Join(dir, "cost-forward.png")
	var out, errb bytes.Buffer
	args := append([]string{"-q", "-plot", file, "cost", "-sizes", "1000", "-impl", "native"}, tiny...)
	if code := run(args, &out, &errb); code != 1 || !strings.Contains(out.String(), "forward activation kernels") || !strings.Contains(errb.String(), "-plot") {
		t.Errorf("-plot into a file: exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
}

func TestProgressWork(t *testing.T) {
	var k work
	k.begin("cost forward", 3, []float64{1, 1, 6})
	if _, ok := k.left(); ok {
		t.Error("an estimate before any work is done")
	}
	k.step()
	if f := k.fraction(); f != 0.125 {
		t.Errorf("after the first of steps weighing 1, 1, 6: %v of the work done, want 0.125", f)
	}
	// One second for an eighth of the work: at least seven more.
	k.start = k.start.Add(-time.Second)
	if left, ok := k.left(); !ok || left < 7*time.Second {
		t.Errorf("remaining time %v (%v), want at least 7s", left, ok)
	}
	k.step()
	k.step()
	if f := k.fraction(); f != 1 {
		t.Errorf("all steps done: fraction %v", f)
	}
	// Without weights the steps count alike.
	k.begin("train", 4, nil)
	k.step()
	if f := k.fraction(); f != 0.25 {
		t.Errorf("unweighted: %v after 1 of 4 steps", f)
	}
}

// interruptOnStart is the stderr of a run that sends this process an
// interrupt when the progress reports the start of phase, as Ctrl-C would.
type interruptOnStart struct {
	phase string
	buf   bytes.Buffer
	err   error // from sending the signal
	sent  bool
}

func (w *interruptOnStart) Write(b []byte) (int, error) {
	w.buf.Write(b)
	if !w.sent && strings.Contains(w.buf.String(), "actbench: "+w.phase+": ") {
		w.sent = true
		p, err := os.FindProcess(os.Getpid())
		if err == nil {
			err = p.Signal(os.Interrupt)
		}
		w.err = err
	}
	return len(b), nil
}

// TestInterrupt interrupts train and dead once training has started: each
// stops, prints the partial table with a note, and exits with status 130.
// The budgets (1000 epochs) are far beyond what the run reaches before the
// signal arrives.
func TestInterrupt(t *testing.T) {
	for _, c := range []struct {
		suite string
		args  []string
		table string
		full  int // rows of the complete table
	}{
		{"train", []string{"-hidden", "16", "-epochs", "1000", "-lr", "0.0001"}, "Train", 5},
		{"dead", []string{"-hidden", "16,16", "-epochs", "1000", "-test", "100"}, "Dead", 3 * 2 * 1001},
	} {
		t.Run(c.suite, func(t *testing.T) {
			var out bytes.Buffer
			errw := &interruptOnStart{phase: c.suite}
			args := append([]string{"-format", "json", c.suite, "-data", dataDir(t)}, c.args...)
			code := run(args, &out, errw)
			if errw.err != nil {
				t.Skipf("cannot send an interrupt on %s: %v", runtime.GOOS, errw.err)
			}
			if !errw.sent {
				t.Fatalf("the run never reported the start of %s:\n%s", c.suite, errw.buf.String())
			}
			if code != exitInterrupted || !strings.Contains(errw.buf.String(), "actbench: interrupted") {
				t.Fatalf("exit %d, want %d with a message; stderr:\n%s", code, exitInterrupted, errw.buf.String())
			}
			var r report
			if err := json.Unmarshal(out.Bytes(), &r); err != nil {
				t.Fatalf("the partial report does not decode: %v\n%s", err, out.String())
			}
			var found bool
			for _, tb := range r.Tables {
				if tb.Name != c.table {
					continue
				}
				found = true
				if c.suite == "dead" && (len(tb.Rows) == 0 || len(tb.Rows) >= c.full) {
					t.Errorf("%s: %d rows, want a partial table (1 to %d)", tb.Name, len(tb.Rows), c.full-1)
				}
				if c.suite == "train" {
					if len(tb.Rows) != c.full {
						t.Errorf("train: %d rows, want one per activation", len(tb.Rows))
					}
					col := slices.IndexFunc(tb.Columns, func(col column) bool { return col.Name == "epochs run" })
					for _, row := range tb.Rows {
						if e, _ := row[col].(float64); e >= 1000 {
							t.Errorf("train row %v: ran the whole budget", row)
						}
					}
				}
				if !slices.ContainsFunc(tb.Notes, func(n string) bool { return strings.Contains(n, "interrupted") }) {
					t.Errorf("%s: no note says the run was interrupted: %q", tb.Name, tb.Notes)
				}
			}
			if !found {
				t.Fatalf("no %s table in the partial report", c.table)
			}
		})
	}
}

func TestWidth(t *testing.T) {
	_, tables := runJSON(t, append([]string{"width"}, tiny...)...)
	need(t, tables, "Clock")
	var simd []string
	for _, im := range kernels.Implementations() {
		if im != "generic" {
			simd = append(simd, im)
		}
	}
	c := tables["Clock"]
	if len(c.rows) != 1+len(simd) {
		t.Fatalf("clock: %d rows, want %d (scalar and one per SIMD implementation %v)", len(c.rows), 1+len(simd), simd)
	}
	w, ok := tables["Width"]
	if !ok {
		t.Fatal("no Width table")
	}
	if len(simd) == 0 {
		if len(w.rows) != 0 || len(w.notes) == 0 {
			t.Errorf("width without SIMD: %d rows, notes %q; want none and a note", len(w.rows), w.notes)
		}
		return
	}
	if want := 6 * len(simd); len(w.rows) != want {
		t.Fatalf("width: %d rows, want %d (6 kernels × %v)", len(w.rows), want, simd)
	}
	for i := range w.rows {
		long := w.positive(t, i, "long ns")
		short := w.positive(t, i, "short ns")
		if r := w.positive(t, i, "short/long"); math.Abs(r-short/long) > 1e-9*r {
			t.Errorf("width row %d: short/long %v != %v/%v", i, r, short, long)
		}
		// The gains are against the narrowest implementation, the last
		// row of each kernel: exactly 1 there.
		if w.str(i, "impl") == simd[len(simd)-1] {
			for _, col := range []string{"long gain", "short gain"} {
				if g := w.positive(t, i, col); g != 1 {
					t.Errorf("width row %d (%s): %s = %v, want 1", i, w.str(i, "impl"), col, g)
				}
			}
		}
	}
}
