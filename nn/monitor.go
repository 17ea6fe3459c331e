package nn

import (
	"math"

	"github.com/actfuse/actfuse/kernels"
)

// Evaluation is the result of running a model over a dataset.
type Evaluation struct {
	Loss     float64 // mean loss per example
	Accuracy float64 // see EpochStats.TrainAccuracy; NaN for the linear head
	// Layers holds the activation statistics of every layer (GradNorm is
	// NaN).
	Layers []LayerStats
}

// Evaluate runs the model over every example of d and returns the mean loss,
// the accuracy and the per-layer activation statistics.
func (m *Model) Evaluate(d Dataset) (Evaluation, error) {
	if err := checkDataset("evaluation", d, m.cfg.Inputs, m.cfg.Outputs); err != nil {
		return Evaluation{}, err
	}
	loss, acc, layers := m.evaluate(d, true)
	for i := range layers {
		layers[i].GradNorm = math.NaN()
	}
	return Evaluation{Loss: loss, Accuracy: acc, Layers: layers}, nil
}

// layerAcc accumulates the statistics of one layer.
type layerAcc struct {
	alive     []bool
	sum, sum2 float64
	saturated int64
	linear    int64
	count     int64
}

// evaluate computes the mean loss and the accuracy over d, and with stats
// the per-layer statistics.
func (m *Model) evaluate(d Dataset, stats bool) (loss, acc float64, layers []LayerStats) {
	n := d.Len()
	const chunk = 256
	ws := m.newWorkspace(min(chunk, n))
	in, out := m.cfg.Inputs, m.cfg.Outputs
	var accs []layerAcc
	if stats {
		accs = make([]layerAcc, len(m.layers))
		for i, l := range m.layers {
			accs[i].alive = make([]bool, l.spec.Units)
		}
	}
	var sum float64
	var correct int
	var slopes []float32 // f'(y) of a layer's outputs
	for r0 := 0; r0 < n; r0 += chunk {
		rows := min(chunk, n-r0)
		for r := 0; r < rows; r++ {
			d.Example(r0+r, ws.x[r*in:(r+1)*in], ws.t[r*out:(r+1)*out])
		}
		m.forward(ws, rows)
		s, c := m.lossGrad(ws, rows, false)
		sum += s
		correct += c
		for i := range accs {
			y := ws.y[i][:rows*m.layers[i].spec.Units]
			accs[i].add(y, m.layers[i].spec.Units, m.satAct(i))
			if act, ok := m.linearAct(i); ok {
				accs[i].addLinear(y, act, &slopes)
			}
		}
	}
	loss = sum / float64(n)
	acc = float64(correct) / float64(n)
	if m.cfg.Head == LinearMSE {
		acc = math.NaN()
	}
	if !stats {
		return loss, acc, nil
	}
	layers = m.emptyStats()
	for i, a := range accs {
		ls := &layers[i]
		dead := 0
		for _, al := range a.alive {
			if !al {
				dead++
			}
		}
		ls.Dead = float64(dead) / float64(len(a.alive))
		ls.Mean = a.sum / float64(a.count)
		ls.Std = math.Sqrt(max(0, a.sum2/float64(a.count)-ls.Mean*ls.Mean))
		switch m.satAct(i).Func {
		case kernels.Sigmoid, kernels.Tanh, kernels.ScaledSigmoid, kernels.ScaledTanh:
			ls.Saturated = float64(a.saturated) / float64(a.count)
		}
		if _, ok := m.linearAct(i); ok {
			ls.Linear = float64(a.linear) / float64(a.count)
		}
	}
	return loss, acc, layers
}

// satAct returns the activation whose saturation layer i reports.
func (m *Model) satAct(i int) kernels.Activation {
	l := m.layers[i]
	if l.spec.maxout() {
		return kernels.Activation{}
	}
	return l.spec.Act
}

// linearAct returns the activation of layer i whose linear region it
// reports, and false for a maxout layer (whose pieces are linear) and the
// output layer of a softmax or MSE head (no activation).
func (m *Model) linearAct(i int) (kernels.Activation, bool) {
	l := m.layers[i]
	if l.spec.maxout() || l.spec.Act.Func == kernels.Identity {
		return kernels.Activation{}, false
	}
	return l.spec.Act, true
}

// MaxSlope returns the largest value of the derivative of the activation a
// over its inputs: 1 for ReLU, max(1, Alpha) for LeakyReLU and ELU, 1/4
// for the sigmoid and Slope/4 for the scaled one, 1 for tanh and Gain·Slope
// for the scaled one.
func MaxSlope(a kernels.Activation) float64 {
	p := a.Params()
	switch a.Func {
	case kernels.LeakyReLU, kernels.ELU:
		return max(1, float64(a.Alpha))
	case kernels.Sigmoid:
		return 0.25
	case kernels.ScaledSigmoid:
		return float64(p[0]) / 4
	case kernels.ScaledTanh:
		return float64(p[0]) * float64(p[1])
	}
	return 1
}

// addLinear counts the outputs y of a layer with activation act (ok false:
// none) inside its linear region, where f' >= MaxSlope/2; f'(y) is computed
// by kernels.Backward into slopes, grown as needed.
func (a *layerAcc) addLinear(y []float32, act kernels.Activation, slopes *[]float32) {
	if len(*slopes) < 2*len(y) {
		*slopes = make([]float32, 2*len(y))
	}
	ones, d := (*slopes)[:len(y)], (*slopes)[len(y):2*len(y)]
	for i := range ones {
		ones[i] = 1
	}
	kernels.Backward(act, d, ones, y)
	half := float32(MaxSlope(act) / 2)
	for _, v := range d {
		if v >= half {
			a.linear++
		}
	}
}

// add accumulates the outputs y (rows×units) of a layer with activation act.
func (a *layerAcc) add(y []float32, units int, act kernels.Activation) {
	gain := float32(1)
	if act.Func == kernels.ScaledTanh {
		gain = act.Params()[0]
	}
	for r := 0; r+units <= len(y); r += units {
		row := y[r : r+units]
		for j, v := range row {
			if v > 0 {
				a.alive[j] = true
			}
			a.sum += float64(v)
			a.sum2 += float64(v) * float64(v)
			switch act.Func {
			case kernels.Sigmoid, kernels.ScaledSigmoid:
				if v < 0.01 || v > 0.99 {
					a.saturated++
				}
			case kernels.Tanh, kernels.ScaledTanh:
				if v < -0.98*gain || v > 0.98*gain {
					a.saturated++
				}
			}
		}
		a.count += int64(units)
	}
}

// emptyStats returns named statistics filled with NaN.
func (m *Model) emptyStats() []LayerStats {
	s := make([]LayerStats, len(m.layers))
	nan := math.NaN()
	for i := range s {
		s[i] = LayerStats{Name: m.layerName(i), Dead: nan, Saturated: nan, Linear: nan, Mean: nan, Std: nan, GradNorm: nan}
	}
	return s
}
