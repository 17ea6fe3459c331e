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
			accs[i].add(ws.y[i][:rows*m.layers[i].spec.Units], m.layers[i].spec.Units, m.satAct(i))
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
		if f := m.satAct(i); f == kernels.Sigmoid || f == kernels.Tanh {
			ls.Saturated = float64(a.saturated) / float64(a.count)
		}
	}
	return loss, acc, layers
}

// satAct returns the activation whose saturation layer i reports.
func (m *Model) satAct(i int) kernels.Func {
	l := m.layers[i]
	if l.spec.maxout() {
		return kernels.Identity
	}
	return l.spec.Act.Func
}

// add accumulates the outputs y (rows×units) of a layer with activation f.
func (a *layerAcc) add(y []float32, units int, f kernels.Func) {
	for r := 0; r+units <= len(y); r += units {
		row := y[r : r+units]
		for j, v := range row {
			if v > 0 {
				a.alive[j] = true
			}
			a.sum += float64(v)
			a.sum2 += float64(v) * float64(v)
			switch f {
			case kernels.Sigmoid:
				if v < 0.01 || v > 0.99 {
					a.saturated++
				}
			case kernels.Tanh:
				if v < -0.98 || v > 0.98 {
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
		s[i] = LayerStats{Name: m.layerName(i), Dead: nan, Saturated: nan, Mean: nan, Std: nan, GradNorm: nan}
	}
	return s
}
