package bench

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/actfuse/actfuse/kernels"
	"github.com/actfuse/actfuse/nn"
)

// TrainConfig configures the training race.
type TrainConfig struct {
	Data        string               // MNIST directory; "" finds the data module
	Train, Test int                  // subset sizes; 0 means all
	Hidden      []int                // hidden layer widths; nil means 256, 256
	Acts        []kernels.Activation // nil: ReLU, LeakyReLU, ELU, sigmoid, tanh
	Target      float64              // training error to reach; 0 means 0.05
	MaxEpochs   int                  // 0 means 20
	Batch       int                  // 0 means 128
	LR          float32              // 0 means 0.05 (SGD, momentum 0.9)
	Threads     int                  // kernel threads; 0 leaves the default
}

// RaceActivations returns the activations of the hidden layers the
// experiments compare.
func RaceActivations() []kernels.Activation {
	return []kernels.Activation{
		{Func: kernels.ReLU}, {Func: kernels.LeakyReLU, Alpha: 0.01}, {Func: kernels.ELU, Alpha: 1},
		{Func: kernels.Sigmoid}, {Func: kernels.Tanh},
	}
}

func (c *TrainConfig) defaults() {
	if c.Hidden == nil {
		c.Hidden = []int{256, 256}
	}
	if c.Acts == nil {
		c.Acts = RaceActivations()
	}
	if c.Target == 0 {
		c.Target = 0.05
	}
	if c.MaxEpochs <= 0 {
		c.MaxEpochs = 20
	}
	if c.Batch <= 0 {
		c.Batch = 128
	}
	if c.LR == 0 {
		c.LR = 0.05
	}
}

// Train races the activations on MNIST: one model shape, optimizer and
// budget per activation; after every epoch the error on the whole training
// subset is measured (outside the timed training), and the race records the
// epochs and the training wall time needed to reach the target error, and the
// final test accuracy. The AlexNet paper reports that a ReLU network reached
// 25% training error six times faster than a tanh one; this measures the same
// quantity for an MLP.
func Train(o Options, c TrainConfig) ([]*Table, error) {
	o.Defaults()
	c.defaults()
	train, test, err := MNIST(c.Data, c.Train, c.Test)
	if err != nil {
		return nil, err
	}
	if c.Threads > 0 {
		setThreads(c.Threads)
		defer setThreads(0)
	}
	shape := fmt.Sprint(c.Hidden)
	race := &Table{
		Name: "Train",
		Title: fmt.Sprintf("training race on MNIST (%d train, %d test), %d→%v→10, SGD lr %g momentum 0.9, batch %d, kernels %s: time to %.0f%% training error",
			train.Len(), test.Len(), train.In, shape, c.LR, c.Batch, kernels.ISA(), 100*c.Target),
		Columns: []Column{
			{Name: "act", Label: true},
			{Name: "epochs to target", Unit: "epochs", Int: true},
			{Name: "s to target", Unit: "s-to-target"},
			{Name: "×relu time", Unit: "x-relu", NoBench: true, Prec: 2},
			{Name: "s/epoch", Unit: "s/epoch"},
			{Name: "final train err %", Unit: "train-err-%", Prec: 2},
			{Name: "test acc %", Unit: "test-acc-%", Prec: 2},
			{Name: "epochs run", Unit: "epochs-run", Int: true},
		},
		Notes: []string{"training error is measured on the whole training subset after each epoch, outside the timed training; '-' means the target was not reached within the epoch budget"},
	}
	curve := &Table{
		Name:  "TrainCurve",
		Title: "training error (%) after each epoch",
		Columns: []Column{
			{Name: "epoch", Label: true},
			{Name: "act", Label: true},
			{Name: "train err %", Unit: "train-err-%", Prec: 2},
			{Name: "train s", Unit: "train-s", Prec: 2},
		},
		Pivot: "act",
	}
	p := o.progress()
	p.Start("train", len(c.Acts)*c.MaxEpochs)
	defer p.Done()
	var reluTime float64
	for _, act := range c.Acts {
		hidden := make([]nn.Layer, len(c.Hidden))
		for i, h := range c.Hidden {
			hidden[i] = nn.Dense(h, act)
		}
		m, err := nn.New(nn.Config{Inputs: train.In, Hidden: hidden, Outputs: 10, Head: nn.SoftmaxCrossEntropy, Seed: o.Seed})
		if err != nil {
			return nil, fmt.Errorf("bench: train %v: %w", act, err)
		}
		tr, err := nn.NewTrainer(m, nn.TrainConfig{
			BatchSize: c.Batch, Epochs: c.MaxEpochs, Seed: o.Seed,
			Optimizer: nn.Optimizer{Method: nn.SGD, LR: c.LR, Momentum: 0.9},
		})
		if err != nil {
			return nil, fmt.Errorf("bench: train %v: %w", act, err)
		}
		steps := int64((train.Len() + c.Batch - 1) / c.Batch)
		var elapsed time.Duration
		toTarget, epochsTo := Missing(), Missing()
		var trainErr float64
		epochs := 0
		diverged := false
		for e := 1; e <= c.MaxEpochs; e++ {
			var ferr error
			t0 := time.Now()
			o.labels("train", act.Func.String(), func() { ferr = tr.FitSteps(train, nil, steps) })
			elapsed += time.Since(t0)
			if ferr != nil {
				var de *nn.DivergenceError
				if errors.As(ferr, &de) {
					race.Notes = append(race.Notes, fmt.Sprintf("%v diverged: %v", act.Func, ferr))
					diverged = true
					break
				}
				return nil, fmt.Errorf("bench: train %v: %w", act, ferr)
			}
			epochs = e
			ev, err := m.Evaluate(train)
			if err != nil {
				return nil, fmt.Errorf("bench: train %v: %w", act, err)
			}
			trainErr = 1 - ev.Accuracy
			curve.Add(Str(strconv.Itoa(e)), Str(act.Func.String()), Num(100*trainErr), Num(elapsed.Seconds()))
			p.Step()
			if trainErr <= c.Target && !toTarget.Num {
				toTarget, epochsTo = Num(elapsed.Seconds()), Num(float64(e))
				break
			}
		}
		for range c.MaxEpochs - epochs {
			p.Step()
		}
		if act.Func == kernels.ReLU && toTarget.Num {
			reluTime = toTarget.F
		}
		ratio := Missing()
		if toTarget.Num && reluTime > 0 {
			ratio = Num(toTarget.F / reluTime)
		}
		testAcc := Missing()
		if !diverged {
			ev, err := m.Evaluate(test)
			if err != nil {
				return nil, fmt.Errorf("bench: train %v: %w", act, err)
			}
			testAcc = Num(100 * ev.Accuracy)
		}
		perEpoch := Missing()
		if epochs > 0 {
			perEpoch = Num(elapsed.Seconds() / float64(epochs))
		}
		race.Add(Str(act.Func.String()), epochsTo, toTarget, ratio, perEpoch, Num(100*trainErr), testAcc, Num(float64(epochs)))
	}
	return []*Table{race, curve}, nil
}
