package nn

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/actfuse/actfuse/internal/ref"
	"github.com/actfuse/actfuse/kernels"
)

// The gradient checks compare the float32 backward pass (kernels.Gemm with
// the derivative epilogue, kernels.BackwardBias, kernels.MaxoutBackward and
// the head's loop) with central differences of an independent float64
// implementation of the same network (mirrorLoss) evaluated on the same
// float32 parameters and inputs.
//
// Tolerance. With step h = 1e-4 in float64 the central difference has a
// truncation error of h²/6·|L'''| ≈ 2e-9 (the networks are small and their
// inputs and weights are O(1)) and a rounding error of about
// ε64·|L|/h ≈ 1e-12, both negligible. The analytic gradient is computed in
// float32: every entry is a sum of products accumulated through at most
// d ≈ 30 roundings along the longest chain (batch 6, widths ≤ 12, 3 layers),
// so its error is at most about d·ε32·S with ε32 = 6e-8 and S the sum of the
// absolute values of the products, which is O(1) here: ≈ 2e-6·S. The
// tolerance |g32 - gFD| ≤ 2e-5 + 1e-4·|gFD| leaves a margin of ten over that
// bound; a wrong derivative or a transposed index gives errors of order
// |g| itself.
//
// A parameter whose perturbation moves a pre-activation across a kink (ReLU,
// LeakyReLU or ELU at 0) or changes a maxout winner has no derivative there
// and is skipped; the test requires that fewer than 5% are skipped.

const (
	gradStep   = 1e-4
	gradAbsTol = 2e-5
	gradRelTol = 1e-4
)

// mirror is a float64 copy of a model's parameters.
type mirror struct {
	m    *Model
	w, b [][]float64
}

func newMirror(m *Model) *mirror {
	mr := &mirror{m: m}
	for _, l := range m.layers {
		w := make([]float64, len(l.w))
		for i, v := range l.w {
			w[i] = float64(v)
		}
		b := make([]float64, len(l.b))
		for i, v := range l.b {
			b[i] = float64(v)
		}
		mr.w, mr.b = append(mr.w, w), append(mr.b, b)
	}
	return mr
}

// act64 is the float64 reference of the activation a (package internal/ref).
func act64(a kernels.Activation, z float64) float64 { return ref.Forward(a)(z) }

// mirrorLoss returns the mean loss of rows examples and appends to pattern a
// record of every kink-side decision (signs of ReLU-like pre-activations,
// maxout winners).
func (mr *mirror) mirrorLoss(x, t []float32, rows int, pattern []int) (float64, []int) {
	cfg := &mr.m.cfg
	var total float64
	for r := 0; r < rows; r++ {
		in := make([]float64, cfg.Inputs)
		for i := range in {
			in[i] = float64(x[r*cfg.Inputs+i])
		}
		for li, l := range mr.m.layers {
			z := make([]float64, l.width)
			for j := range z {
				s := mr.b[li][j]
				for i, v := range in {
					s += v * mr.w[li][i*l.width+j]
				}
				z[j] = s
			}
			out := make([]float64, l.spec.Units)
			if l.spec.maxout() {
				k := l.spec.Pieces
				for u := range out {
					best := 0
					for p := 1; p < k; p++ {
						if z[u*k+p] > z[u*k+best] {
							best = p
						}
					}
					out[u] = z[u*k+best]
					pattern = append(pattern, best)
				}
			} else {
				for j, v := range z {
					out[j] = act64(l.spec.Act, v)
					switch l.spec.Act.Func {
					case kernels.ReLU, kernels.LeakyReLU, kernels.ELU:
						if v > 0 {
							pattern = append(pattern, 1)
						} else {
							pattern = append(pattern, 0)
						}
					}
				}
			}
			in = out
		}
		tt := t[r*cfg.Outputs : (r+1)*cfg.Outputs]
		switch cfg.Head {
		case SoftmaxCrossEntropy:
			mx := math.Inf(-1)
			for _, v := range in {
				mx = math.Max(mx, v)
			}
			var s float64
			for _, v := range in {
				s += math.Exp(v - mx)
			}
			for j, v := range in {
				total -= float64(tt[j]) * (v - mx - math.Log(s))
			}
		case LinearMSE:
			for j, v := range in {
				e := v - float64(tt[j])
				total += e * e / 2
			}
		case SigmoidBCE:
			for j, y := range in {
				tj := float64(tt[j])
				total -= tj*math.Log(y) + (1-tj)*math.Log(1-y)
			}
		}
	}
	return total / float64(rows), pattern
}

// randomBatch fills inputs in [-1, 1] and targets suitable for the head.
func randomBatch(r *rand.Rand, cfg Config, rows int) (x, t []float32) {
	x = make([]float32, rows*cfg.Inputs)
	for i := range x {
		x[i] = float32(2*r.Float64() - 1)
	}
	t = make([]float32, rows*cfg.Outputs)
	for i := 0; i < rows; i++ {
		row := t[i*cfg.Outputs : (i+1)*cfg.Outputs]
		switch cfg.Head {
		case SoftmaxCrossEntropy:
			row[r.IntN(cfg.Outputs)] = 1
		case LinearMSE:
			for j := range row {
				row[j] = float32(r.NormFloat64())
			}
		case SigmoidBCE:
			for j := range row {
				row[j] = float32(r.IntN(2))
			}
		}
	}
	return x, t
}

func checkGradients(t *testing.T, cfg Config, seed uint64) {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 1))
	for _, l := range m.layers { // random biases, so no pre-activation sits at a kink
		for i := range l.b {
			l.b[i] = float32(0.5 * r.NormFloat64())
		}
	}
	const rows = 6
	x, tg := randomBatch(r, cfg, rows)
	var g Gradients
	if err := m.Gradients(x, tg, rows, &g); err != nil {
		t.Fatal(err)
	}
	gw, gb := g.W, g.B

	mr := newMirror(m)
	loss, base := mr.mirrorLoss(x, tg, rows, nil)
	if d := math.Abs(g.Loss - loss); d > 1e-5*(1+math.Abs(loss)) {
		t.Errorf("loss %.8g, float64 mirror %.8g", g.Loss, loss)
	}
	checked, skipped := 0, 0
	var worst float64
	check := func(li int, name string, p []float64, g []float32) {
		for i := range p {
			v := p[i]
			p[i] = v + gradStep
			lp, pp := mr.mirrorLoss(x, tg, rows, nil)
			p[i] = v - gradStep
			lm, pm := mr.mirrorLoss(x, tg, rows, nil)
			p[i] = v
			if !slices.Equal(pp, base) || !slices.Equal(pm, base) {
				skipped++
				continue
			}
			checked++
			fd := (lp - lm) / (2 * gradStep)
			diff := math.Abs(float64(g[i]) - fd)
			worst = math.Max(worst, diff/(gradAbsTol+gradRelTol*math.Abs(fd)))
			if diff > gradAbsTol+gradRelTol*math.Abs(fd) {
				t.Errorf("%s %s[%d]: backward %.8g, finite difference %.8g (diff %.3g)", m.layerName(li), name, i, g[i], fd, diff)
			}
		}
	}
	for li := range m.layers {
		check(li, "W", mr.w[li], gw[li])
		check(li, "b", mr.b[li], gb[li])
	}
	if skipped*20 > checked+skipped {
		t.Errorf("%d of %d parameters skipped at kinks", skipped, checked+skipped)
	}
	t.Logf("%d parameters checked, %d skipped at kinks, worst error %.3f of the tolerance", checked, skipped, worst)
}

func TestGradientDense(t *testing.T) {
	acts := []kernels.Activation{
		{Func: kernels.Identity}, {Func: kernels.ReLU}, {Func: kernels.LeakyReLU, Alpha: 0.1},
		{Func: kernels.ELU, Alpha: 1}, {Func: kernels.ELU, Alpha: 0.5}, {Func: kernels.Sigmoid}, {Func: kernels.Tanh},
		{Func: kernels.ScaledSigmoid, Slope: 0.5}, {Func: kernels.ScaledSigmoid, Slope: 3}, kernels.LeCunTanh,
		{Func: kernels.ScaledTanh, Gain: 2, Slope: 0.3},
	}
	for i, a := range acts {
		t.Run(a.String(), func(t *testing.T) {
			checkGradients(t, Config{Inputs: 5, Hidden: []Layer{Dense(7, a), Dense(6, a)}, Outputs: 4, Seed: uint64(i)}, uint64(100+i))
		})
	}
}

func TestGradientMaxout(t *testing.T) {
	cases := [][]Layer{
		{Maxout(4, 3)},
		{Maxout(5, 2), Dense(6, kernels.Activation{Func: kernels.Tanh})},
		{Dense(6, kernels.Activation{Func: kernels.ReLU}), Maxout(4, 3)},
		{Maxout(4, 2), Maxout(3, 4)},
	}
	for i, h := range cases {
		t.Run(fmt.Sprint(h), func(t *testing.T) {
			checkGradients(t, Config{Inputs: 5, Hidden: h, Outputs: 3, Seed: uint64(i)}, uint64(200+i))
		})
	}
}

func TestGradientHeads(t *testing.T) {
	for h := Head(0); h < numHeads; h++ {
		for i, hidden := range [][]Layer{nil, {Dense(6, kernels.Activation{Func: kernels.ELU, Alpha: 1})}} {
			t.Run(fmt.Sprintf("%v/%d-hidden", h, len(hidden)), func(t *testing.T) {
				checkGradients(t, Config{Inputs: 4, Hidden: hidden, Outputs: 3, Head: h, Seed: uint64(i)}, uint64(300+int(h)*10+i))
			})
		}
	}
}

// TestGradientsAPI checks Model.Gradients beyond its values (which the
// finite-difference tests above check): it leaves the model unchanged, one
// plain SGD step of a Trainer moves every parameter by exactly -lr times
// it, its buffers are reused without allocation, and bad arguments give an
// error.
func TestGradientsAPI(t *testing.T) {
	cfg := smallConfig()
	m, _ := New(cfg)
	r := rand.New(rand.NewPCG(5, 6))
	const rows = 32
	x, tg := randomBatch(r, cfg, rows)
	before := paramsBytes(m)
	var g Gradients
	if err := m.Gradients(x, tg, rows, &g); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(paramsBytes(m), before) {
		t.Fatal("Gradients changed the model")
	}

	// The same step taken by a trainer on a twin model: w' = w - lr·g.
	twin, _ := New(cfg)
	const lr = 0.05
	tr, err := NewTrainer(twin, TrainConfig{BatchSize: rows, Optimizer: Optimizer{Method: SGD, LR: lr}})
	if err != nil {
		t.Fatal(err)
	}
	loss, err := tr.Step(x, tg, rows)
	if err != nil {
		t.Fatal(err)
	}
	if loss != float32(g.Loss) {
		t.Errorf("trainer loss %v, Gradients loss %v", loss, g.Loss)
	}
	for i := range m.NumLayers() {
		w0, b0 := m.Params(i)
		w1, b1 := twin.Params(i)
		for _, p := range []struct {
			name       string
			p0, p1, gr []float32
		}{{"W", w0, w1, g.W[i]}, {"b", b0, b1, g.B[i]}} {
			for j := range p.p0 {
				if want := p.p0[j] - float32(lr*p.gr[j]); p.p1[j] != want {
					t.Fatalf("%s %s[%d]: trainer step gives %v, w - lr·g = %v", m.layerName(i), p.name, j, p.p1[j], want)
				}
			}
		}
	}

	// A smaller batch after a larger one reuses the buffers and gives the
	// bits of a fresh computation; so does a repeated call.
	w0 := slices.Clone(g.W[0])
	if err := m.Gradients(x, tg, 5, &g); err != nil {
		t.Fatal(err)
	}
	var fresh Gradients
	if err := m.Gradients(x[:5*cfg.Inputs], tg[:5*cfg.Outputs], 5, &fresh); err != nil {
		t.Fatal(err)
	}
	for i := range g.W {
		if !slices.Equal(g.W[i], fresh.W[i]) || !slices.Equal(g.B[i], fresh.B[i]) || g.Loss != fresh.Loss {
			t.Fatalf("layer %d: gradients of 5 rows differ after a call on %d rows", i, rows)
		}
	}
	if err := m.Gradients(x, tg, rows, &g); err != nil || !slices.Equal(g.W[0], w0) {
		t.Errorf("a repeated call gives other bits (%v)", err)
	}

	if !raceEnabled {
		got := testing.AllocsPerRun(10, func() { m.Gradients(x, tg, rows, &g) })
		a, c := make([]float32, 64), make([]float32, 64)
		ep := &kernels.Epilogue{}
		gemm := testing.AllocsPerRun(10, func() { kernels.Gemm(false, false, 8, 8, 8, a, 8, a, 8, c, 8, ep) })
		// 4 forward Gemm calls, 2 backward ones per layer but the first.
		if want := 11 * gemm; got != want {
			t.Errorf("Gradients makes %v allocations, its kernel calls %v", got, want)
		}
	}

	for _, c := range []struct {
		name     string
		x, tg    []float32
		rows     int
		contains string
	}{
		{"no rows", x, tg, 0, "rows = 0"},
		{"short x", x[:10], tg, 2, "len(x) = 10"},
		{"short target", x, tg[:3], 2, "len(target) = 3"},
	} {
		if err := m.Gradients(c.x, c.tg, c.rows, &g); err == nil || !strings.Contains(err.Error(), c.contains) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.contains)
		}
	}
}
