package bench

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/actfuse/actfuse/internal/ref"
	"github.com/actfuse/actfuse/kernels"
)

func sampleReport() *Report {
	t := &Table{
		Name:  "Forward",
		Title: "test table",
		Columns: []Column{
			{Name: "act", Label: true},
			{Name: "impl", Label: true},
			{Name: "ns/elem", Unit: "ns/elem"},
			{Name: "×relu", Unit: "x-relu", NoBench: true, Prec: 2},
			{Name: "note", Label: true, NoBench: true},
			{Name: "samples", Unit: "samples", Int: true},
		},
		Pivot: "impl",
	}
	native := Str("avx2")
	native.Bench = "native"
	t.Add(Str("relu"), native, NumSamples(0.05, []float64{0.06, 0.05, 0.04}), Num(1), Str("x y"), Num(3))
	t.Add(Str("relu"), Str("generic"), Num(0.5), Num(1), Str("z"), Num(7))
	t.Add(Str("tanh"), native, Num(0.4), Num(8), Str(""), Num(7))
	t.Add(Str("tanh"), Str("generic"), Num(math.NaN()), Missing(), Str(""), Num(5))
	return &Report{Machine: Machine{GOOS: "linux", GOARCH: "amd64", CPU: "Test CPU", ISA: "avx2", Implementations: []string{"avx2", "generic"}, L1D: 32 << 10, L2: 1 << 20, L3: 32 << 20}, Tables: []*Table{t}}
}

func TestWriteTextPivot(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport().WriteText(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	var header, tanh string
	for _, l := range lines {
		if strings.Contains(l, "avx2 ns/elem") {
			header = l
		}
		if strings.HasPrefix(strings.TrimSpace(l), "tanh") {
			tanh = l
		}
	}
	for _, want := range []string{"act", "avx2 ns/elem", "avx2 ×relu", "generic ns/elem", "generic ×relu"} {
		if !strings.Contains(header, want) {
			t.Errorf("pivoted header %q lacks %q", header, want)
		}
	}
	if strings.Contains(header, "samples") {
		t.Errorf("pivoted header %q shows the samples column", header)
	}
	// tanh (empty note): avx2 0.400 and 8.00, generic missing twice.
	if f := strings.Fields(tanh); len(f) != 5 || f[1] != "0.400" || f[2] != "8.00" || f[3] != "-" || f[4] != "-" {
		t.Errorf("tanh row %q, want tanh 0.400 8.00 - -", tanh)
	}
}

func TestWriteJSONRoundTrip(t *testing.T) {
	r := sampleReport()
	var b bytes.Buffer
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatalf("decoding %s: %v", b.String(), err)
	}
	got, want := back.Tables[0].Rows, r.Tables[0].Rows
	for i := range want {
		for j := range want[i] {
			w, g := want[i][j], got[i][j]
			if g.S != w.S || g.F != w.F || g.Num != w.Num {
				t.Errorf("row %d col %d: %+v after the round trip, want %+v", i, j, got[i][j], w)
			}
		}
	}
	if !strings.Contains(b.String(), "null") {
		t.Errorf("missing value not written as null:\n%s", b.String())
	}
}

func TestWriteBench(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport().WriteBench(&b); err != nil {
		t.Fatal(err)
	}
	want := "goos: linux\ngoarch: amd64\npkg: github.com/actfuse/actfuse/bench\ncpu: Test CPU\nisa: avx2\n" +
		"BenchmarkForward/act=relu/impl=native 1 0.06 ns/elem\n" +
		"BenchmarkForward/act=relu/impl=native 1 0.05 ns/elem\n" +
		"BenchmarkForward/act=relu/impl=native 1 0.04 ns/elem\n" +
		"BenchmarkForward/act=relu/impl=generic 7 0.5 ns/elem\n" +
		"BenchmarkForward/act=tanh/impl=native 7 0.4 ns/elem\n"
	if b.String() != want {
		t.Errorf("bench format:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestDetectEmulation(t *testing.T) {
	x86 := []byte("processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R)\nflags\t\t: fpu sse sse2 avx2\n")
	arm := []byte("processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd\nCPU implementer\t: 0x41\nCPU architecture: 8\n")
	for _, c := range []struct {
		goarch string
		info   []byte
		want   bool
	}{
		{"amd64", x86, false}, {"arm64", arm, false},
		{"arm64", x86, true}, {"amd64", arm, true}, {"riscv64", x86, true},
		{"arm64", nil, false},
	} {
		got, why := detectEmulation(c.goarch, c.info)
		if got != c.want || got == (why == "") {
			t.Errorf("detectEmulation(%s, %.20q) = %v, %q; want %v", c.goarch, c.info, got, why, c.want)
		}
	}
}

func TestSizes(t *testing.T) {
	m := Machine{L1D: 32 << 10, L2: 1 << 20, L3: 36 << 20}
	l1, l2, dram := m.Sizes()
	if l1 != 4096 || l2 != 65536 {
		t.Errorf("L1, L2 sizes = %d, %d; want 4096, 65536", l1, l2)
	}
	if 4*dram < m.L3 {
		t.Errorf("DRAM size %d: one array (%d bytes) smaller than L3 (%d)", dram, 4*dram, m.L3)
	}
	for _, n := range []int{l1, l2, dram} {
		if s := SizeFor(m, n); s.N != n {
			t.Errorf("SizeFor(%d) = %+v", n, s)
		}
	}
	if SizeFor(m, l1).Level != "L1" || SizeFor(m, l2).Level != "L2" || SizeFor(m, dram).Level != "DRAM" || SizeFor(m, 1<<20).Level != "L3" {
		t.Errorf("levels: %v %v %v %v", SizeFor(m, l1), SizeFor(m, l2), SizeFor(m, dram), SizeFor(m, 1<<20))
	}
}

func TestParseShape(t *testing.T) {
	s, err := ParseShape("128x512x784/Bt")
	if err != nil || s.M != 128 || s.K != 512 || s.N != 784 || s.TransA || !s.TransB || s.String() != "128x512x784/Bt" {
		t.Errorf("ParseShape = %+v, %v", s, err)
	}
	for _, bad := range []string{"3x4", "0x1x1", "axbxc", "1x2x3/Ct", ""} {
		if _, err := ParseShape(bad); err == nil {
			t.Errorf("ParseShape(%q) accepted", bad)
		}
	}
}

func TestParseImpls(t *testing.T) {
	impls, naive, err := ParseImpls("all")
	if err != nil || !naive || len(impls) != len(kernels.Implementations()) {
		t.Errorf("all: %v %v %v", impls, naive, err)
	}
	impls, naive, err = ParseImpls("native,generic,native")
	if err != nil || naive || impls[0] != kernels.ISA() || impls[len(impls)-1] != "generic" {
		t.Errorf("native,generic: %v %v %v", impls, naive, err)
	}
	if _, _, err := ParseImpls("sse9"); err == nil {
		t.Error("unknown implementation accepted")
	}
}

// The naive loops are the plain float64 formulas: within 1 ULP of the
// references away from ELU's cancellation near zero.
func TestNaiveLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, 1000)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 4)
	}
	y := make([]float32, len(x))
	for _, a := range Activations() {
		naiveForward(a, y, x)
		want := ref.Forward(a)
		for i, v := range x {
			if a.Func == kernels.ELU && math.Abs(float64(v)) < 1e-3 {
				continue
			}
			if e := ref.ULP(y[i], want(float64(v))); e > 1 {
				t.Errorf("%v(%g) = %g: %v ULP", a, v, y[i], e)
			}
		}
		dy := make([]float32, len(x))
		for i := range dy {
			dy[i] = float32(rng.NormFloat64())
		}
		dx := make([]float32, len(x))
		naiveBackward(a, dx, dy, y)
		for i := range dx {
			w := ref.Backward(a, float64(dy[i]), float64(y[i]))
			if d := math.Abs(float64(dx[i]) - w); d > 1e-6*math.Max(1, math.Abs(w)) {
				t.Errorf("backward %v at y=%g dy=%g: %g, want %g", a, y[i], dy[i], dx[i], w)
			}
		}
	}
}

// ridge solves the normal equations: on noiseless data with λ = 0 it
// recovers the generating weights, and a larger λ shrinks them.
func TestRidge(t *testing.T) {
	const n, d = 200, 3
	rng := rand.New(rand.NewPCG(3, 4))
	w := []float64{1.5, -2, 0.25}
	x := make([]float32, n*d)
	y := make([]float32, n)
	for i := range n {
		s := 0.5
		for j := range d {
			v := float32(rng.NormFloat64())
			x[i*d+j] = v
			s += w[j] * float64(v)
		}
		y[i] = float32(s)
	}
	got, b := ridge(x, y, n, d, 0)
	for j := range d {
		if math.Abs(got[j]-w[j]) > 1e-5 {
			t.Errorf("w[%d] = %v, want %v", j, got[j], w[j])
		}
	}
	if math.Abs(b-0.5) > 1e-5 {
		t.Errorf("bias %v, want 0.5", b)
	}
	shrunk, _ := ridge(x, y, n, d, 1)
	if dot(shrunk, shrunk) >= dot(got, got) {
		t.Errorf("λ = 1 did not shrink the weights: %v vs %v", shrunk, got)
	}
}

func TestTimeVariants(t *testing.T) {
	o := Options{Samples: 5, MinTime: 200 * time.Microsecond}
	o.Defaults()
	x := make([]float32, 1<<12)
	y := make([]float32, len(x))
	slow := func() {
		for range 4 {
			naiveForward(kernels.Activation{Func: kernels.Tanh}, y, x)
		}
	}
	fast := func() { naiveForward(kernels.Activation{Func: kernels.Tanh}, y, x) }
	ts := o.timeVariants("test", []variant{{name: "slow", run: slow}, {name: "fast", run: fast}})
	if ts[0].samples != 5 || ts[1].samples != 5 || ts[0].median <= 0 || ts[1].median <= 0 {
		t.Fatalf("timings %+v", ts)
	}
	// Four times the work should take about four times as long; a busy
	// machine may say otherwise, so the ratio is reported, not asserted.
	t.Logf("slow/fast = %.2f (about 4 expected)", float64(ts[0].median)/float64(ts[1].median))
	if ts[0].median < ts[0].min {
		t.Errorf("median %v below min %v", ts[0].median, ts[0].min)
	}
}

// TestNoiseWatch checks that a table is marked noisy exactly when some
// variant's samples spread by more than noisySpread.
func TestNoiseWatch(t *testing.T) {
	ms := func(v ...int) timing {
		var all []time.Duration
		for _, x := range v {
			all = append(all, time.Duration(x)*time.Millisecond)
		}
		return summarize(all, 1)
	}
	var quiet, busy noiseWatch
	quiet.add("steady", ms(100, 101, 99, 100, 102, 100, 98))
	quiet.add("three samples", ms(100, 300, 50)) // too few to judge
	busy.add("steady", ms(100, 101, 99, 100, 102, 100, 98))
	busy.add("jumpy", ms(100, 140, 95, 100, 150, 100, 99))
	tq, tb := &Table{}, &Table{}
	quiet.note(tq)
	busy.note(tb)
	if len(tq.Notes) != 0 {
		t.Errorf("quiet samples gave notes %q", tq.Notes)
	}
	if len(tb.Notes) != 1 || !strings.Contains(tb.Notes[0], "jumpy") || !strings.Contains(tb.Notes[0], "41%") {
		t.Errorf("busy samples gave notes %q, want one naming jumpy with 41%%", tb.Notes)
	}
}

func TestCapSizes(t *testing.T) {
	// A virtual machine whose cpuid reports a 480 MiB L3: the DRAM size of
	// 120 Mi elements is capped, below the L3, and the note says so.
	big := Machine{L1D: 32 << 10, L2: 1 << 20, L3: 480 << 20}
	_, _, dram := big.Sizes()
	if dram != 120<<20 {
		t.Fatalf("DRAM size for a 480 MiB L3: %d", dram)
	}
	sizes, note := capSizes(big, MachineSizes(big), QuickMaxN)
	if want := (Size{"L3", QuickMaxN}); sizes[2] != want || sizes[0] != (Size{"L1", 4096}) || sizes[1] != (Size{"L2", 65536}) {
		t.Errorf("capped sizes %v, want L1 4096, L2 65536, %v", sizes, want)
	}
	for _, s := range []string{"capped at n = 8388608 (32 MiB per array)", "does not exceed the reported L3 (480 MiB)", "`actbench cost` times n = 125829120 (480 MiB per array)"} {
		if !strings.Contains(note, s) {
			t.Errorf("note %q lacks %q", note, s)
		}
	}

	// A 32 MiB L3: the DRAM size is the cap itself, not capped.
	m := Machine{L1D: 32 << 10, L2: 1 << 20, L3: 32 << 20}
	sizes, note = capSizes(m, MachineSizes(m), QuickMaxN)
	if sizes[2] != (Size{"DRAM", 8 << 20}) || !strings.Contains(note, "largest size n = 8388608 (32 MiB per array): one array is at least as large as the reported L3 (32 MiB)") {
		t.Errorf("32 MiB L3: %v, %q", sizes, note)
	}

	// Capped, but one array still fills the L3.
	small := Machine{L1D: 32 << 10, L2: 8 << 20, L3: 8 << 20}
	sizes, note = capSizes(small, []Size{{"L1", 4096}, {"DRAM", 4 << 20}}, 3<<20)
	if sizes[1] != (Size{"DRAM", 3 << 20}) || !strings.Contains(note, "down from n = 4194304") || !strings.Contains(note, "still at least as large as the reported L3 (8 MiB)") {
		t.Errorf("capped above the L3: %v, %q", sizes, note)
	}
}

func TestAgree(t *testing.T) {
	us := func(v ...int) []time.Duration {
		d := make([]time.Duration, len(v))
		for i, x := range v {
			d[i] = time.Duration(x) * time.Microsecond
		}
		return d
	}
	for _, c := range []struct {
		per  [][]time.Duration
		want bool
	}{
		{[][]time.Duration{us(100, 104, 102), us(50, 50, 51)}, true},
		{[][]time.Duration{us(100, 104, 102), us(50, 53, 51)}, false}, // 3 µs over a 51 µs median
		{[][]time.Duration{us(200, 190)}, false},
		{[][]time.Duration{us(0, 0, 0)}, false},
	} {
		if got := agree(c.per); got != c.want {
			t.Errorf("agree(%v) = %v, want %v", c.per, got, c.want)
		}
	}
}

func TestCostEstimate(t *testing.T) {
	o := Options{Samples: 7, MinTime: 2 * time.Millisecond}
	impls := []string{"avx2", "generic", NaiveName}
	sig := kernels.Activation{Func: kernels.Sigmoid}
	// Small arrays: every variant takes 8 calls (calibration and 7 samples)
	// of MinTime each.
	if got, want := o.costEstimate("forward", impls, sig, 4096, false), 3*8*0.002; math.Abs(got-want) > 1e-12 {
		t.Errorf("L1 estimate %v, want %v", got, want)
	}
	// 8 Mi elements: the SIMD kernel 8 calls of 8.4 ms, each Go loop
	// (20 ns per element, 168 ms per call) about 6 samples to fit the 1 s
	// budget and its calibration call.
	n := 8 << 20
	d := 20e-9 * float64(n)
	want := 8*1e-9*float64(n) + 2*(sampleBudget.Seconds()/d+1)*d
	if got := o.costEstimate("forward", impls, sig, n, false); math.Abs(got-want) > 1e-9 {
		t.Errorf("DRAM estimate %v, want %v", got, want)
	}
	if o.costEstimate("backward", impls, sig, n, false) >= want {
		t.Error("the backward pass is estimated as slow as the exp-based forward pass")
	}
	if a, b := o.costEstimate("forward", impls, sig, n, true), o.costEstimate("forward", impls, sig, n, false); a <= b {
		t.Errorf("the stream loops add nothing: %v <= %v", a, b)
	}
}
