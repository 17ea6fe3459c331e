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
// briefly with sigmoid and with tanh hidden layers, then computes the weight
// gradient of the second hidden layer on mini-batches of several sizes
// (nn.Model.Gradients, which leaves the model unchanged) and reports the
// fraction of units whose incoming weight gradients all have one sign.
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
		var g nn.Gradients
		for _, bs := range c.Batches {
			nb := min(train.Len()/bs, max(1, 4096/bs))
			x := make([]float32, bs*in)
			tg := make([]float32, bs*10)
			same, units := 0, 0
			var gerr error
			o.labels("zigzag", fmt.Sprintf("%v/batch%d", act.Func, bs), func() {
				for bi := range nb {
					for r := range bs {
						train.Example(bi*bs+r, x[r*in:(r+1)*in], tg[r*10:(r+1)*10])
					}
					if gerr = m.Gradients(x, tg, bs, &g); gerr != nil {
						return
					}
					// dW2 = H1ᵀ·dZ2: column j holds the incoming gradients of unit j.
					dw2 := g.W[1]
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
				}
			})
			if gerr != nil {
				return nil, fmt.Errorf("bench: zigzag: %w", gerr)
			}
			// The mean output of hidden layer 1 over the same examples.
			ev, err := m.Evaluate(subset(train, nb*bs))
			if err != nil {
				return nil, fmt.Errorf("bench: zigzag: %w", err)
			}
			frac := math.NaN()
			if units > 0 {
				frac = 100 * float64(same) / float64(units)
			}
			t.Add(Str(act.Func.String()), Str(strconv.Itoa(bs)), Num(frac), Num(ev.Layers[0].Mean), Num(float64(units)))
			p.Step()
		}
	}
	return []*Table{t}, nil
}
