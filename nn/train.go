package nn

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/actfuse/actfuse/kernels"
)

// Method selects the optimisation algorithm.
type Method uint8

// The optimisation methods.
const (
	// SGD is stochastic gradient descent with optional (Nesterov) momentum:
	// v = μ·v + g; w -= lr·v (Nesterov: w -= lr·(g + μ·v)).
	SGD Method = iota
	// Adam is Kingma and Ba's method with bias correction.
	Adam
	numMethods
)

// String returns "sgd" or "adam".
func (m Method) String() string {
	switch m {
	case SGD:
		return "sgd"
	case Adam:
		return "adam"
	}
	return fmt.Sprintf("Method(%d)", uint8(m))
}

// Optimizer configures the parameter update.
type Optimizer struct {
	Method   Method
	LR       float32 // base learning rate, scaled by the Schedule
	Momentum float32 // SGD momentum μ (0 = plain SGD)
	Nesterov bool    // SGD: Nesterov momentum
	// Adam moments' decay rates and the denominator's epsilon; zero values
	// mean 0.9, 0.999 and 1e-8.
	Beta1, Beta2, Epsilon float32
}

// Schedule returns the factor that multiplies the base learning rate at a
// step, given the epoch (from 0) and the number of steps already taken.
// It must be a pure function of its arguments for runs to be reproducible.
type Schedule func(epoch int, step int64) float32

// StepDecay returns a schedule that multiplies the learning rate by factor
// every `every` epochs.
func StepDecay(factor float32, every int) Schedule {
	return func(epoch int, _ int64) float32 {
		return float32(math.Pow(float64(factor), float64(epoch/max(every, 1))))
	}
}

// Cosine returns the schedule ½(1 + cos(π·step/total)), which decays from 1
// to 0 over total steps (and stays at 0 after them).
func Cosine(total int64) Schedule {
	return func(_ int, step int64) float32 {
		if step >= total {
			return 0
		}
		return float32(0.5 * (1 + math.Cos(math.Pi*float64(step)/float64(total))))
	}
}

// InverseTime returns the schedule 1/(1 + step/tau), which decays to zero
// slowly enough for stochastic approximation to converge.
func InverseTime(tau float64) Schedule {
	return func(_ int, step int64) float32 { return float32(1 / (1 + float64(step)/tau)) }
}

// TrainConfig configures a Trainer.
type TrainConfig struct {
	BatchSize int       // examples per step
	Epochs    int       // Fit trains until this many epochs are complete
	Optimizer Optimizer // method and its hyper-parameters
	Schedule  Schedule  // nil: constant learning rate
	// WeightDecay is the L2 coefficient λ: the gradient of every weight
	// (not the biases) gets λ·w added, which minimises loss + ½λ‖W‖².
	WeightDecay float32
	// InputNoise is the standard deviation σ of Gaussian noise added to every
	// input feature of every training example. Under the LinearMSE head it
	// acts like WeightDecay = σ² on the first layer.
	InputNoise float32
	NoShuffle  bool   // visit examples in order instead of a fresh permutation per epoch
	Seed       uint64 // seeds the permutations and the noise

	// Monitor is the dataset on which the per-layer statistics (dead and
	// saturated units, activation mean and spread) are measured after each
	// epoch; nil means the test set passed to Fit.
	Monitor Dataset
	// OnEpoch, if set, receives the statistics of every completed epoch; a
	// non-nil error stops Fit and is returned by it.
	OnEpoch func(EpochStats) error
	// OnStep, if set, is called after every step of Fit (for progress
	// bars); it must be cheap.
	OnStep func(Progress)
	// Checkpoint, if set, is the file Fit saves the training state to after
	// every epoch and every CheckpointEvery steps (0: epochs only).
	Checkpoint      string
	CheckpointEvery int
}

// Progress describes the step Fit has just completed.
type Progress struct {
	Epoch         int     // current epoch, from 0
	StepInEpoch   int     // steps done in this epoch, from 1
	StepsPerEpoch int     // steps of a full epoch
	Step          int64   // steps done in total
	Loss          float64 // mean loss of the step's batch
}

// EpochStats describes one epoch of training.
type EpochStats struct {
	Epoch    int           // epochs completed (1 after the first)
	Steps    int64         // steps completed in total
	LR       float32       // learning rate of the last step
	Duration time.Duration // training time of the epoch, evaluation excluded
	// TrainLoss and TrainAccuracy average the loss and accuracy of the
	// epoch's batches as they were trained on (noise included). Accuracy is
	// the fraction of examples whose arg max matches the target's (softmax),
	// or whose every output is on the target's side of ½ (sigmoid); NaN for
	// the linear head.
	TrainLoss, TrainAccuracy float64
	// TestLoss and TestAccuracy are measured on the test set after the
	// epoch; NaN without one.
	TestLoss, TestAccuracy float64
	// Layers holds one entry per layer with parameters, output layer last.
	Layers []LayerStats
}

// LayerStats describes one layer after an epoch.
type LayerStats struct {
	Name string
	// Dead is the fraction of units whose output was never positive on any
	// example of the monitoring set; for a ReLU unit this means no gradient
	// flows through it. NaN without a monitoring set.
	Dead float64
	// Saturated is the fraction of the outputs of sigmoid and tanh units
	// (over units and examples) within 1% of the range of a bound: y < 0.01
	// or y > 0.99 for the sigmoids, |y| > 0.98·Gain for the tanhs (Gain 1
	// for the plain one). NaN for other activations.
	Saturated float64
	// Linear is the fraction of the outputs (over units and examples) in
	// the activation's linear region, where its derivative is at least half
	// its largest (f'(x) >= MaxSlope/2): |slope·x| <= 1.7627 for the
	// sigmoids (0.146 <= y <= 0.854), |slope·x| <= 0.8814 for the tanhs
	// (|y| <= Gain/√2), x > 0 for ReLU, and for ELU x > 0 or
	// Alpha·e^x >= max(1, Alpha)/2. NaN for maxout layers and an output
	// layer without activation.
	Linear float64
	// Mean and Std are the mean and standard deviation of the layer's
	// outputs over units and examples of the monitoring set (for the output
	// layer of the softmax head: of the logits).
	Mean, Std float64
	// GradNorm is the root mean square of the Frobenius norm of the weight
	// gradient (without weight decay) over every eighth step of the epoch
	// (the first, the ninth, ...); NaN if no step was sampled.
	GradNorm float64
}

// DivergenceError reports a NaN or an infinity met during training.
type DivergenceError struct {
	Step  int64  // number of the step (from 1) that produced it
	Epoch int    // epoch of that step (from 0)
	Layer int    // index of the layer (NumLayers()-1 for the output layer)
	Name  string // layer description
	What  string // which quantity: "loss", "outputs", "weights", "bias"
}

// Error names the step, the layer and the quantity that became non-finite.
func (e *DivergenceError) Error() string {
	return fmt.Sprintf("nn: training diverged at step %d (epoch %d): non-finite %s in %s", e.Step, e.Epoch, e.What, e.Name)
}

// Trainer trains a model. It owns all buffers of a training step, so a step
// makes no allocation of its own (see the package documentation). A Trainer
// is not safe for concurrent use.
type Trainer struct {
	m   *Model
	cfg TrainConfig
	ws  *workspace

	gw, gb [][]float32 // gradients
	// Optimizer state: SGD velocity or Adam first moment (s1), Adam second
	// moment (s2).
	s1w, s1b, s2w, s2b [][]float32

	// Progress.
	epoch       int   // current epoch (from 0)
	stepInEpoch int   // steps done in the current epoch
	step        int64 // steps done in total
	lr          float32

	// Running statistics of the current epoch.
	epochLoss            float64
	epochCorrect, epochN int64
	gradSS               []float64 // per layer: Σ over steps of ‖dW‖²
	gradSteps            int64

	perm      []int32
	permEpoch int
	permLen   int
	shuf      rand.PCG
	noise     rand.PCG
	shufR     *rand.Rand
	noiseR    *rand.Rand
	trackGrad bool

	upd      updateTask // the optimizer step being applied
	updateFn func(int)  // t.updateLayer, bound once
	badLayer int        // first layer made non-finite by the step, or -1
	// fused: SGD with classical momentum, where the weight-gradient Gemm
	// accumulates straight into the velocity; s1w then holds μ·v between
	// steps, and gw is scratch.
	fused bool
}

// Keys mixed into the seeds of the random streams.
const (
	shuffleKey = 0x5851f42d4c957f2d
	noiseKey   = 0x14057b7ef767814f
)

// NewTrainer returns a trainer for m. The trainer updates m in place.
func NewTrainer(m *Model, cfg TrainConfig) (*Trainer, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	t := &Trainer{m: m, cfg: cfg, permEpoch: -1}
	t.ws = m.newWorkspace(cfg.BatchSize)
	for _, l := range m.layers {
		t.gw = append(t.gw, make([]float32, len(l.w)))
		t.gb = append(t.gb, make([]float32, len(l.b)))
		t.s1w = append(t.s1w, make([]float32, len(l.w)))
		t.s1b = append(t.s1b, make([]float32, len(l.b)))
		if cfg.Optimizer.Method == Adam {
			t.s2w = append(t.s2w, make([]float32, len(l.w)))
			t.s2b = append(t.s2b, make([]float32, len(l.b)))
		}
	}
	t.gradSS = make([]float64, len(m.layers))
	t.shufR = rand.New(&t.shuf)
	t.noiseR = rand.New(&t.noise)
	t.trackGrad = cfg.OnEpoch != nil
	t.updateFn = t.updateLayer
	o := &t.cfg.Optimizer
	t.fused = o.Method == SGD && o.Momentum > 0 && !o.Nesterov
	return t, nil
}

func (c *TrainConfig) validate() error {
	if c.BatchSize < 1 {
		return fmt.Errorf("nn: TrainConfig.BatchSize = %d, want >= 1", c.BatchSize)
	}
	if c.Epochs < 0 {
		return fmt.Errorf("nn: TrainConfig.Epochs = %d, want >= 0", c.Epochs)
	}
	o := &c.Optimizer
	if o.Method >= numMethods {
		return fmt.Errorf("nn: unknown optimizer method %v", o.Method)
	}
	if o.Beta1 == 0 {
		o.Beta1 = 0.9
	}
	if o.Beta2 == 0 {
		o.Beta2 = 0.999
	}
	if o.Epsilon == 0 {
		o.Epsilon = 1e-8
	}
	for _, f := range []struct {
		name string
		v    float32
		lo   float64
		hi   float64
	}{
		{"LR", o.LR, 0, math.MaxFloat32},
		{"Momentum", o.Momentum, 0, 1},
		{"Beta1", o.Beta1, 0, 1},
		{"Beta2", o.Beta2, 0, 1},
		{"Epsilon", o.Epsilon, 0, math.MaxFloat32},
		{"WeightDecay", c.WeightDecay, 0, math.MaxFloat32},
		{"InputNoise", c.InputNoise, 0, math.MaxFloat32},
	} {
		if v := float64(f.v); !(v >= f.lo && v <= f.hi) {
			return fmt.Errorf("nn: TrainConfig: %s = %v, want a value in [%g, %g]", f.name, f.v, f.lo, f.hi)
		}
	}
	if c.CheckpointEvery < 0 {
		return fmt.Errorf("nn: TrainConfig.CheckpointEvery = %d, want >= 0", c.CheckpointEvery)
	}
	return nil
}

// Model returns the model being trained.
func (t *Trainer) Model() *Model { return t.m }

// Epoch returns the number of completed epochs.
func (t *Trainer) Epoch() int { return t.epoch }

// Steps returns the number of completed steps.
func (t *Trainer) Steps() int64 { return t.step }

// Step trains on one batch of rows examples: x holds rows×Inputs features,
// target rows×Outputs targets, and rows is at most the batch size. It returns
// the batch's mean loss (before the update). Input noise, when configured, is
// added to a copy of x. The learning rate follows the schedule at the
// trainer's current epoch and step count.
func (t *Trainer) Step(x, target []float32, rows int) (float32, error) {
	in, out := t.m.cfg.Inputs, t.m.cfg.Outputs
	if rows < 1 || rows > t.cfg.BatchSize || len(x) < rows*in || len(target) < rows*out {
		return 0, fmt.Errorf("nn: Step: rows = %d (batch size %d) with len(x) = %d, len(target) = %d; want rows×%d features and rows×%d targets",
			rows, t.cfg.BatchSize, len(x), len(target), in, out)
	}
	copy(t.ws.x, x[:rows*in])
	copy(t.ws.t, target[:rows*out])
	loss, _, err := t.trainBatch(rows)
	return float32(loss), err
}

// trainBatch runs one step on the first rows examples of the workspace.
func (t *Trainer) trainBatch(rows int) (loss float64, correct int, err error) {
	m, ws := t.m, t.ws
	if s := t.cfg.InputNoise; s > 0 {
		t.noise.Seed(t.cfg.Seed^noiseKey, uint64(t.step))
		sd := float64(s)
		x := ws.x[:rows*m.cfg.Inputs]
		for i := range x {
			x[i] += float32(t.noiseR.NormFloat64() * sd)
		}
	}
	m.forward(ws, rows)
	sum, correct := m.lossGrad(ws, rows, true)
	loss = sum / float64(rows)
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, correct, t.diverged()
	}
	t.lr = t.cfg.Optimizer.LR
	if t.cfg.Schedule != nil {
		t.lr *= t.cfg.Schedule(t.epoch, t.step)
	}
	t.step++
	t.prepareUpdate()
	if t.fused {
		// The weight-gradient Gemm accumulates into the velocity, which
		// holds μ·v between steps: v = Xᵀ·dZ + μ·v. On steps whose gradient
		// norm is sampled, keep μ·v to recover the gradient afterwards.
		if t.sampleGrad() {
			for i := range t.gw {
				copy(t.gw[i], t.s1w[i])
			}
		}
		m.backward(ws, rows, t.s1w, t.gb, true, t.updateFn)
	} else {
		m.backward(ws, rows, t.gw, t.gb, false, t.updateFn)
	}
	if t.sampleGrad() {
		t.gradSteps++
	}
	if li := t.badLayer; li >= 0 {
		return loss, correct, &DivergenceError{Step: t.step, Epoch: t.epoch, Layer: li, Name: m.layerName(li), What: "weights"}
	}
	return loss, correct, nil
}

// diverged locates the first non-finite quantity after a non-finite loss.
func (t *Trainer) diverged() error {
	e := &DivergenceError{Step: t.step + 1, Epoch: t.epoch}
	for i, l := range t.m.layers {
		what := ""
		switch {
		case !finite(l.w):
			what = "weights"
		case !finite(l.b):
			what = "bias"
		case !finite(t.ws.y[i]):
			what = "outputs"
		}
		if what != "" {
			e.Layer, e.Name, e.What = i, t.m.layerName(i), what
			return e
		}
	}
	last := len(t.m.layers) - 1
	e.Layer, e.Name, e.What = last, t.m.layerName(last), "loss"
	return e
}

func finite(s []float32) bool {
	for _, v := range s {
		if v-v != 0 {
			return false
		}
	}
	return true
}

// gradSampleEvery is the interval, in steps, at which gradient norms are
// sampled for the epoch statistics.
const gradSampleEvery = 8

// sampleGrad reports whether the gradient norms of the current step are
// part of the statistics: every gradSampleEvery-th step, when a callback
// wants them.
func (t *Trainer) sampleGrad() bool { return t.trackGrad && t.step%gradSampleEvery == 1 }

// prepareUpdate sets up the optimizer step that updateLayer applies to each
// layer.
func (t *Trainer) prepareUpdate() {
	o := &t.cfg.Optimizer
	t.upd = updateTask{method: o.Method, nesterov: o.Nesterov, lr: t.lr, mu: o.Momentum, b1: o.Beta1, b2: o.Beta2}
	if o.Method == Adam {
		// Bias corrections folded into the step and the epsilon:
		// lr·m̂/(√v̂+ε) = lr·√(1-β2ᵗ)/(1-β1ᵗ) · m/(√v + ε·√(1-β2ᵗ)).
		b1t := 1 - math.Pow(float64(o.Beta1), float64(t.step))
		b2t := math.Sqrt(1 - math.Pow(float64(o.Beta2), float64(t.step)))
		t.upd.lr = float32(float64(t.lr) * b2t / b1t)
		t.upd.eps = float32(float64(o.Epsilon) * b2t)
	}
	t.badLayer = -1
}

// updateLayer applies the optimizer step to layer i, whose gradients are
// complete, and records the first layer (in backward order, that is the one
// nearest the input) whose parameters became non-finite.
func (t *Trainer) updateLayer(i int) {
	l := t.m.layers[i]
	u := &t.upd
	if t.sampleGrad() {
		if t.fused {
			t.gradSS[i] += diffSquares(t.s1w[i], t.gw[i])
		} else {
			t.gradSS[i] += sumSquares(t.gw[i])
		}
	}
	adam := t.cfg.Optimizer.Method == Adam
	u.wd = t.cfg.WeightDecay
	u.p, u.s1, u.g = l.w, t.s1w[i], t.gw[i]
	u.fused = t.fused
	if adam {
		u.s2 = t.s2w[i]
	}
	okW := u.run()
	u.wd, u.fused = 0, false
	u.p, u.s1, u.g = l.b, t.s1b[i], t.gb[i]
	if adam {
		u.s2 = t.s2b[i]
	}
	okB := u.run()
	if !(okW && okB) {
		t.badLayer = i
	}
}

// update applies the optimizer step to every layer (for callers that do not
// go through backward) and returns the index of the first non-finite layer,
// or -1.
func (t *Trainer) update() int {
	t.prepareUpdate()
	for i := len(t.m.layers) - 1; i >= 0; i-- {
		t.updateLayer(i)
	}
	return t.badLayer
}

// updateTask is the optimizer update of one parameter slice.
type updateTask struct {
	method              Method
	nesterov            bool
	fused               bool // SGD momentum whose gradient the Gemm added to s1
	p, s1, s2, g        []float32
	lr, mu, b1, b2, eps float32
	wd                  float32
}

// run updates u.p and reports whether every new value is finite. The
// kernels split a large update over their goroutines (kernels.SetThreads);
// it is elementwise, so the result does not depend on the split.
func (u *updateTask) run() bool {
	n := len(u.p)
	if u.method == Adam {
		return kernels.AdamUpdate(u.p, u.s1[:n], u.s2[:n], u.g[:n], u.lr, u.b1, u.b2, u.eps, u.wd)
	}
	if u.fused {
		return kernels.MomentumUpdate(u.p, u.s1[:n], u.lr, u.mu, u.wd)
	}
	v := u.s1
	if u.mu != 0 {
		v = v[:n]
	}
	return kernels.SGDUpdate(u.p, v, u.g[:n], u.lr, u.mu, u.wd, u.nesterov)
}

// diffSquares returns Σ (a-b)².
func diffSquares(a, b []float32) float64 {
	b = b[:len(a)]
	var s0, s1 float64
	i := 0
	for ; i+2 <= len(a); i += 2 {
		d0, d1 := float64(a[i]-b[i]), float64(a[i+1]-b[i+1])
		s0 += d0 * d0
		s1 += d1 * d1
	}
	for ; i < len(a); i++ {
		d := float64(a[i] - b[i])
		s0 += d * d
	}
	return s0 + s1
}

// sumSquares returns Σ g², with four partial sums.
func sumSquares(g []float32) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(g); i += 4 {
		a, b, c, d := float64(g[i]), float64(g[i+1]), float64(g[i+2]), float64(g[i+3])
		s0 += a * a
		s1 += b * b
		s2 += c * c
		s3 += d * d
	}
	for ; i < len(g); i++ {
		s0 += float64(g[i]) * float64(g[i])
	}
	return s0 + s1 + s2 + s3
}

// preparePerm makes t.perm the visiting order of the current epoch.
func (t *Trainer) preparePerm(n int) {
	if t.permEpoch == t.epoch && t.permLen == n {
		return
	}
	if cap(t.perm) < n {
		t.perm = make([]int32, n)
	}
	t.perm = t.perm[:n]
	for i := range t.perm {
		t.perm[i] = int32(i)
	}
	if !t.cfg.NoShuffle {
		t.shuf.Seed(t.cfg.Seed^shuffleKey, uint64(t.epoch))
		t.shufR.Shuffle(n, func(i, j int) { t.perm[i], t.perm[j] = t.perm[j], t.perm[i] })
	}
	t.permEpoch, t.permLen = t.epoch, n
}

// Fit trains on train until cfg.Epochs epochs are complete, continuing from
// the trainer's progress (for instance after Restore). test, which may be
// nil, is evaluated after every epoch. It returns a *DivergenceError if the
// loss or the weights become non-finite.
func (t *Trainer) Fit(train, test Dataset) error {
	return t.FitStepsContext(context.Background(), train, test, math.MaxInt64)
}

// FitContext is Fit stopped early when ctx is done (see FitStepsContext).
func (t *Trainer) FitContext(ctx context.Context, train, test Dataset) error {
	return t.FitStepsContext(ctx, train, test, math.MaxInt64)
}

// FitSteps is Fit stopped after at most n more steps (an epoch completed by
// the last of them is completed: statistics, callback and checkpoint). Save
// then Restore and Fit continue the run exactly.
func (t *Trainer) FitSteps(train, test Dataset, n int64) error {
	return t.FitStepsContext(context.Background(), train, test, n)
}

// FitStepsContext is FitSteps stopped early when ctx is done. Cancellation
// takes effect between two steps, never inside a step or a checkpoint's
// write: Fit returns an error wrapping ctx.Err() (errors.Is(err,
// context.Canceled) after a cancel), the trainer holds the state after its
// last completed step, and the checkpoint file, if one is configured, holds
// the state of its last save, intact. Calling Fit again continues the run
// exactly as if it had not been stopped.
func (t *Trainer) FitStepsContext(ctx context.Context, train, test Dataset, n int64) error {
	mc := &t.m.cfg
	if err := checkDataset("training", train, mc.Inputs, mc.Outputs); err != nil {
		return err
	}
	if test != nil {
		if err := checkDataset("test", test, mc.Inputs, mc.Outputs); err != nil {
			return err
		}
	}
	monitor := t.cfg.Monitor
	if monitor == nil {
		monitor = test
	} else if err := checkDataset("monitoring", monitor, mc.Inputs, mc.Outputs); err != nil {
		return err
	}
	size := train.Len()
	if size > math.MaxInt32 {
		return fmt.Errorf("nn: training set of %d examples is too large", size)
	}
	bs := t.cfg.BatchSize
	steps := (size + bs - 1) / bs
	stop := t.step + min(n, math.MaxInt64-t.step)
	in, out := mc.Inputs, mc.Outputs
	done := ctx.Done()
	for t.epoch < t.cfg.Epochs {
		t.preparePerm(size)
		start := time.Now()
		for t.stepInEpoch < steps {
			if t.step >= stop {
				return nil
			}
			select {
			case <-done:
				return fmt.Errorf("nn: training stopped after step %d (epoch %d, step %d of %d): %w",
					t.step, t.epoch, t.stepInEpoch, steps, ctx.Err())
			default:
			}
			r0 := t.stepInEpoch * bs
			rows := min(bs, size-r0)
			for r := 0; r < rows; r++ {
				train.Example(int(t.perm[r0+r]), t.ws.x[r*in:(r+1)*in], t.ws.t[r*out:(r+1)*out])
			}
			loss, correct, err := t.trainBatch(rows)
			if err != nil {
				return err
			}
			t.stepInEpoch++
			if t.cfg.OnStep != nil {
				t.cfg.OnStep(Progress{Epoch: t.epoch, StepInEpoch: t.stepInEpoch, StepsPerEpoch: steps, Step: t.step, Loss: loss})
			}
			t.epochLoss += loss * float64(rows)
			t.epochCorrect += int64(correct)
			t.epochN += int64(rows)
			if t.cfg.Checkpoint != "" && t.cfg.CheckpointEvery > 0 && t.step%int64(t.cfg.CheckpointEvery) == 0 && t.stepInEpoch < steps {
				if err := t.Save(t.cfg.Checkpoint); err != nil {
					return err
				}
			}
		}
		dur := time.Since(start)
		st := EpochStats{Epoch: t.epoch + 1, Steps: t.step, LR: t.lr, Duration: dur,
			TrainLoss: t.epochLoss / float64(t.epochN), TrainAccuracy: float64(t.epochCorrect) / float64(t.epochN),
			TestLoss: math.NaN(), TestAccuracy: math.NaN()}
		if mc.Head == LinearMSE {
			st.TrainAccuracy = math.NaN()
		}
		var gradNorms []float64
		if t.gradSteps > 0 {
			for _, ss := range t.gradSS {
				gradNorms = append(gradNorms, math.Sqrt(ss/float64(t.gradSteps)))
			}
		}
		t.epoch++
		t.stepInEpoch = 0
		t.epochLoss, t.epochCorrect, t.epochN = 0, 0, 0
		clear(t.gradSS)
		t.gradSteps = 0
		if li, what := t.m.nonFinite(); li >= 0 {
			return &DivergenceError{Step: t.step, Epoch: t.epoch - 1, Layer: li, Name: t.m.layerName(li), What: what}
		}
		if t.cfg.Checkpoint != "" {
			if err := t.Save(t.cfg.Checkpoint); err != nil {
				return err
			}
		}
		if t.cfg.OnEpoch == nil {
			continue
		}
		if test != nil {
			st.TestLoss, st.TestAccuracy, _ = t.m.evaluate(test, false)
		}
		if monitor != nil {
			_, _, st.Layers = t.m.evaluate(monitor, true)
		} else {
			st.Layers = t.m.emptyStats()
		}
		for i := range st.Layers {
			st.Layers[i].GradNorm = math.NaN()
			if gradNorms != nil {
				st.Layers[i].GradNorm = gradNorms[i]
			}
		}
		if err := t.cfg.OnEpoch(st); err != nil {
			return err
		}
	}
	return nil
}

// nonFinite returns the first layer with a non-finite parameter and which
// parameter it is, or -1.
func (m *Model) nonFinite() (int, string) {
	for i, l := range m.layers {
		if !finite(l.w) {
			return i, "weights"
		}
		if !finite(l.b) {
			return i, "bias"
		}
	}
	return -1, ""
}
