package bench

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/actfuse/actfuse/kernels"
	"github.com/actfuse/actfuse/nn"
)

// DeadConfig configures the dead-unit experiment.
type DeadConfig struct {
	Data        string    // MNIST directory; "" finds the data module
	Train, Test int       // subset sizes (Test is the monitoring set); 0 means all
	Hidden      []int     // hidden widths; nil means 256, 256
	Epochs      int       // 0 means 5
	LR          float32   // 0 means 0.2 (SGD, momentum 0.9): high enough to kill units, low enough to train
	Biases      []float32 // bias initialisations; nil means 0 and 0.1
}

// Dead trains the same MLP with ReLU, LeakyReLU and ELU hidden layers, with
// zero and with positive bias initialisation, at a high learning rate, and
// reports after every epoch the fraction of dead units of each hidden layer:
// units whose output is never positive on any example of the monitoring
// set (for ReLU no gradient flows through them; LeakyReLU and ELU units keep
// a gradient there, which is the point of them).
//
// When o.Ctx is done, training stops after the current step: Dead
// returns its table with the epochs completed so far, and an error wrapping
// o.Ctx.Err().
func Dead(o Options, c DeadConfig) ([]*Table, error) {
	o.Defaults()
	if c.Hidden == nil {
		c.Hidden = []int{256, 256}
	}
	if c.Epochs <= 0 {
		c.Epochs = 5
	}
	if c.LR == 0 {
		c.LR = 0.2
	}
	if c.Biases == nil {
		c.Biases = []float32{0, 0.1}
	}
	train, mon, err := MNIST(c.Data, c.Train, c.Test)
	if err != nil {
		return nil, err
	}
	acts := []kernels.Activation{{Func: kernels.ReLU}, {Func: kernels.LeakyReLU, Alpha: 0.01}, {Func: kernels.ELU, Alpha: 1}}
	t := &Table{
		Name: "Dead",
		Title: fmt.Sprintf("dead units (never positive on any of %d monitoring examples), MNIST %d train, %d→%v→10, SGD lr %g momentum 0.9, batch 128",
			mon.Len(), train.Len(), train.In, c.Hidden, c.LR),
		Columns: []Column{
			{Name: "act", Label: true},
			{Name: "bias init", Label: true},
			{Name: "epoch", Label: true},
		},
	}
	for l := range c.Hidden {
		t.Columns = append(t.Columns, Column{Name: fmt.Sprintf("dead%% L%d", l+1), Unit: fmt.Sprintf("dead-%%-layer%d", l+1), Prec: 1})
	}
	t.Columns = append(t.Columns, Column{Name: "test acc %", Unit: "test-acc-%", Prec: 2})
	p := o.progress()
	p.Start("dead", len(acts)*len(c.Biases)*c.Epochs)
	defer p.Done()
	for _, act := range acts {
		for _, bias := range c.Biases {
			hidden := make([]nn.Layer, len(c.Hidden))
			for i, h := range c.Hidden {
				hidden[i] = nn.Dense(h, act)
			}
			m, err := nn.New(nn.Config{Inputs: train.In, Hidden: hidden, Outputs: 10, Head: nn.SoftmaxCrossEntropy, BiasInit: bias, Seed: o.Seed})
			if err != nil {
				return nil, fmt.Errorf("bench: dead %v: %w", act, err)
			}
			row := func(epoch int, layers []nn.LayerStats, acc float64) {
				cells := []Cell{Str(act.Func.String()), Str(strconv.FormatFloat(float64(bias), 'g', -1, 32)), Str(strconv.Itoa(epoch))}
				for l := range c.Hidden {
					cells = append(cells, Num(100*layers[l].Dead))
				}
				t.Add(append(cells, Num(100*acc))...)
			}
			ev, err := m.Evaluate(mon)
			if err != nil {
				return nil, fmt.Errorf("bench: dead %v: %w", act, err)
			}
			row(0, ev.Layers, ev.Accuracy)
			tr, err := nn.NewTrainer(m, nn.TrainConfig{
				BatchSize: 128, Epochs: c.Epochs, Seed: o.Seed,
				Optimizer: nn.Optimizer{Method: nn.SGD, LR: c.LR, Momentum: 0.9},
				OnEpoch: func(s nn.EpochStats) error {
					row(s.Epoch, s.Layers, s.TestAccuracy)
					p.Step()
					return nil
				},
			})
			if err != nil {
				return nil, fmt.Errorf("bench: dead %v: %w", act, err)
			}
			var ferr error
			ctx := o.ctx()
			o.labels("dead", fmt.Sprintf("%v/bias%g", act.Func, bias), func() { ferr = tr.FitContext(ctx, train, mon) })
			if ferr != nil && ctx.Err() != nil && errors.Is(ferr, ctx.Err()) {
				t.Notes = append(t.Notes, fmt.Sprintf("interrupted while training %v with bias %g: the rows show the epochs completed before", act.Func, bias))
				return []*Table{t}, fmt.Errorf("bench: dead %v: %w", act, ferr)
			}
			if ferr != nil {
				var de *nn.DivergenceError
				if !errors.As(ferr, &de) {
					return nil, fmt.Errorf("bench: dead %v: %w", act, ferr)
				}
				t.Notes = append(t.Notes, fmt.Sprintf("%v with bias %g diverged: %v", act.Func, bias, ferr))
			}
		}
	}
	return []*Table{t}, nil
}
