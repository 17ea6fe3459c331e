package nn

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/actfuse/actfuse/kernels"
)

// Layer describes one hidden layer: a dense layer with an activation, or a
// maxout layer when Pieces >= 2.
type Layer struct {
	// Units is the number of outputs of the layer.
	Units int
	// Act is the activation of a dense layer. A maxout layer must leave it
	// zero (identity): its nonlinearity is the maximum itself.
	Act kernels.Activation
	// Pieces is the number k of linear pieces of each maxout unit; 0 or 1
	// means a dense layer.
	Pieces int
}

// Dense returns a dense layer of the given width and activation.
func Dense(units int, act kernels.Activation) Layer { return Layer{Units: units, Act: act} }

// Maxout returns a maxout layer of the given width whose units are the
// maximum of k affine pieces.
func Maxout(units, k int) Layer { return Layer{Units: units, Pieces: k} }

// maxout reports whether l is a maxout layer.
func (l Layer) maxout() bool { return l.Pieces >= 2 }

// String describes the layer, e.g. "dense 512 relu" or "maxout 64×3".
func (l Layer) String() string {
	if l.maxout() {
		return fmt.Sprintf("maxout %d×%d", l.Units, l.Pieces)
	}
	return fmt.Sprintf("dense %d %v", l.Units, l.Act)
}

// Head is the output layer's activation together with the loss.
type Head uint8

// The output heads. Losses are averaged over the examples of a batch and
// summed over the outputs of an example.
const (
	// SoftmaxCrossEntropy: softmax outputs, loss -Σ t·log p. Targets are
	// probability vectors (one-hot for classification).
	SoftmaxCrossEntropy Head = iota
	// LinearMSE: identity outputs, loss ½‖y - t‖².
	LinearMSE
	// SigmoidBCE: sigmoid outputs, loss -Σ t·log y + (1-t)·log(1-y), with
	// targets in [0, 1].
	SigmoidBCE
	numHeads
)

var headNames = [numHeads]string{"softmax-crossentropy", "linear-mse", "sigmoid-bce"}

// String returns the name of the head.
func (h Head) String() string {
	if h < numHeads {
		return headNames[h]
	}
	return fmt.Sprintf("Head(%d)", uint8(h))
}

// outAct is the activation fused into the output layer's Gemm.
func (h Head) outAct() kernels.Activation {
	if h == SigmoidBCE {
		return kernels.Activation{Func: kernels.Sigmoid}
	}
	return kernels.Activation{} // softmax is applied by the loss
}

// Init selects the weight initialisation.
type Init uint8

// The weight initialisations.
const (
	// InitAuto uses He for ReLU, LeakyReLU, ELU and maxout layers, LeCun
	// for ScaledTanh, and Xavier for the others.
	InitAuto Init = iota
	// InitHe draws weights from N(0, 2/fanIn).
	InitHe
	// InitXavier draws weights uniformly from ±sqrt(6/(fanIn+fanOut)).
	InitXavier
	// InitLeCun draws weights from N(0, 1/fanIn): with inputs of zero mean
	// and unit variance, the pre-activations then have unit variance, the
	// prescription of "Efficient BackProp" for its scaled tanh.
	InitLeCun
	numInits
)

var initNames = [numInits]string{"auto", "he", "xavier", "lecun"}

// String returns "auto", "he", "xavier" or "lecun".
func (i Init) String() string {
	if i < numInits {
		return initNames[i]
	}
	return fmt.Sprintf("Init(%d)", uint8(i))
}

// Config describes a model.
type Config struct {
	Inputs  int     // number of input features
	Hidden  []Layer // hidden layers, first to last
	Outputs int     // number of outputs
	Head    Head    // output activation and loss
	Init    Init    // weight initialisation
	// BiasInit is the initial value of every hidden bias (a small positive
	// value keeps ReLU units alive at the start). Output biases start at 0.
	BiasInit float32
	// Seed makes the initial weights reproducible.
	Seed uint64
}

// Model is a multilayer perceptron: its parameters and its shape.
// A Model is not safe for concurrent use.
type Model struct {
	cfg    Config
	layers []*layer // hidden layers, then the output layer
}

// layer holds the parameters of one layer.
type layer struct {
	spec  Layer // Units, Act, Pieces (output layer: Act from the head)
	in    int   // inputs
	width int   // Gemm output columns: Units·Pieces for maxout, else Units
	w     []float32
	b     []float32
}

// validate checks a configuration and returns a descriptive error.
func (c *Config) validate() error {
	if c.Inputs < 1 {
		return fmt.Errorf("nn: Config.Inputs = %d, want >= 1", c.Inputs)
	}
	if c.Outputs < 1 {
		return fmt.Errorf("nn: Config.Outputs = %d, want >= 1", c.Outputs)
	}
	if c.Head >= numHeads {
		return fmt.Errorf("nn: unknown head %v", c.Head)
	}
	if c.Init >= numInits {
		return fmt.Errorf("nn: unknown initialisation %d", c.Init)
	}
	if c.Head == SoftmaxCrossEntropy && c.Outputs < 2 {
		return errors.New("nn: a softmax head needs at least 2 outputs")
	}
	if f := float64(c.BiasInit); math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("nn: Config.BiasInit = %v is not finite", c.BiasInit)
	}
	for i, l := range c.Hidden {
		if l.Units < 1 {
			return fmt.Errorf("nn: hidden layer %d: Units = %d, want >= 1", i, l.Units)
		}
		if l.Pieces < 0 {
			return fmt.Errorf("nn: hidden layer %d: Pieces = %d, want >= 0", i, l.Pieces)
		}
		if l.maxout() && l.Act != (kernels.Activation{}) {
			return fmt.Errorf("nn: hidden layer %d: a maxout layer takes no activation (got %v)", i, l.Act)
		}
		if err := l.Act.Validate(); err != nil {
			return fmt.Errorf("nn: hidden layer %d: %w", i, err)
		}
		if l.Units > 1<<24 || l.Pieces > 1<<10 {
			return fmt.Errorf("nn: hidden layer %d: %v is too large", i, l)
		}
	}
	if c.Inputs > 1<<24 || c.Outputs > 1<<24 {
		return errors.New("nn: layer too large")
	}
	return nil
}

// New returns a model with freshly initialised parameters.
func New(cfg Config) (*Model, error) {
	m, err := newShape(cfg)
	if err != nil {
		return nil, err
	}
	m.initParams()
	return m, nil
}

// newShape allocates a model with zero parameters.
func newShape(cfg Config) (*Model, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.Hidden = append([]Layer(nil), cfg.Hidden...)
	m := &Model{cfg: cfg}
	in := cfg.Inputs
	specs := append(append([]Layer(nil), cfg.Hidden...), Layer{Units: cfg.Outputs, Act: cfg.Head.outAct()})
	for _, s := range specs {
		width := s.Units
		if s.maxout() {
			width *= s.Pieces
		}
		if int64(in)*int64(width) > 1<<31 {
			return nil, fmt.Errorf("nn: layer %v with %d inputs has too many weights", s, in)
		}
		m.layers = append(m.layers, &layer{spec: s, in: in, width: width,
			w: make([]float32, in*width), b: make([]float32, width)})
		in = s.Units
	}
	return m, nil
}

// initParams draws the weights from the configured distribution with one
// random stream per layer derived from the seed.
func (m *Model) initParams() {
	var src rand.PCG
	r := rand.New(&src)
	for li, l := range m.layers {
		src.Seed(m.cfg.Seed, 0x1a7e5eed00000000|uint64(li))
		init := m.cfg.Init
		if init == InitAuto {
			init = InitXavier
			switch l.spec.Act.Func {
			case kernels.ReLU, kernels.LeakyReLU, kernels.ELU:
				init = InitHe
			case kernels.ScaledTanh:
				init = InitLeCun
			}
			if l.spec.maxout() {
				init = InitHe
			}
		}
		if init == InitHe || init == InitLeCun {
			sd := math.Sqrt(1 / float64(l.in))
			if init == InitHe {
				sd = math.Sqrt(2 / float64(l.in))
			}
			for i := range l.w {
				l.w[i] = float32(r.NormFloat64() * sd)
			}
		} else {
			lim := math.Sqrt(6 / float64(l.in+l.width))
			for i := range l.w {
				l.w[i] = float32((2*r.Float64() - 1) * lim)
			}
		}
		bias := m.cfg.BiasInit
		if li == len(m.layers)-1 {
			bias = 0
		}
		for i := range l.b {
			l.b[i] = bias
		}
	}
}

// Config returns the configuration the model was built from.
func (m *Model) Config() Config {
	c := m.cfg
	c.Hidden = append([]Layer(nil), c.Hidden...)
	return c
}

// NumLayers returns the number of layers with parameters: the hidden layers
// and the output layer.
func (m *Model) NumLayers() int { return len(m.layers) }

// Params returns the weights and the bias of layer i (0 is the first hidden
// layer, NumLayers()-1 the output layer). The weights form an in×width
// row-major matrix, where width is the number of outputs of the layer, times
// the number of pieces for a maxout layer (piece p of unit u is column u·k+p).
// The slices alias the model: writing to them changes it.
func (m *Model) Params(i int) (w, b []float32) { return m.layers[i].w, m.layers[i].b }

// layerName names layer i for messages.
func (m *Model) layerName(i int) string {
	if i == len(m.layers)-1 {
		return fmt.Sprintf("layer %d (output, %d %v)", i, m.cfg.Outputs, m.cfg.Head)
	}
	return fmt.Sprintf("layer %d (%v)", i, m.layers[i].spec)
}

// workspace holds the per-batch buffers of forward and backward passes.
type workspace struct {
	batch int
	x     []float32   // input batch, batch×Inputs
	t     []float32   // targets, batch×Outputs
	z     [][]float32 // maxout pre-activations, batch×width (nil for dense layers)
	arg   [][]int32   // maxout argmax, batch×Units
	y     [][]float32 // layer outputs, batch×Units
	dz    [][]float32 // gradient w.r.t. the Gemm output, batch×width
	dy    [][]float32 // maxout: gradient w.r.t. the layer output, batch×Units
	// ep is the epilogue passed to kernels.Gemm, reused so that calls do
	// not allocate.
	ep *kernels.Epilogue
}

func (m *Model) newWorkspace(batch int) *workspace {
	ws := &workspace{batch: batch, ep: new(kernels.Epilogue),
		x: make([]float32, batch*m.cfg.Inputs),
		t: make([]float32, batch*m.cfg.Outputs)}
	for _, l := range m.layers {
		var z, dy []float32
		var arg []int32
		if l.spec.maxout() {
			z = make([]float32, batch*l.width)
			dy = make([]float32, batch*l.spec.Units)
			arg = make([]int32, batch*l.spec.Units)
		}
		ws.z = append(ws.z, z)
		ws.arg = append(ws.arg, arg)
		ws.dy = append(ws.dy, dy)
		ws.y = append(ws.y, make([]float32, batch*l.spec.Units))
		ws.dz = append(ws.dz, make([]float32, batch*l.width))
	}
	return ws
}

// forward runs the model on the first rows examples of ws.x, leaving every
// layer's output in ws.y.
func (m *Model) forward(ws *workspace, rows int) {
	x := ws.x[:rows*m.cfg.Inputs]
	for i, l := range m.layers {
		y := ws.y[i][:rows*l.spec.Units]
		if l.spec.maxout() {
			z := ws.z[i][:rows*l.width]
			*ws.ep = kernels.Epilogue{Bias: l.b}
			kernels.Gemm(false, false, rows, l.width, l.in, x, l.in, l.w, l.width, z, l.width, ws.ep)
			kernels.MaxoutForward(l.spec.Pieces, y, ws.arg[i][:rows*l.spec.Units], z)
		} else {
			*ws.ep = kernels.Epilogue{Bias: l.b, Act: l.spec.Act}
			kernels.Gemm(false, false, rows, l.width, l.in, x, l.in, l.w, l.width, y, l.width, ws.ep)
		}
		x = y
	}
}

// backward computes the parameter gradients into gw, gb from the output
// gradient already in ws.dz of the last layer, for the first rows examples.
// With accumulate the weight gradients are added to the content of gw
// instead of replacing it.
// If done is not nil it is called with the index of each layer, last to
// first, as soon as the layer's gradients are complete and its weights are
// no longer needed by the pass, so that the caller may update them while
// they are still in cache.
func (m *Model) backward(ws *workspace, rows int, gw, gb [][]float32, accumulate bool, done func(int)) {
	for i := len(m.layers) - 1; i >= 0; i-- {
		l := m.layers[i]
		dz := ws.dz[i][:rows*l.width]
		var x []float32
		if i > 0 {
			x = ws.y[i-1][:rows*l.in]
		} else {
			x = ws.x[:rows*l.in]
		}
		// dW = Xᵀ·dZ
		*ws.ep = kernels.Epilogue{Accumulate: accumulate}
		kernels.Gemm(true, false, l.in, l.width, rows, x, l.in, dz, l.width, gw[i], l.width, ws.ep)
		// db = column sums of dZ (identity derivative: dz is left unchanged).
		kernels.BackwardBias(kernels.Activation{}, rows, l.width, dz, l.width, dz, l.width, dz, l.width, gb[i])
		if i == 0 {
			if done != nil {
				done(0)
			}
			break
		}
		p := m.layers[i-1]
		if p.spec.maxout() {
			// dY_{i-1} = dZ·Wᵀ, then route it to the winning pieces.
			dy := ws.dy[i-1][:rows*l.in]
			*ws.ep = kernels.Epilogue{}
			kernels.Gemm(false, true, rows, l.in, l.width, dz, l.width, l.w, l.width, dy, l.in, ws.ep)
			kernels.MaxoutBackward(p.spec.Pieces, ws.dz[i-1][:rows*p.width], dy, ws.arg[i-1][:rows*p.spec.Units])
		} else {
			// dZ_{i-1} = (dZ·Wᵀ) ⊙ f'(Y_{i-1}) in one Gemm.
			*ws.ep = kernels.Epilogue{Y: ws.y[i-1][:rows*l.in], LdY: l.in, Act: p.spec.Act}
			kernels.Gemm(false, true, rows, l.in, l.width, dz, l.width, l.w, l.width, ws.dz[i-1][:rows*l.in], l.in, ws.ep)
		}
		if done != nil {
			done(i)
		}
	}
}

// lossGrad computes the head's loss summed over the first rows examples of
// the output ws.y[last] against ws.t, the number of correct predictions, and,
// when grad is set, the gradient of the mean loss w.r.t. the output layer's
// Gemm output into ws.dz[last]. The output layer is narrow, so this is a
// plain loop.
func (m *Model) lossGrad(ws *workspace, rows int, grad bool) (loss float64, correct int) {
	n := m.cfg.Outputs
	last := len(m.layers) - 1
	out := ws.y[last]
	dz := ws.dz[last]
	inv := 1 / float64(rows)
	for r := 0; r < rows; r++ {
		y := out[r*n : r*n+n]
		t := ws.t[r*n : r*n+n]
		d := dz[r*n : r*n+n]
		switch m.cfg.Head {
		case SoftmaxCrossEntropy:
			mx, am, at := math.Inf(-1), 0, 0
			for j, v := range y {
				if float64(v) > mx {
					mx, am = float64(v), j
				}
				if t[j] > t[at] {
					at = j
				}
			}
			if am == at {
				correct++
			}
			var s float64
			for _, v := range y {
				s += math.Exp(float64(v) - mx)
			}
			ls := math.Log(s)
			for j, v := range y {
				lp := float64(v) - mx - ls
				if t[j] != 0 {
					loss -= float64(t[j]) * lp
				}
				if grad {
					d[j] = float32((math.Exp(lp) - float64(t[j])) * inv)
				}
			}
		case LinearMSE:
			for j, v := range y {
				e := float64(v) - float64(t[j])
				loss += 0.5 * e * e
				if grad {
					d[j] = float32(e * inv)
				}
			}
		case SigmoidBCE:
			ok := true
			for j, v := range y {
				p, tt := float64(v), float64(t[j])
				loss -= tt*math.Log(max(p, 1e-300)) + (1-tt)*math.Log(max(1-p, 1e-300))
				if grad {
					d[j] = float32((p - tt) * inv)
				}
				ok = ok && (p > 0.5) == (tt > 0.5)
			}
			if ok {
				correct++
			}
		}
	}
	return loss, correct
}

// Predict computes the model's outputs (after the head's activation: softmax
// probabilities, linear values, or sigmoid probabilities) for rows examples
// of x (rows×Inputs) into out (rows×Outputs).
func (m *Model) Predict(x []float32, rows int, out []float32) {
	in, n := m.cfg.Inputs, m.cfg.Outputs
	if rows < 0 || len(x) < rows*in || len(out) < rows*n {
		panic(fmt.Sprintf("nn: Predict: rows = %d needs len(x) >= %d (have %d) and len(out) >= %d (have %d)",
			rows, rows*in, len(x), rows*n, len(out)))
	}
	const chunk = 256
	ws := m.newWorkspace(min(rows, chunk))
	for r0 := 0; r0 < rows; r0 += chunk {
		r := min(chunk, rows-r0)
		copy(ws.x, x[r0*in:(r0+r)*in])
		m.forward(ws, r)
		y := ws.y[len(m.layers)-1][:r*n]
		o := out[r0*n : (r0+r)*n]
		copy(o, y)
		if m.cfg.Head == SoftmaxCrossEntropy {
			for i := 0; i < r; i++ {
				softmax(o[i*n : i*n+n])
			}
		}
	}
}

// softmax replaces v by its softmax.
func softmax(v []float32) {
	mx := math.Inf(-1)
	for _, x := range v {
		mx = max(mx, float64(x))
	}
	var s float64
	for _, x := range v {
		s += math.Exp(float64(x) - mx)
	}
	for i, x := range v {
		v[i] = float32(math.Exp(float64(x)-mx) / s)
	}
}
