package bench

import (
	"fmt"
	"math"
	"strconv"

	"github.com/actfuse/actfuse/kernels"
	"github.com/actfuse/actfuse/nn"
)

// ZigzagConfig configures the zig-zag experiment.
type ZigzagConfig struct {
	Data    string // MNIST directory; "" finds the data module
	Train   int    // training subset size; 0 means 5000
	Hidden  int    // width of the two hidden layers; 0 means 128
	Batches []int  // batch sizes; nil means 1, 8, 32, 128
	Epochs  int    // epochs of training before measuring; 0 means 1
}

// Zigzag measures the lecture's point that the outputs of a sigmoid layer
// are all positive, so the weight gradients dW[i,j] = x_i·dz_j of a unit j of
// the next layer all share the sign of dz_j (per example), which forces
// zig-zag updates; tanh outputs are zero-centred. It trains a 784→h→h→10 MLP
// briefly with sigmoid and with tanh hidden layers, then computes, with the
// kernels, the weight gradient of the second hidden layer on mini-batches of
// several sizes and reports the fraction of units whose incoming weight
// gradients all have one sign.
func Zigzag(o Options, c ZigzagConfig) ([]*Table, error) {
	o.Defaults()
	if c.Train <= 0 {
		c.Train = 5000
	}
	if c.Hidden <= 0 {
		c.Hidden = 128
	}
	if c.Batches == nil {
		c.Batches = []int{1, 8, 32, 128}
	}
	if c.Epochs <= 0 {
		c.Epochs = 1
	}
	train, _, err := MNIST(c.Data, c.Train, 1)
	if err != nil {
		return nil, err
	}
	t := &Table{
		Name:  "Zigzag",
		Title: fmt.Sprintf("units of hidden layer 2 whose incoming weight gradients share one sign (%d→%d→%d→10 after %d epoch(s) on %d MNIST examples)", train.In, c.Hidden, c.Hidden, c.Epochs, train.Len()),
		Columns: []Column{
			{Name: "act", Label: true},
			{Name: "batch", Label: true},
			{Name: "same-sign %", Unit: "same-sign-%", Prec: 1},
			{Name: "mean input", Unit: "mean-input", Prec: 3},
			{Name: "units×batches", Unit: "units", Int: true},
		},
		Notes: []string{"mean input is the mean output of hidden layer 1, the input of the measured layer; zero gradients are ignored when comparing signs"},
	}
	p := o.progress()
	p.Start("zigzag", 2*len(c.Batches))
	defer p.Done()
	for _, act := range []kernels.Activation{{Func: kernels.Sigmoid}, {Func: kernels.Tanh}} {
		h, in := c.Hidden, train.In
		m, err := nn.New(nn.Config{Inputs: train.In, Hidden: []nn.Layer{nn.Dense(h, act), nn.Dense(h, act)}, Outputs: 10, Head: nn.SoftmaxCrossEntropy, Seed: o.Seed})
		if err != nil {
			return nil, fmt.Errorf("bench: zigzag: %w", err)
		}
		tr, err := nn.NewTrainer(m, nn.TrainConfig{BatchSize: 32, Epochs: c.Epochs, Seed: o.Seed, Optimizer: nn.Optimizer{Method: nn.SGD, LR: 0.1, Momentum: 0.9}})
		if err != nil {
			return nil, fmt.Errorf("bench: zigzag: %w", err)
		}
		if err := tr.Fit(train, nil); err != nil {
			return nil, fmt.Errorf("bench: zigzag: %w", err)
		}
		w1, b1 := m.Params(0)
		w2, b2 := m.Params(1)
		w3, b3 := m.Params(2)
		for _, bs := range c.Batches {
			nb := min(train.Len()/bs, max(1, 4096/bs))
			h1 := make([]float32, bs*h)
			h2 := make([]float32, bs*h)
			z3 := make([]float32, bs*10)
			dz2 := make([]float32, bs*h)
			dw2 := make([]float32, h*h)
			same, units := 0, 0
			mean := 0.0
			o.labels("zigzag", fmt.Sprintf("%v/batch%d", act.Func, bs), func() {
				for bi := range nb {
					x := train.X[bi*bs*in : (bi+1)*bs*in]
					labels := train.Labels[bi*bs : (bi+1)*bs]
					kernels.Gemm(false, false, bs, h, in, x, in, w1, h, h1, h, &kernels.Epilogue{Bias: b1, Act: act})
					kernels.Gemm(false, false, bs, h, h, h1, h, w2, h, h2, h, &kernels.Epilogue{Bias: b2, Act: act})
					kernels.Gemm(false, false, bs, 10, h, h2, h, w3, 10, z3, 10, &kernels.Epilogue{Bias: b3})
					softmaxGrad(z3, labels, bs)
					// dZ2 = (dZ3·W3ᵀ) ⊙ f'(H2), the derivative applied in the epilogue.
					kernels.Gemm(false, true, bs, h, 10, z3, 10, w3, 10, dz2, h, &kernels.Epilogue{Act: act, Y: h2, LdY: h})
					// dW2 = H1ᵀ·dZ2: column j holds the incoming gradients of unit j.
					kernels.Gemm(true, false, h, h, bs, h1, h, dz2, h, dw2, h, nil)
					for j := range h {
						pos, neg := false, false
						for i := range h {
							v := dw2[i*h+j]
							pos = pos || v > 0
							neg = neg || v < 0
						}
						if pos != neg {
							same++
						}
						if pos || neg {
							units++
						}
					}
					for _, v := range h1 {
						mean += float64(v)
					}
				}
			})
			mean /= float64(nb * bs * h)
			frac := math.NaN()
			if units > 0 {
				frac = 100 * float64(same) / float64(units)
			}
			t.Add(Str(act.Func.String()), Str(strconv.Itoa(bs)), Num(frac), Num(mean), Num(float64(units)))
			p.Step()
		}
	}
	return []*Table{t}, nil
}

// softmaxGrad replaces the logits z (rows×10) by the gradient of the mean
// cross-entropy loss, (softmax(z) - onehot(label)) / rows.
func softmaxGrad(z []float32, labels []uint8, rows int) {
	for r := range rows {
		row := z[r*10 : r*10+10]
		mx := row[0]
		for _, v := range row {
			mx = max(mx, v)
		}
		s := 0.0
		e := make([]float64, 10)
		for i, v := range row {
			e[i] = math.Exp(float64(v - mx))
			s += e[i]
		}
		for i := range row {
			g := e[i] / s
			if i == int(labels[r]) {
				g--
			}
			row[i] = float32(g / float64(rows))
		}
	}
}
