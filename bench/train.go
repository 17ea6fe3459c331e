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
	Target      float64              // training error to reach; 0 means 0.02
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
		c.Target = 0.02
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
// budget per activation. The models train in turn, a quarter of an epoch
// each, so that a busy machine slows them alike; after every quarter the
// error on (up to 10,000 examples of) the training set is measured outside
// the timed training, and the race records the epochs and the training wall
// time needed to reach the target error, and the final test accuracy. The
// AlexNet paper reports that a ReLU network reached 25% training error six
// times faster than a tanh one; this measures the same quantity for an MLP.
//
// When o.Ctx is done, the race stops after the current training step: Train
// returns its tables with the turns completed so far (and no test accuracy),
// and an error wrapping o.Ctx.Err().
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
	const evalsPerEpoch = 4
	evalSet := subset(train, 10000)
	race := &Table{
		Name: "Train",
		Title: fmt.Sprintf("training race on MNIST (%d train, %d test), %d→%v→10, SGD lr %g momentum 0.9, batch %d, kernels %s: time to %.3g%% training error",
			train.Len(), test.Len(), train.In, c.Hidden, c.LR, c.Batch, kernels.ISA(), 100*c.Target),
		Columns: []Column{
			{Name: "act", Label: true},
			{Name: "epochs to target", Unit: "epochs", Prec: 2},
			{Name: "s to target", Unit: "s-to-target"},
			{Name: "×relu time", Unit: "x-relu", NoBench: true, Prec: 2},
			{Name: "s/epoch", Unit: "s/epoch"},
			{Name: "final train err %", Unit: "train-err-%", Prec: 2},
			{Name: "test acc %", Unit: "test-acc-%", Prec: 2},
			{Name: "epochs run", Unit: "epochs-run", Prec: 2},
		},
		Notes: []string{
			fmt.Sprintf("the models train in turn, 1/%d epoch each; training error is measured on %d training examples after each turn, outside the timed training; '-' means the target was not reached within %d epochs", evalsPerEpoch, evalSet.Len(), c.MaxEpochs),
		},
	}
	curve := &Table{
		Name:  "TrainCurve",
		Title: "training error (%) and cumulated training time (s) by epoch",
		Columns: []Column{
			{Name: "epoch", Label: true},
			{Name: "act", Label: true},
			{Name: "train err %", Unit: "train-err-%", Prec: 2},
			{Name: "train s", Unit: "train-s", Prec: 2},
		},
		Pivot: "act",
	}
	type runner struct {
		act      kernels.Activation
		m        *nn.Model
		tr       *nn.Trainer
		elapsed  time.Duration
		err      float64 // last training error
		turns    int
		done     bool // reached the target, diverged or out of budget
		diverged bool
		toTarget Cell
		epochsTo Cell
	}
	var rs []*runner
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
		rs = append(rs, &runner{act: act, m: m, tr: tr, toTarget: Missing(), epochsTo: Missing()})
	}
	p := o.progress()
	total := len(rs) * c.MaxEpochs * evalsPerEpoch
	p.Start("train", total)
	defer p.Done()
	steps := int64((train.Len() + c.Batch - 1) / c.Batch)
	// boundary returns the step count at the end of turn k (from 1).
	boundary := func(k int) int64 {
		e, q := int64(k/evalsPerEpoch), int64(k%evalsPerEpoch)
		return e*steps + q*steps/evalsPerEpoch
	}
	ctx := o.ctx()
	var stopped error // the interruption, if any
race:
	for k := 1; k <= c.MaxEpochs*evalsPerEpoch; k++ {
		for _, r := range rs {
			if r.done {
				continue
			}
			var ferr error
			t0 := time.Now()
			o.labels("train", r.act.Func.String(), func() { ferr = r.tr.FitStepsContext(ctx, train, nil, boundary(k)-boundary(k-1)) })
			if ferr != nil && ctx.Err() != nil && errors.Is(ferr, ctx.Err()) {
				// The unfinished turn counts neither in time nor in epochs.
				stopped = fmt.Errorf("bench: train %v: %w", r.act, ferr)
				race.Notes = append(race.Notes, fmt.Sprintf("interrupted during turn %d of %d (%v): the rows show the turns completed before; test accuracy not measured", k, c.MaxEpochs*evalsPerEpoch, r.act.Func))
				break race
			}
			r.elapsed += time.Since(t0)
			if ferr != nil {
				var de *nn.DivergenceError
				if !errors.As(ferr, &de) {
					return nil, fmt.Errorf("bench: train %v: %w", r.act, ferr)
				}
				race.Notes = append(race.Notes, fmt.Sprintf("%v diverged: %v", r.act.Func, ferr))
				r.done, r.diverged = true, true
				continue
			}
			r.turns = k
			ev, err := r.m.Evaluate(evalSet)
			if err != nil {
				return nil, fmt.Errorf("bench: train %v: %w", r.act, err)
			}
			r.err = 1 - ev.Accuracy
			epochs := float64(k) / evalsPerEpoch
			curve.Add(Str(strconv.FormatFloat(epochs, 'f', -1, 64)), Str(r.act.Func.String()), Num(100*r.err), Num(r.elapsed.Seconds()))
			p.Step()
			if r.err <= c.Target {
				r.toTarget, r.epochsTo, r.done = Num(r.elapsed.Seconds()), Num(epochs), true
			}
		}
	}
	if stopped == nil {
		for range total - len(curve.Rows) {
			p.Step()
		}
	}
	var reluTime float64
	for _, r := range rs {
		if r.act.Func == kernels.ReLU && r.toTarget.Num {
			reluTime = r.toTarget.F
		}
	}
	for _, r := range rs {
		ratio := Missing()
		if r.toTarget.Num && reluTime > 0 {
			ratio = Num(r.toTarget.F / reluTime)
		}
		testAcc, perEpoch, trainErr := Missing(), Missing(), Missing()
		if !r.diverged && stopped == nil {
			ev, err := r.m.Evaluate(test)
			if err != nil {
				return nil, fmt.Errorf("bench: train %v: %w", r.act, err)
			}
			testAcc = Num(100 * ev.Accuracy)
		}
		epochs := float64(r.turns) / evalsPerEpoch
		if r.turns > 0 {
			perEpoch = Num(r.elapsed.Seconds() / epochs)
			trainErr = Num(100 * r.err)
		}
		race.Add(Str(r.act.Func.String()), r.epochsTo, r.toTarget, ratio, perEpoch, trainErr, testAcc, Num(epochs))
	}
	return []*Table{race, curve}, stopped
}
