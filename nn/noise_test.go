package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestNoiseEqualsL2 checks the classic equivalence: for a linear model under
// the loss ½(w·x + b - t)², Gaussian input noise ε ~ N(0, σ²I) gives
//
//	E_ε ∇_w ½(w·(x+ε) + b - t)² = (w·x + b - t)·x + σ²·w,
//
// the gradient of the loss plus the L2 penalty ½σ²‖w‖² (the bias gradient is
// unchanged). So full-batch SGD with noise σ and no weight decay and
// full-batch SGD without noise and WeightDecay = σ² follow the same mean
// trajectory, from the same initial weights with the same schedule (the
// gradient is affine in w, so the mean of the noisy iterates obeys exactly
// the deterministic recursion); both must end near the closed-form ridge
// solution, which the test computes in float64.
//
// Tolerances. The decay-trained model is deterministic gradient descent
// that has converged (Σ lr·h_min ≈ 12, so the initial error shrinks by e^-12): it differs from the ridge
// solution only by float32 rounding in the gradient, |δg|/h_min with |δg| ≤
// N·ε32·mean|r·x| for the N-term sum (a worst-case bound of ≈ 1e-4 here),
// so tolDecay = 1e-3. The noise-trained model fluctuates around the mean
// trajectory: with a learning rate that decays slowly compared with 1/h
// (τ·h_min ≫ 1), the variance of each weight at the end is about
// lr_T·s²/(2·h_min), where s² is the largest per-coordinate variance of the
// noisy full-batch gradient (measured below in float64 from 200 noise draws)
// and h_min the smallest eigenvalue of the ridge Hessian; tolNoise is six
// standard deviations of that, plus tolDecay. The regularisation itself moves
// the weights by far more than either tolerance, which the test also checks.
func TestNoiseEqualsL2(t *testing.T) {
	const (
		n     = 2048
		d     = 4
		sigma = 0.5
		lam   = sigma * sigma
		lr0   = 0.1
		tau   = 50.0
		steps = 1500
	)
	r := rand.New(rand.NewPCG(42, 1))
	scale := [d]float64{1, 0.7, 2, 1.3}
	wTrue := [d]float64{1, -2, 0.5, 1.5}
	data := &InMemory{In: d, Out: 1, X: make([]float32, n*d), Y: make([]float32, n)}
	for i := 0; i < n; i++ {
		y := 0.3
		for j := 0; j < d; j++ {
			x := float32(scale[j] * r.NormFloat64())
			data.X[i*d+j] = x
			y += wTrue[j] * float64(x)
		}
		data.Y[i] = float32(y + 0.1*r.NormFloat64())
	}

	train := func(noise, decay float32) []float64 {
		m, err := New(Config{Inputs: d, Outputs: 1, Head: LinearMSE, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		tr, err := NewTrainer(m, TrainConfig{BatchSize: n, Epochs: steps, NoShuffle: true, Seed: 5,
			Optimizer: Optimizer{Method: SGD, LR: lr0}, Schedule: InverseTime(tau), InputNoise: noise, WeightDecay: decay})
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Fit(data, nil); err != nil {
			t.Fatal(err)
		}
		w, b := m.Params(0)
		out := make([]float64, d+1)
		for j := range d {
			out[j] = float64(w[j])
		}
		out[d] = float64(b[0])
		return out
	}
	noisy := train(sigma, 0)
	decayed := train(0, lam)
	plain := train(0, 0)

	// Ridge solution: H·[w; b] = [Xᵀt/N; mean t] with H = [C+λI, μ; μᵀ, 1].
	H := make([][]float64, d+1)
	for i := range H {
		H[i] = make([]float64, d+1)
	}
	rhs := make([]float64, d+1)
	for i := 0; i < n; i++ {
		x := make([]float64, d+1)
		for j := 0; j < d; j++ {
			x[j] = float64(data.X[i*d+j])
		}
		x[d] = 1
		for a := range x {
			for b := range x {
				H[a][b] += x[a] * x[b] / n
			}
			rhs[a] += x[a] * float64(data.Y[i]) / n
		}
	}
	for j := 0; j < d; j++ {
		H[j][j] += lam
	}
	ridge := solve(H, rhs)
	hMin := smallestEigen(H)

	// Gradient noise: variance of the noisy full-batch gradient at the
	// ridge solution, per coordinate, over 200 draws.
	var s2 float64
	{
		const draws = 200
		sum, sum2 := make([]float64, d+1), make([]float64, d+1)
		for k := 0; k < draws; k++ {
			g := make([]float64, d+1)
			for i := 0; i < n; i++ {
				var xt [d + 1]float64
				res := ridge[d] - float64(data.Y[i])
				for j := 0; j < d; j++ {
					xt[j] = float64(data.X[i*d+j]) + sigma*r.NormFloat64()
					res += ridge[j] * xt[j]
				}
				xt[d] = 1
				for j := range g {
					g[j] += res * xt[j] / n
				}
			}
			for j := range g {
				sum[j] += g[j]
				sum2[j] += g[j] * g[j]
			}
		}
		for j := range sum {
			m := sum[j] / draws
			s2 = math.Max(s2, sum2[j]/draws-m*m)
		}
	}
	lrT := lr0 / (1 + steps/tau)
	const tolDecay = 1e-3
	tolNoise := 6*math.Sqrt(lrT*s2/(2*hMin)) + tolDecay
	t.Logf("ridge %.5f\nnoise %.5f\ndecay %.5f\nplain %.5f\nh_min %.3f, gradient noise variance %.3g, tolerance (noise) %.4f", ridge, noisy, decayed, plain, hMin, s2, tolNoise)
	var moved float64
	for j := range ridge {
		if e := math.Abs(decayed[j] - ridge[j]); e > tolDecay {
			t.Errorf("weight decay: parameter %d = %.6f, ridge solution %.6f (|diff| %.2g > %.2g)", j, decayed[j], ridge[j], e, tolDecay)
		}
		if e := math.Abs(noisy[j] - decayed[j]); e > tolNoise {
			t.Errorf("input noise: parameter %d = %.6f, weight decay %.6f (|diff| %.2g > %.2g)", j, noisy[j], decayed[j], e, tolNoise)
		}
		moved = math.Max(moved, math.Abs(plain[j]-ridge[j]))
	}
	if moved < 10*tolNoise {
		t.Errorf("regularisation moves the weights by only %.3g, not enough to test the equivalence (tolerance %.3g)", moved, tolNoise)
	}
}

// solve solves the linear system A·x = b by Gaussian elimination with
// partial pivoting (A and b are not modified).
func solve(A [][]float64, b []float64) []float64 {
	n := len(b)
	M := make([][]float64, n)
	for i := range M {
		M[i] = append(append([]float64(nil), A[i]...), b[i])
	}
	for c := 0; c < n; c++ {
		p := c
		for i := c + 1; i < n; i++ {
			if math.Abs(M[i][c]) > math.Abs(M[p][c]) {
				p = i
			}
		}
		M[c], M[p] = M[p], M[c]
		for i := c + 1; i < n; i++ {
			f := M[i][c] / M[c][c]
			for j := c; j <= n; j++ {
				M[i][j] -= f * M[c][j]
			}
		}
	}
	x := make([]float64, n)
	for i := n - 1; i >= 0; i-- {
		s := M[i][n]
		for j := i + 1; j < n; j++ {
			s -= M[i][j] * x[j]
		}
		x[i] = s / M[i][i]
	}
	return x
}

// smallestEigen returns the smallest eigenvalue of the symmetric positive
// definite matrix A by inverse iteration.
func smallestEigen(A [][]float64) float64 {
	v := make([]float64, len(A))
	for i := range v {
		v[i] = 1 / float64(i+1)
	}
	var lam float64
	for it := 0; it < 200; it++ {
		u := solve(A, v)
		var nu float64
		for _, x := range u {
			nu += x * x
		}
		nu = math.Sqrt(nu)
		var nv float64
		for _, x := range v {
			nv += x * x
		}
		lam = math.Sqrt(nv) / nu
		for i := range v {
			v[i] = u[i] / nu
		}
	}
	return lam
}
