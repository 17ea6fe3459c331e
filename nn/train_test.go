package nn

import (
	"bytes"
	"errors"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/actfuse/actfuse/kernels"
)

// blobs returns a classification set of n examples: class c is a Gaussian
// cloud of spread 0.5 around a random centre in [-2, 2]^in.
func blobs(seed uint64, n, in, classes int) *InMemory {
	r := rand.New(rand.NewPCG(seed, 7))
	centres := make([]float64, classes*in)
	for i := range centres {
		centres[i] = 4*r.Float64() - 2
	}
	d := &InMemory{In: in, Out: classes, X: make([]float32, n*in), Labels: make([]uint8, n)}
	for i := 0; i < n; i++ {
		c := r.IntN(classes)
		d.Labels[i] = uint8(c)
		for j := 0; j < in; j++ {
			d.X[i*in+j] = float32(centres[c*in+j] + 0.5*r.NormFloat64())
		}
	}
	return d
}

var relu = kernels.Activation{Func: kernels.ReLU}

func smallConfig() Config {
	return Config{Inputs: 8, Hidden: []Layer{Dense(16, relu), Maxout(8, 2), Dense(12, kernels.Activation{Func: kernels.Tanh})},
		Outputs: 4, BiasInit: 0.01, Seed: 3}
}

func smallTrain(opt Optimizer) TrainConfig {
	return TrainConfig{BatchSize: 32, Epochs: 4, Optimizer: opt, WeightDecay: 1e-4, InputNoise: 0.05, Seed: 11,
		Schedule: StepDecay(0.5, 2)}
}

func paramsBytes(m *Model) []byte {
	var b []byte
	for _, l := range m.layers {
		b = lef32s(b, l.w)
		b = lef32s(b, l.b)
	}
	return b
}

func TestTrainLearns(t *testing.T) {
	all := blobs(1, 900, 8, 4)
	train := &InMemory{In: 8, Out: 4, X: all.X[:600*8], Labels: all.Labels[:600]}
	test := &InMemory{In: 8, Out: 4, X: all.X[600*8:], Labels: all.Labels[600:]}
	for _, opt := range []Optimizer{
		{Method: SGD, LR: 0.05, Momentum: 0.9},
		{Method: SGD, LR: 0.05, Momentum: 0.9, Nesterov: true},
		{Method: Adam, LR: 0.005},
	} {
		m, err := New(smallConfig())
		if err != nil {
			t.Fatal(err)
		}
		var stats []EpochStats
		var progress []Progress
		tc := smallTrain(opt)
		tc.OnEpoch = func(s EpochStats) error { stats = append(stats, s); return nil }
		tc.OnStep = func(p Progress) { progress = append(progress, p) }
		tr, err := NewTrainer(m, tc)
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Fit(train, test); err != nil {
			t.Fatal(err)
		}
		if len(stats) != 4 {
			t.Fatalf("%v: %d epoch callbacks, want 4", opt.Method, len(stats))
		}
		first, last := stats[0], stats[len(stats)-1]
		t.Logf("%+v: train loss %.4f -> %.4f, test accuracy %.3f", opt, first.TrainLoss, last.TrainLoss, last.TestAccuracy)
		if !(last.TrainLoss < first.TrainLoss) || last.TestAccuracy < 0.9 {
			t.Errorf("%+v: did not learn: loss %.4f -> %.4f, test accuracy %.3f", opt, first.TrainLoss, last.TrainLoss, last.TestAccuracy)
		}
		if len(progress) != 4*19 {
			t.Fatalf("%d step callbacks, want %d", len(progress), 4*19)
		}
		if p := progress[20]; p.Epoch != 1 || p.StepInEpoch != 2 || p.StepsPerEpoch != 19 || p.Step != 21 || !(p.Loss > 0) {
			t.Errorf("step callback 21: %+v", p)
		}
		if last.Steps != 4*19 || last.Epoch != 4 {
			t.Errorf("epoch %d after %d steps, want 4 after 76", last.Epoch, last.Steps)
		}
		if want := opt.LR * 0.5; last.LR != want { // StepDecay(0.5, 2) in epoch index 3
			t.Errorf("learning rate in epoch 4 is %v, want %v", last.LR, want)
		}
		for i, ls := range last.Layers {
			if !(ls.GradNorm > 0) || math.IsNaN(ls.Mean) || math.IsNaN(ls.Dead) {
				t.Errorf("layer %d stats %+v", i, ls)
			}
		}
		if s := last.Layers[2].Saturated; !(s >= 0 && s <= 1) {
			t.Errorf("tanh layer saturation %v", s)
		}
		if s := last.Layers[0].Saturated; !math.IsNaN(s) {
			t.Errorf("relu layer saturation %v, want NaN", s)
		}
	}
}

func TestReproducible(t *testing.T) {
	train := blobs(1, 300, 8, 4)
	run := func() []byte {
		m, _ := New(smallConfig())
		tr, err := NewTrainer(m, smallTrain(Optimizer{Method: Adam, LR: 0.01}))
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Fit(train, nil); err != nil {
			t.Fatal(err)
		}
		return paramsBytes(m)
	}
	a, b := run(), run()
	if !bytes.Equal(a, b) {
		t.Fatal("two runs from the same seeds differ")
	}
}

// TestResume checks that a run interrupted by a checkpoint (at an epoch
// boundary and in the middle of an epoch) and resumed in a fresh trainer
// ends bitwise identical to an uninterrupted run, optimizer state included.
func TestResume(t *testing.T) {
	train := blobs(5, 250, 8, 4) // 8 batches of 32, the last one short
	for _, opt := range []Optimizer{{Method: SGD, LR: 0.03, Momentum: 0.9, Nesterov: true}, {Method: Adam, LR: 0.01}} {
		for _, stopAfter := range []int64{8, 13} {
			dir := t.TempDir()
			full, _ := New(smallConfig())
			ft, _ := NewTrainer(full, smallTrain(opt))
			if err := ft.Fit(train, nil); err != nil {
				t.Fatal(err)
			}

			// Interrupted run: stop after stopAfter steps and save.
			path := filepath.Join(dir, "ck")
			part, _ := New(smallConfig())
			pc := smallTrain(opt)
			auto := filepath.Join(dir, "auto")
			pc.Checkpoint, pc.CheckpointEvery = auto, int(stopAfter)
			pt, _ := NewTrainer(part, pc)
			if err := pt.FitSteps(train, nil, stopAfter); err != nil {
				t.Fatal(err)
			}
			if err := pt.Save(path); err != nil {
				t.Fatal(err)
			}
			// The checkpoint Fit wrote by itself holds the same state.
			a, _ := os.ReadFile(path)
			b, err := os.ReadFile(auto)
			if err != nil || !bytes.Equal(a, b) {
				t.Errorf("%v: checkpoint written by Fit after %d steps differs from Save (%v)", opt.Method, stopAfter, err)
			}

			m2, _ := New(Config{Inputs: 8, Hidden: smallConfig().Hidden, Outputs: 4, Seed: 99}) // different initial weights
			rt, _ := NewTrainer(m2, smallTrain(opt))
			if err := rt.Restore(path); err != nil {
				t.Fatal(err)
			}
			if rt.Steps() != stopAfter {
				t.Fatalf("restored at step %d, want %d", rt.Steps(), stopAfter)
			}
			if err := rt.Fit(train, nil); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(paramsBytes(full), paramsBytes(m2)) {
				t.Errorf("%v: resumed after %d steps: weights differ from the uninterrupted run", opt.Method, stopAfter)
			}
			if a, b := ft.encode(nil), rt.encode(nil); !bytes.Equal(a, b) {
				for i := range a {
					if a[i] != b[i] {
						t.Logf("first difference at byte %d of %d", i, len(a))
						break
					}
				}
				t.Errorf("%v: resumed after %d steps: training state differs from the uninterrupted run", opt.Method, stopAfter)
			}
		}
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	dir := t.TempDir()
	m, _ := New(smallConfig())
	tr, _ := NewTrainer(m, smallTrain(Optimizer{Method: Adam, LR: 0.01}))
	if err := tr.Fit(blobs(1, 100, 8, 4), nil); err != nil {
		t.Fatal(err)
	}
	mp, tp := filepath.Join(dir, "model"), filepath.Join(dir, "trainer")
	if err := m.Save(mp); err != nil {
		t.Fatal(err)
	}
	if err := tr.Save(tp); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{mp, tp} {
		m2, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(paramsBytes(m), paramsBytes(m2)) {
			t.Errorf("%s: loaded parameters differ", p)
		}
		if sameShape(m, m2) != nil {
			t.Errorf("%s: loaded shape differs", p)
		}
	}
	// Restoring a model-only file into a trainer is a mismatch.
	tr2, _ := NewTrainer(m, smallTrain(Optimizer{Method: Adam, LR: 0.01}))
	if err := tr2.Restore(mp); !errors.Is(err, ErrCheckpointMismatch) {
		t.Errorf("restoring a model-only file: %v", err)
	}
	// No temporary files are left behind.
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Errorf("directory holds %d entries, want 2", len(ents))
	}
}

func TestCheckpointCorrupt(t *testing.T) {
	dir := t.TempDir()
	m, _ := New(smallConfig())
	tr, _ := NewTrainer(m, smallTrain(Optimizer{Method: SGD, LR: 0.01, Momentum: 0.9}))
	path := filepath.Join(dir, "ck")
	if err := tr.Save(path); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(path)
	write := func(b []byte) string {
		p := filepath.Join(dir, "bad")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	check := func(name string, b []byte, target error, msg string) {
		t.Helper()
		p := write(b)
		_, err := Load(p)
		if err == nil {
			t.Errorf("%s: Load succeeded", name)
			return
		}
		if !errors.Is(err, target) || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: Load error %q, want %v containing %q", name, err, target, msg)
		}
		before := paramsBytes(m)
		if err := tr.Restore(p); err == nil {
			t.Errorf("%s: Restore succeeded", name)
		}
		if !bytes.Equal(before, paramsBytes(m)) {
			t.Errorf("%s: failed Restore changed the model", name)
		}
	}
	for _, n := range []int{0, 5, ckptHeader, len(good) / 2, len(good) - 1} {
		check("truncated", good[:n], ErrCorruptCheckpoint, "")
	}
	flip := bytes.Clone(good)
	flip[len(flip)/2] ^= 0x10
	check("bit flip", flip, ErrCorruptCheckpoint, "checksum")
	bad := bytes.Clone(good)
	copy(bad, "NOTACKPT")
	check("magic", bad, ErrCorruptCheckpoint, "not a checkpoint")
	ver := bytes.Clone(good)
	ver[8] = 9
	check("version", ver, ErrCheckpointMismatch, "version 9")
	long := append(bytes.Clone(good), 0)
	check("extra byte", long, ErrCorruptCheckpoint, "")

	// A valid file with a forged size: the header passes the checksum but
	// announces a huge layer, which must be refused before allocating.
	forged := forge(m, func(b []byte) { putU32(b, ckptHeader, 1<<24) }) // Inputs
	check("forged size", forged, ErrCorruptCheckpoint, "")

	// A valid checkpoint of another shape.
	other, _ := New(Config{Inputs: 8, Hidden: []Layer{Dense(16, relu)}, Outputs: 4})
	ot, _ := NewTrainer(other, smallTrain(Optimizer{Method: SGD, LR: 0.01, Momentum: 0.9}))
	op := filepath.Join(dir, "other")
	if err := ot.Save(op); err != nil {
		t.Fatal(err)
	}
	if err := tr.Restore(op); !errors.Is(err, ErrCheckpointMismatch) {
		t.Errorf("restoring another shape: %v", err)
	}
	// Same shape, other batch size.
	tc := smallTrain(Optimizer{Method: SGD, LR: 0.01, Momentum: 0.9})
	tc.BatchSize = 64
	bt, _ := NewTrainer(m, tc)
	if err := bt.Restore(path); !errors.Is(err, ErrCheckpointMismatch) || !strings.Contains(err.Error(), "batch size") {
		t.Errorf("restoring with another batch size: %v", err)
	}
}

func putU32(b []byte, off int, v uint32) {
	b[off], b[off+1], b[off+2], b[off+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

// forge encodes m, applies edit to the bytes and fixes the checksum.
func forge(m *Model, edit func([]byte)) []byte {
	b := m.encode(nil, nil)
	edit(b)
	b = b[:len(b)-4]
	return le32(b, crc32c(b))
}

func TestDivergence(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ck")
	m, _ := New(Config{Inputs: 8, Hidden: []Layer{Dense(16, relu), Dense(16, relu)}, Outputs: 4, Seed: 1})
	tc := TrainConfig{BatchSize: 32, Epochs: 3, Optimizer: Optimizer{Method: SGD, LR: 0.01, Momentum: 0.9}, Checkpoint: path}
	tr, _ := NewTrainer(m, tc)
	train := blobs(1, 64, 8, 4)
	if err := tr.Fit(train, nil); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(path)
	// Poison one bias of layer 1: the next step must stop naming it.
	tr.cfg.Epochs = 5
	m.layers[1].b[7] = float32(math.Inf(1))
	err := tr.Fit(train, nil)
	var de *DivergenceError
	if !errors.As(err, &de) {
		t.Fatalf("Fit returned %v, want a *DivergenceError", err)
	}
	if de.Layer != 1 || de.Step != 7 || de.What != "bias" || !strings.Contains(err.Error(), "layer 1") || !strings.Contains(err.Error(), "step 7") {
		t.Errorf("divergence error %q (%+v), want layer 1 bias at step 7", err, de)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, good) {
		t.Error("the last good checkpoint was overwritten")
	}
	// A learning rate far too large diverges by itself.
	m2, _ := New(Config{Inputs: 8, Hidden: []Layer{Dense(16, relu)}, Outputs: 1, Head: LinearMSE, Seed: 1})
	reg := &InMemory{In: 8, Out: 1, X: train.X, Y: make([]float32, 64)}
	for i := range reg.Y {
		reg.Y[i] = 100
	}
	tr2, _ := NewTrainer(m2, TrainConfig{BatchSize: 8, Epochs: 50, Optimizer: Optimizer{Method: SGD, LR: 10}})
	err = tr2.Fit(reg, nil)
	if !errors.As(err, &de) {
		t.Fatalf("Fit with LR 10 returned %v, want a *DivergenceError", err)
	}
	t.Log(err)
}

func TestDeadUnits(t *testing.T) {
	// Inputs are non-negative. In the first layer (6 ReLU units) unit 1 and
	// unit 4 have non-positive weights and a negative bias: never active.
	// Unit 3 fires only for example 2 (the one with x0 = 1): alive.
	m, err := New(Config{Inputs: 3, Hidden: []Layer{Dense(6, relu), Dense(4, kernels.Activation{Func: kernels.Sigmoid})}, Outputs: 2})
	if err != nil {
		t.Fatal(err)
	}
	w, b := m.Params(0)
	for i := range w {
		w[i] = 0.5
	}
	for i := range b {
		b[i] = 0.1
	}
	for _, u := range []int{1, 4} {
		for i := 0; i < 3; i++ {
			w[i*6+u] = -float32(i)
		}
		b[u] = -0.5
	}
	w[0*6+3], w[1*6+3], w[2*6+3], b[3] = 2, -1, -1, -1.5
	// Sigmoid layer: unit 0 saturated high, unit 1 low, units 2 and 3 in range.
	w2, b2 := m.Params(1)
	clear(w2)
	b2[0], b2[1], b2[2], b2[3] = 20, -20, 0, 1
	d := &InMemory{In: 3, Out: 2, X: []float32{0, 1, 0.5, 0.2, 0, 0, 1, 0.1, 0.1, 0, 0, 1}, Labels: []uint8{0, 1, 0, 1}}
	ev, err := m.Evaluate(d)
	if err != nil {
		t.Fatal(err)
	}
	if got := ev.Layers[0].Dead; got != 2.0/6 {
		t.Errorf("dead fraction %v, want 2/6", got)
	}
	if got := ev.Layers[0].Saturated; !math.IsNaN(got) {
		t.Errorf("ReLU saturation %v, want NaN", got)
	}
	if got := ev.Layers[1].Saturated; got != 0.5 {
		t.Errorf("sigmoid saturation %v, want 0.5", got)
	}
	if got := ev.Layers[1].Dead; got != 0 {
		t.Errorf("sigmoid dead fraction %v, want 0", got)
	}
	// Mean of the sigmoid layer over 4 examples × 4 units: every example
	// gives σ(20)+σ(-20)+σ(0)+σ(1).
	want := (1 + 0.5 + 1/(1+math.Exp(-1))) / 4
	if got := ev.Layers[1].Mean; math.Abs(got-want) > 1e-6 {
		t.Errorf("sigmoid mean %v, want %v", got, want)
	}
	if got := ev.Layers[1].Std; got < 0.3 || got > 0.45 {
		t.Errorf("sigmoid spread %v", got)
	}
}

// TestStepNoAlloc checks that a training step allocates nothing in this
// package: its allocation count must equal that of the kernel calls it
// makes, measured alone.
func TestStepNoAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	m, _ := New(smallConfig())
	tr, _ := NewTrainer(m, smallTrain(Optimizer{Method: Adam, LR: 0.001}))
	r := rand.New(rand.NewPCG(1, 2))
	x, tg := randomBatch(r, m.cfg, 32)
	step := testing.AllocsPerRun(20, func() {
		if _, err := tr.Step(x, tg, 32); err != nil {
			t.Fatal(err)
		}
	})
	// One step makes 1 forward Gemm per layer, 2 backward Gemms per layer
	// except the first (1): 3·4-1 = 11 calls.
	a, c := make([]float32, 64), make([]float32, 64)
	ep := &kernels.Epilogue{}
	gemm := testing.AllocsPerRun(20, func() { kernels.Gemm(false, false, 8, 8, 8, a, 8, a, 8, c, 8, ep) })
	if want := 11 * gemm; step != want {
		t.Errorf("a training step makes %v allocations, its kernel calls %v", step, want)
	}
	t.Logf("allocations per step: %v (kernels.Gemm alone: %v per call)", step, gemm)

	// The optimizer update, which the kernels split over 2 goroutines,
	// allocates nothing.
	defer kernels.SetThreads(0)
	kernels.SetThreads(2)
	big, _ := New(Config{Inputs: 256, Hidden: []Layer{Dense(512, relu)}, Outputs: 2})
	for _, opt := range []Optimizer{{Method: SGD, LR: 0.01, Momentum: 0.9}, {Method: Adam, LR: 0.01}} {
		bt, _ := NewTrainer(big, TrainConfig{BatchSize: 8, Optimizer: opt})
		bt.step = 1
		bt.update()
		if n := testing.AllocsPerRun(20, func() { bt.update() }); n != 0 {
			t.Errorf("%v: the optimizer update on 2 threads makes %v allocations", opt.Method, n)
		}
	}
}

func crc32c(b []byte) uint32 { return crc32.Checksum(b, crcTable) }

// TestThreadsBitwise checks that training gives the same bits with 1 and 2
// kernel threads (the Gemm calls and the optimizer update of this model are
// large enough to be split).
func TestThreadsBitwise(t *testing.T) {
	defer kernels.SetThreads(0)
	cfg := Config{Inputs: 96, Hidden: []Layer{Dense(384, relu), Dense(256, kernels.Activation{Func: kernels.ELU, Alpha: 1})}, Outputs: 10, Seed: 4}
	r := rand.New(rand.NewPCG(3, 3))
	x, tg := randomBatch(r, cfg, 128)
	run := func(threads int) []byte {
		kernels.SetThreads(threads)
		m, _ := New(cfg)
		tr, err := NewTrainer(m, TrainConfig{BatchSize: 128, Optimizer: Optimizer{Method: SGD, LR: 0.05, Momentum: 0.9}, WeightDecay: 1e-4})
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := tr.Step(x, tg, 128); err != nil {
				t.Fatal(err)
			}
		}
		return paramsBytes(m)
	}
	if !bytes.Equal(run(1), run(2)) {
		t.Error("weights after 3 steps differ between 1 and 2 threads")
	}
}

// FuzzCheckpointPayload feeds arbitrary payloads (past the checksum) to the
// checkpoint decoder, which must return an error rather than panic or
// allocate more than the input justifies.
func FuzzCheckpointPayload(f *testing.F) {
	m, _ := New(Config{Inputs: 3, Hidden: []Layer{Dense(4, relu), Maxout(2, 2)}, Outputs: 2})
	tr, _ := NewTrainer(m, TrainConfig{BatchSize: 4, Optimizer: Optimizer{Method: Adam, LR: 0.01}})
	for _, b := range [][]byte{m.encode(nil, nil), m.encode(nil, tr)} {
		f.Add(b[ckptHeader : len(b)-ckptTrailer])
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		d := &decoder{b: payload}
		got, err := decodeModel(d)
		if err != nil {
			return
		}
		var params int
		for _, l := range got.layers {
			params += len(l.w) + len(l.b)
		}
		if 4*params > len(payload) {
			t.Fatalf("decoded %d parameters from %d bytes", params, len(payload))
		}
		if sameShape(got, m) == nil {
			newRestore(tr, got).decodeTrainer(d)
		}
	})
}

func TestInit(t *testing.T) {
	const in, out = 400, 300
	for _, c := range []struct {
		init Init
		act  kernels.Activation
		he   bool
	}{
		{InitAuto, relu, true}, {InitAuto, kernels.Activation{Func: kernels.Tanh}, false},
		{InitHe, kernels.Activation{Func: kernels.Sigmoid}, true}, {InitXavier, relu, false},
	} {
		m, err := New(Config{Inputs: in, Hidden: []Layer{Dense(out, c.act)}, Outputs: 2, Init: c.init, BiasInit: 0.25, Seed: 9})
		if err != nil {
			t.Fatal(err)
		}
		w, b := m.Params(0)
		var s, s2, mx float64
		for _, v := range w {
			s += float64(v)
			s2 += float64(v) * float64(v)
			mx = math.Max(mx, math.Abs(float64(v)))
		}
		n := float64(len(w))
		sd := math.Sqrt(s2/n - (s/n)*(s/n))
		// 120,000 draws: the sample standard deviation is within 1% of
		// the true one with overwhelming probability.
		want := math.Sqrt(2.0 / in) // He: N(0, 2/fanIn)
		if !c.he {
			lim := math.Sqrt(6.0 / (in + out)) // Xavier: U(±lim), sd lim/√3
			want = lim / math.Sqrt(3)
			if mx > lim {
				t.Errorf("%v/%v: |w| = %v beyond the Xavier limit %v", c.init, c.act, mx, lim)
			}
		}
		if math.Abs(sd/want-1) > 0.01 || math.Abs(s/n) > 4*want/math.Sqrt(n) {
			t.Errorf("%v/%v: weights have mean %.3g and sd %.5f, want 0 and %.5f", c.init, c.act, s/n, sd, want)
		}
		for _, v := range b {
			if v != 0.25 {
				t.Fatalf("hidden bias %v, want 0.25", v)
			}
		}
		if _, ob := m.Params(1); ob[0] != 0 || ob[1] != 0 {
			t.Errorf("output bias %v, want 0", ob)
		}
	}
}

func TestShuffle(t *testing.T) {
	m, _ := New(smallConfig())
	tr, _ := NewTrainer(m, smallTrain(Optimizer{Method: SGD, LR: 0.01}))
	const n = 1000
	var prev []int32
	for e := 0; e < 3; e++ {
		tr.epoch = e
		tr.preparePerm(n)
		seen := make([]bool, n)
		inPlace := 0
		for i, p := range tr.perm {
			if seen[p] {
				t.Fatalf("epoch %d: %d visited twice", e, p)
			}
			seen[p] = true
			if int(p) == i {
				inPlace++
			}
		}
		if inPlace > 20 { // a random permutation fixes 1 point on average
			t.Errorf("epoch %d: %d examples left in place", e, inPlace)
		}
		if prev != nil && slices.Equal(prev, tr.perm) {
			t.Errorf("epoch %d repeats the previous order", e)
		}
		prev = append([]int32(nil), tr.perm...)
	}
	tr.cfg.NoShuffle = true
	tr.epoch = 7
	tr.preparePerm(n)
	for i, p := range tr.perm {
		if int(p) != i {
			t.Fatalf("NoShuffle: position %d holds %d", i, p)
		}
	}
}

// TestOptimizerRules checks one update of every optimizer against the
// textbook formulas evaluated in float64 (tolerance: a few float32
// roundings of values of order 1, 1e-6 relative).
func TestOptimizerRules(t *testing.T) {
	const n = 5
	const lr, mu, wd, b1, b2, eps = 0.1, 0.9, 0.01, 0.8, 0.99, 1e-8
	r := rand.New(rand.NewPCG(8, 8))
	mk := func() []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(r.NormFloat64())
		}
		return s
	}
	p0, v0, v20, g := mk(), mk(), mk(), mk()
	for i := range v20 {
		v20[i] = float32(math.Abs(float64(v20[i])))
	}
	near := func(name string, got float32, want float64) {
		if math.Abs(float64(got)-want) > 1e-6*(1+math.Abs(want)) {
			t.Errorf("%s: got %.8g, want %.8g", name, got, want)
		}
	}
	for _, nesterov := range []bool{false, true} {
		p, v := cloneF32(p0), cloneF32(v0)
		kernels.SGDUpdate(p, v, g, lr, mu, wd, nesterov)
		for i := range p {
			gi := float64(g[i]) + wd*float64(p0[i])
			vi := mu*float64(v0[i]) + gi
			step := vi
			if nesterov {
				step = gi + mu*vi
			}
			near("sgd v", v[i], vi)
			near("sgd w", p[i], float64(p0[i])-lr*step)
		}
	}
	// Classical momentum in fused form: the Gemm has added g to v, which
	// held μ·v0.
	{
		p, v := cloneF32(p0), make([]float32, n)
		for i := range v {
			v[i] = mu*v0[i] + g[i]
		}
		kernels.MomentumUpdate(p, v, float32(lr), float32(mu), float32(wd))
		for i := range p {
			vi := mu*float64(v0[i]) + float64(g[i]) + wd*float64(p0[i])
			near("fused w", p[i], float64(p0[i])-lr*vi)
			near("fused μ·v", v[i], mu*vi)
		}
	}
	// Adam at step t = 3, through the trainer's bias-corrected constants.
	m, _ := New(Config{Inputs: 1, Outputs: 2, Head: SoftmaxCrossEntropy})
	tr, _ := NewTrainer(m, TrainConfig{BatchSize: 1, Optimizer: Optimizer{Method: Adam, LR: lr, Beta1: b1, Beta2: b2, Epsilon: eps}, WeightDecay: wd})
	tr.step, tr.lr = 3, lr
	tr.prepareUpdate()
	p, m1, m2 := cloneF32(p0), cloneF32(v0), cloneF32(v20)
	kernels.AdamUpdate(p, m1, m2, g, tr.upd.lr, b1, b2, tr.upd.eps, wd)
	for i := range p {
		gi := float64(g[i]) + wd*float64(p0[i])
		mi := b1*float64(v0[i]) + (1-b1)*gi
		vi := b2*float64(v20[i]) + (1-b2)*gi*gi
		mh, vh := mi/(1-math.Pow(b1, 3)), vi/(1-math.Pow(b2, 3))
		near("adam m", m1[i], mi)
		near("adam v", m2[i], vi)
		near("adam w", p[i], float64(p0[i])-lr*mh/(math.Sqrt(vh)+eps))
	}
}

func cloneF32(s []float32) []float32 { return append([]float32(nil), s...) }

// TestFusedMomentumGradNorm checks that with classical momentum (weight
// gradient accumulated into the velocity by the Gemm) the sampled gradient
// norm is still that of the gradient alone.
func TestFusedMomentumGradNorm(t *testing.T) {
	m, _ := New(smallConfig())
	r := rand.New(rand.NewPCG(2, 2))
	x, tg := randomBatch(r, m.cfg, 32)
	// Reference: the gradient of the initial weights.
	ws := m.newWorkspace(32)
	copy(ws.x, x)
	copy(ws.t, tg)
	m.forward(ws, 32)
	m.lossGrad(ws, 32, true)
	gw, gb := make([][]float32, len(m.layers)), make([][]float32, len(m.layers))
	for i, l := range m.layers {
		gw[i], gb[i] = make([]float32, len(l.w)), make([]float32, len(l.b))
	}
	m.backward(ws, 32, gw, gb, false, nil)

	tr, _ := NewTrainer(m, TrainConfig{BatchSize: 32, Optimizer: Optimizer{Method: SGD, LR: 0.01, Momentum: 0.9},
		OnEpoch: func(EpochStats) error { return nil }})
	if !tr.fused {
		t.Fatal("classical momentum does not take the fused path")
	}
	for i := range tr.s1w { // a non-zero velocity, which the norm must exclude
		for j := range tr.s1w[i] {
			tr.s1w[i][j] = 0.5
		}
	}
	if _, err := tr.Step(x, tg, 32); err != nil {
		t.Fatal(err)
	}
	for i := range gw {
		want := sumSquares(gw[i])
		if got := tr.gradSS[i]; math.Abs(got-want) > 1e-5*want+1e-12 {
			t.Errorf("layer %d: sampled ‖dW‖² %.8g, want %.8g", i, got, want)
		}
	}
}

// TestLinearRegion checks the linear-region fraction against its
// definition computed here from the pre-activations in float64: a
// bias-only layer puts every unit at a chosen pre-activation z, inside or
// outside |slope·z| <= atanh(1/√2) (tanh) or 2·atanh(1/√2) (sigmoid).
func TestLinearRegion(t *testing.T) {
	bound := math.Atanh(1 / math.Sqrt2)
	for _, c := range []struct {
		act   kernels.Activation
		slope float64
		limit float64 // |slope·z| at the edge of the region
	}{
		{kernels.LeCunTanh, 2.0 / 3, bound},
		{kernels.Activation{Func: kernels.ScaledTanh, Gain: 1, Slope: 0.25}, 0.25, bound},
		{kernels.Activation{Func: kernels.Tanh}, 1, bound},
		{kernels.Activation{Func: kernels.Sigmoid}, 1, 2 * bound},
		{kernels.Activation{Func: kernels.ScaledSigmoid, Slope: 0.5}, 0.5, 2 * bound},
		{kernels.Activation{Func: kernels.ReLU}, 1, math.Inf(1)}, // linear iff z > 0
	} {
		zs := []float32{-8, -2.5, -1.2, -0.7, -0.1, 0.3, 0.8, 1.25, 2.6, 9}
		m, err := New(Config{Inputs: 1, Hidden: []Layer{Dense(len(zs), c.act)}, Outputs: 2})
		if err != nil {
			t.Fatal(err)
		}
		w, b := m.Params(0)
		clear(w)
		copy(b, zs)
		inside := 0
		for _, z := range zs {
			x := c.slope * float64(z)
			if math.IsInf(c.limit, 1) && x > 0 || !math.IsInf(c.limit, 1) && math.Abs(x) <= c.limit {
				inside++
			}
		}
		d := &InMemory{In: 1, Out: 2, X: []float32{0.5, 1}, Labels: []uint8{0, 1}}
		ev, err := m.Evaluate(d)
		if err != nil {
			t.Fatal(err)
		}
		if want := float64(inside) / float64(len(zs)); ev.Layers[0].Linear != want {
			t.Errorf("%v: linear fraction %v, want %v", c.act, ev.Layers[0].Linear, want)
		}
		if got := ev.Layers[1].Linear; !math.IsNaN(got) {
			t.Errorf("%v: output layer's linear fraction %v, want NaN", c.act, got)
		}
	}
}
