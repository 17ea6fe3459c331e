package bench

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/actfuse/actfuse/kernels"
	"github.com/actfuse/actfuse/nn"
)

// LinearConfig configures the linear-region experiment.
type LinearConfig struct {
	Data        string               // MNIST directory; "" finds the data module
	Train, Test int                  // subset sizes (Test is the monitoring set); 0 means all
	Hidden      []int                // hidden widths; nil means 256, 256
	Acts        []kernels.Activation // nil: LinearActivations()
	Epochs      int                  // 0 means 10
	LR          float32              // 0 means 0.05 (SGD, momentum 0.9)
	Target      float64              // training error to reach; 0 means 0.02
}

// LinearActivations returns the activations the linear-region experiment
// compares: the sigmoid, the sigmoid with its linear region widened
// (slope ½), tanh, and LeCun's scaled tanh 1.7159·tanh(2x/3).
func LinearActivations() []kernels.Activation {
	return []kernels.Activation{
		{Func: kernels.Sigmoid}, {Func: kernels.ScaledSigmoid, Slope: 0.5},
		{Func: kernels.Tanh}, kernels.LeCunTanh,
	}
}

// Standardize returns copies of train and test whose every input feature has
// zero mean and unit variance over train (a feature constant over train is
// set to 0), as "Efficient BackProp" prescribes for its scaled tanh.
func Standardize(train, test *nn.InMemory) (*nn.InMemory, *nn.InMemory) {
	in := train.In
	mean, sd := make([]float64, in), make([]float64, in)
	n := train.Len()
	for r := 0; r < n; r++ {
		for j, v := range train.X[r*in : (r+1)*in] {
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	for r := 0; r < n; r++ {
		for j, v := range train.X[r*in : (r+1)*in] {
			d := float64(v) - mean[j]
			sd[j] += d * d
		}
	}
	for j := range sd {
		sd[j] = math.Sqrt(sd[j] / float64(n))
	}
	norm := func(d *nn.InMemory) *nn.InMemory {
		s := *d
		s.X = make([]float32, len(d.X))
		for i, v := range d.X {
			if j := i % in; sd[j] > 0 {
				s.X[i] = float32((float64(v) - mean[j]) / sd[j])
			}
		}
		return &s
	}
	return norm(train), norm(test)
}

// Linear trains the same MLP on standardized MNIST with each activation of
// c.Acts (LeCun's initialisation N(0, 1/fan-in) for all, so that only the
// activation differs) and reports after every epoch, per hidden layer, the
// fraction of outputs in the activation's linear region (nn.LayerStats.Linear:
// where f' is at least half its largest) and the saturated fraction, on the
// monitoring set, beside the training error and the training time; a summary
// gives each activation's epochs and seconds to the target training error.
// The lecture's advice is to keep the units in their linear region as long
// as possible; this measures how much each form does on this data.
//
// When o.Ctx is done, training stops after the current step: Linear returns
// its tables with the epochs completed so far, and an error wrapping
// o.Ctx.Err().
func Linear(o Options, c LinearConfig) ([]*Table, error) {
	o.Defaults()
	if c.Hidden == nil {
		c.Hidden = []int{256, 256}
	}
	if c.Acts == nil {
		c.Acts = LinearActivations()
	}
	if c.Epochs <= 0 {
		c.Epochs = 10
	}
	if c.LR == 0 {
		c.LR = 0.05
	}
	if c.Target == 0 {
		c.Target = 0.02
	}
	train, mon, err := MNIST(c.Data, c.Train, c.Test)
	if err != nil {
		return nil, err
	}
	train, mon = Standardize(train, mon)
	t := &Table{
		Name: "Linear",
		Title: fmt.Sprintf("outputs in the linear region (f' >= max f'/2) and saturated, on %d monitoring examples; standardized MNIST %d train, %d→%v→10, LeCun init, SGD lr %g momentum 0.9, batch 128",
			mon.Len(), train.Len(), train.In, c.Hidden, c.LR),
		Columns: []Column{
			{Name: "act", Label: true},
			{Name: "epoch", Label: true},
		},
	}
	for l := range c.Hidden {
		t.Columns = append(t.Columns,
			Column{Name: fmt.Sprintf("linear%% L%d", l+1), Unit: fmt.Sprintf("linear-%%-layer%d", l+1), Prec: 1},
			Column{Name: fmt.Sprintf("sat%% L%d", l+1), Unit: fmt.Sprintf("saturated-%%-layer%d", l+1), Prec: 1})
	}
	t.Columns = append(t.Columns,
		Column{Name: "train err %", Unit: "train-err-%", Prec: 2},
		Column{Name: "test acc %", Unit: "test-acc-%", Prec: 2},
		Column{Name: "train s", Unit: "train-s", Prec: 2})
	sum := &Table{
		Name:  "LinearSummary",
		Title: fmt.Sprintf("time to %.3g%% training error (measured on the epoch's batches) and the mean linear fraction over the epochs", 100*c.Target),
		Columns: []Column{
			{Name: "act", Label: true},
			{Name: "epochs to target", Unit: "epochs", Int: true},
			{Name: "s to target", Unit: "s-to-target", Prec: 2},
		},
		Notes: []string{"'-': the target was not reached in the epochs run"},
	}
	for l := range c.Hidden {
		sum.Columns = append(sum.Columns, Column{Name: fmt.Sprintf("mean linear%% L%d", l+1), Unit: fmt.Sprintf("mean-linear-%%-layer%d", l+1), Prec: 1})
	}
	sum.Columns = append(sum.Columns, Column{Name: "final test acc %", Unit: "test-acc-%", Prec: 2})

	p := o.progress()
	p.Start("linear", len(c.Acts)*c.Epochs)
	defer p.Done()
	for _, act := range c.Acts {
		name := act.String()
		hidden := make([]nn.Layer, len(c.Hidden))
		for i, h := range c.Hidden {
			hidden[i] = nn.Dense(h, act)
		}
		m, err := nn.New(nn.Config{Inputs: train.In, Hidden: hidden, Outputs: 10, Head: nn.SoftmaxCrossEntropy, Init: nn.InitLeCun, Seed: o.Seed})
		if err != nil {
			return nil, fmt.Errorf("bench: linear %v: %w", act, err)
		}
		linSum := make([]float64, len(c.Hidden))
		epochs := 0
		var elapsed time.Duration
		toTarget, epochsTo := Missing(), Missing()
		finalAcc := Missing()
		row := func(epoch int, layers []nn.LayerStats, trainErr, acc float64) {
			cells := []Cell{Str(name), Str(strconv.Itoa(epoch))}
			for l := range c.Hidden {
				cells = append(cells, Num(100*layers[l].Linear), Num(100*layers[l].Saturated))
			}
			errCell := Missing()
			if !math.IsNaN(trainErr) {
				errCell = Num(100 * trainErr)
			}
			t.Add(append(cells, errCell, Num(100*acc), Num(elapsed.Seconds()))...)
		}
		ev, err := m.Evaluate(mon)
		if err != nil {
			return nil, fmt.Errorf("bench: linear %v: %w", act, err)
		}
		row(0, ev.Layers, math.NaN(), ev.Accuracy)
		tr, err := nn.NewTrainer(m, nn.TrainConfig{
			BatchSize: 128, Epochs: c.Epochs, Seed: o.Seed,
			Optimizer: nn.Optimizer{Method: nn.SGD, LR: c.LR, Momentum: 0.9},
			OnEpoch: func(s nn.EpochStats) error {
				elapsed += s.Duration
				epochs = s.Epoch
				trainErr := 1 - s.TrainAccuracy
				for l := range c.Hidden {
					linSum[l] += s.Layers[l].Linear
				}
				if !epochsTo.Num && trainErr <= c.Target {
					epochsTo, toTarget = Num(float64(s.Epoch)), Num(elapsed.Seconds())
				}
				finalAcc = Num(100 * s.TestAccuracy)
				row(s.Epoch, s.Layers, trainErr, s.TestAccuracy)
				p.Step()
				return nil
			},
		})
		if err != nil {
			return nil, fmt.Errorf("bench: linear %v: %w", act, err)
		}
		var ferr error
		ctx := o.ctx()
		o.labels("linear", act.Func.String(), func() { ferr = tr.FitContext(ctx, train, mon) })
		summary := func() {
			cells := []Cell{Str(name), epochsTo, toTarget}
			for l := range c.Hidden {
				if epochs > 0 {
					cells = append(cells, Num(100*linSum[l]/float64(epochs)))
				} else {
					cells = append(cells, Missing())
				}
			}
			sum.Add(append(cells, finalAcc)...)
		}
		if ferr != nil && ctx.Err() != nil && errors.Is(ferr, ctx.Err()) {
			summary()
			t.Notes = append(t.Notes, fmt.Sprintf("interrupted while training %v: the rows show the epochs completed before", name))
			return []*Table{t, sum}, fmt.Errorf("bench: linear %v: %w", act, ferr)
		}
		if ferr != nil {
			var de *nn.DivergenceError
			if !errors.As(ferr, &de) {
				return nil, fmt.Errorf("bench: linear %v: %w", act, ferr)
			}
			t.Notes = append(t.Notes, fmt.Sprintf("%v diverged: %v", name, ferr))
		}
		summary()
	}
	return []*Table{t, sum}, nil
}
