package bench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/actfuse/actfuse/nn"
)

// NoiseConfig configures the input-noise experiment.
type NoiseConfig struct {
	Examples int     // 0 means 4000
	Features int     // 0 means 8
	Sigma    float64 // input noise σ; 0 means 0.5 (so λ = σ² = 0.25)
	Epochs   int     // 0 means 60
}

// Noise trains a linear model with MSE loss on synthetic regression data
// twice: once with Gaussian input noise of standard deviation σ, once with L2
// weight decay λ = σ² (in expectation, noise adds ½σ²‖w‖² to the loss ½(w·x-t)²).
// It reports both weight vectors beside the exact ridge solution, their
// losses, and the measured gaps.
func Noise(o Options, c NoiseConfig) ([]*Table, error) {
	o.Defaults()
	if c.Examples <= 0 {
		c.Examples = 4000
	}
	if c.Features <= 0 {
		c.Features = 8
	}
	if c.Sigma == 0 {
		c.Sigma = 0.5
	}
	if c.Epochs <= 0 {
		c.Epochs = 60
	}
	n, d := c.Examples, c.Features
	rng := rand.New(rand.NewPCG(o.Seed, 0x9015e))
	x := make([]float32, n*d)
	y := make([]float32, n)
	wTrue := make([]float64, d)
	for j := range wTrue {
		wTrue[j] = rng.NormFloat64()
	}
	for i := range n {
		s := 0.0
		for j := range d {
			// Feature scales from 0.5 to 2 make the shrinkage uneven.
			v := rng.NormFloat64() * (0.5 + 1.5*float64(j)/float64(max(d-1, 1)))
			x[i*d+j] = float32(v)
			s += v * wTrue[j]
		}
		y[i] = float32(s + 0.3 + 0.5*rng.NormFloat64())
	}
	data := &nn.InMemory{In: d, Out: 1, X: x, Y: y}
	lambda := c.Sigma * c.Sigma
	fit := func(noise, decay float32) ([]float64, float64, error) {
		m, err := nn.New(nn.Config{Inputs: d, Outputs: 1, Head: nn.LinearMSE, Seed: o.Seed})
		if err != nil {
			return nil, 0, fmt.Errorf("bench: noise: %w", err)
		}
		tr, err := nn.NewTrainer(m, nn.TrainConfig{
			BatchSize: 32, Epochs: c.Epochs, Seed: o.Seed,
			Optimizer:   nn.Optimizer{Method: nn.SGD, LR: 0.01, Momentum: 0.9},
			Schedule:    nn.InverseTime(float64(c.Epochs*n/32) / 20),
			InputNoise:  noise,
			WeightDecay: decay,
		})
		if err != nil {
			return nil, 0, fmt.Errorf("bench: noise: %w", err)
		}
		var ferr error
		o.labels("noise", fmt.Sprintf("noise%g/decay%g", noise, decay), func() { ferr = tr.Fit(data, nil) })
		if ferr != nil {
			return nil, 0, fmt.Errorf("bench: noise: %w", ferr)
		}
		w, b := m.Params(0)
		out := make([]float64, d)
		for j := range d {
			out[j] = float64(w[j])
		}
		return out, float64(b[0]), nil
	}
	p := o.progress()
	p.Start("noise", 2)
	defer p.Done()
	wN, bN, err := fit(float32(c.Sigma), 0)
	if err != nil {
		return nil, err
	}
	p.Step()
	wL, bL, err := fit(0, float32(lambda))
	if err != nil {
		return nil, err
	}
	p.Step()
	wR, bR := ridge(x, y, n, d, lambda)

	wt := &Table{
		Name:  "NoiseWeights",
		Title: fmt.Sprintf("linear model, MSE, %d examples × %d features: weights trained with input noise σ = %g and with L2 λ = σ² = %g, beside the exact ridge solution", n, d, c.Sigma, lambda),
		Columns: []Column{
			{Name: "weight", Label: true},
			{Name: "noise", Unit: "w-noise", Prec: 4},
			{Name: "L2", Unit: "w-l2", Prec: 4},
			{Name: "ridge (exact)", Unit: "w-ridge", Prec: 4},
			{Name: "noise-L2", Unit: "w-gap", Prec: 4},
		},
	}
	for j := range d {
		wt.Add(Str("w"+strconv.Itoa(j)), Num(wN[j]), Num(wL[j]), Num(wR[j]), Num(wN[j]-wL[j]))
	}
	wt.Add(Str("bias"), Num(bN), Num(bL), Num(bR), Num(bN-bL))

	lt := &Table{
		Name:  "Noise",
		Title: "losses on the clean data (½·mean squared error) and the regularised objective ½MSE + ½λ‖w‖², with the relative distance of each solution",
		Columns: []Column{
			{Name: "model", Label: true},
			{Name: "loss", Unit: "loss", Prec: 5},
			{Name: "objective", Unit: "objective", Prec: 5},
			{Name: "‖w-ridge‖/‖ridge‖", Unit: "rel-dist-ridge", Prec: 4},
			{Name: "‖w-L2‖/‖L2‖", Unit: "rel-dist-l2", Prec: 4},
		},
	}
	for _, r := range []struct {
		name string
		w    []float64
		b    float64
	}{{"noise", wN, bN}, {"L2", wL, bL}, {"ridge (exact)", wR, bR}} {
		loss := halfMSE(x, y, n, d, r.w, r.b)
		lt.Add(Str(r.name), Num(loss), Num(loss+0.5*lambda*dot(r.w, r.w)), Num(relDist(r.w, wR)), Num(relDist(r.w, wL)))
	}
	return []*Table{lt, wt}, nil
}

// ridge solves min ½·mean((w·x + b - y)²) + ½λ‖w‖² exactly in float64 (the
// bias is not regularised).
func ridge(x, y []float32, n, d int, lambda float64) ([]float64, float64) {
	k := d + 1 // unknowns: w, then b
	a := make([]float64, k*(k+1))
	for i := range n {
		row := make([]float64, k)
		for j := range d {
			row[j] = float64(x[i*d+j])
		}
		row[d] = 1
		for r := range k {
			for c := range k {
				a[r*(k+1)+c] += row[r] * row[c] / float64(n)
			}
			a[r*(k+1)+k] += row[r] * float64(y[i]) / float64(n)
		}
	}
	for j := range d {
		a[j*(k+1)+j] += lambda
	}
	// Gaussian elimination with partial pivoting.
	for col := range k {
		piv := col
		for r := col + 1; r < k; r++ {
			if math.Abs(a[r*(k+1)+col]) > math.Abs(a[piv*(k+1)+col]) {
				piv = r
			}
		}
		for c := range k + 1 {
			a[col*(k+1)+c], a[piv*(k+1)+c] = a[piv*(k+1)+c], a[col*(k+1)+c]
		}
		for r := range k {
			if r == col {
				continue
			}
			f := a[r*(k+1)+col] / a[col*(k+1)+col]
			for c := col; c <= k; c++ {
				a[r*(k+1)+c] -= f * a[col*(k+1)+c]
			}
		}
	}
	sol := make([]float64, k)
	for r := range k {
		sol[r] = a[r*(k+1)+k] / a[r*(k+1)+r]
	}
	return sol[:d], sol[d]
}

func halfMSE(x, y []float32, n, d int, w []float64, b float64) float64 {
	s := 0.0
	for i := range n {
		p := b
		for j := range d {
			p += w[j] * float64(x[i*d+j])
		}
		e := p - float64(y[i])
		s += e * e
	}
	return 0.5 * s / float64(n)
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func relDist(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += (a[i] - b[i]) * (a[i] - b[i])
	}
	return math.Sqrt(s / dot(b, b))
}
