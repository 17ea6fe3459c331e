package nn

import "fmt"

// Gradients holds the gradients of a model's mean loss over one batch, as
// Model.Gradients computes them, and the buffers that computed them, which
// later calls reuse. The zero value is ready to use.
type Gradients struct {
	// W[i] and B[i] are the gradients with respect to the weights and the
	// bias of layer i, shaped as Model.Params(i) returns them.
	W, B [][]float32
	// Loss is the mean loss of the batch.
	Loss float64

	m  *Model     // the model the buffers belong to
	ws *workspace // forward and backward buffers
}

// Gradients runs the model forward and backward on one batch of rows
// examples, x holding rows×Inputs features and target rows×Outputs targets,
// and stores in g the gradient of the batch's mean loss with respect to the
// weights and the bias of every layer, and the loss. It computes them as a
// training step does, with the same kernels, but updates nothing: the model
// is unchanged, and weight decay, input noise and the optimizer play no
// part. The buffers of g are allocated on its first use with m (and again
// when rows exceeds every earlier batch), so that repeated calls make no
// allocation of their own; g's slices are overwritten by the next call.
func (m *Model) Gradients(x, target []float32, rows int, g *Gradients) error {
	in, out := m.cfg.Inputs, m.cfg.Outputs
	if rows < 1 || len(x) < rows*in || len(target) < rows*out {
		return fmt.Errorf("nn: Gradients: rows = %d with len(x) = %d, len(target) = %d; want rows >= 1, rows×%d features and rows×%d targets",
			rows, len(x), len(target), in, out)
	}
	if g.m != m || len(g.W) != len(m.layers) {
		g.m, g.ws = m, nil
		g.W, g.B = make([][]float32, len(m.layers)), make([][]float32, len(m.layers))
		for i, l := range m.layers {
			g.W[i], g.B[i] = make([]float32, len(l.w)), make([]float32, len(l.b))
		}
	}
	if g.ws == nil || g.ws.batch < rows {
		g.ws = m.newWorkspace(rows)
	}
	ws := g.ws
	copy(ws.x, x[:rows*in])
	copy(ws.t, target[:rows*out])
	m.forward(ws, rows)
	sum, _ := m.lossGrad(ws, rows, true)
	m.backward(ws, rows, g.W, g.B, false, nil)
	g.Loss = sum / float64(rows)
	return nil
}
