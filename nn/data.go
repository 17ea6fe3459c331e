package nn

import "fmt"

// Dataset is a finite indexed collection of examples.
type Dataset interface {
	// Len returns the number of examples.
	Len() int
	// Shape returns the number of input features and the number of target
	// values of every example.
	Shape() (inputs, targets int)
	// Example writes the features of example i into x and its target into
	// t (len(x) and len(t) are as Shape says). For classification the
	// target is the one-hot vector of the class.
	Example(i int, x, t []float32)
}

// InMemory is a Dataset held in memory: N examples of In features each in X
// (row-major, N×In), with either class labels (Labels, targets are one-hot
// vectors of Out classes) or target vectors (Y, N×Out).
type InMemory struct {
	In, Out int       // features per example; classes or target width
	X       []float32 // N×In inputs, row-major
	Labels  []uint8   // class of each example, or nil
	Y       []float32 // targets when Labels is nil
}

// Len returns the number of examples.
func (d *InMemory) Len() int {
	if d.In == 0 {
		return 0
	}
	return len(d.X) / d.In
}

// Shape returns the number of features and targets.
func (d *InMemory) Shape() (int, int) { return d.In, d.Out }

// Example copies example i into x and t.
func (d *InMemory) Example(i int, x, t []float32) {
	copy(x[:d.In], d.X[i*d.In:(i+1)*d.In])
	if d.Labels != nil {
		clear(t[:d.Out])
		t[d.Labels[i]] = 1
		return
	}
	copy(t[:d.Out], d.Y[i*d.Out:(i+1)*d.Out])
}

// Validate checks that the fields describe a consistent dataset.
func (d *InMemory) Validate() error {
	if d.In < 1 || d.Out < 1 {
		return fmt.Errorf("nn: InMemory: In = %d, Out = %d, want both >= 1", d.In, d.Out)
	}
	if len(d.X)%d.In != 0 {
		return fmt.Errorf("nn: InMemory: len(X) = %d is not a multiple of In = %d", len(d.X), d.In)
	}
	n := len(d.X) / d.In
	if d.Labels != nil {
		if len(d.Labels) != n {
			return fmt.Errorf("nn: InMemory: %d labels for %d examples", len(d.Labels), n)
		}
		for i, l := range d.Labels {
			if int(l) >= d.Out {
				return fmt.Errorf("nn: InMemory: label %d of example %d is not below Out = %d", l, i, d.Out)
			}
		}
		return nil
	}
	if len(d.Y) != n*d.Out {
		return fmt.Errorf("nn: InMemory: len(Y) = %d, want %d examples × %d targets", len(d.Y), n, d.Out)
	}
	return nil
}

// checkDataset verifies that d fits a model with the given shape.
func checkDataset(name string, d Dataset, inputs, outputs int) error {
	in, out := d.Shape()
	if in != inputs || out != outputs {
		return fmt.Errorf("nn: %s dataset has %d features and %d targets, the model %d inputs and %d outputs", name, in, out, inputs, outputs)
	}
	if d.Len() < 1 {
		return fmt.Errorf("nn: %s dataset is empty", name)
	}
	if v, ok := d.(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return fmt.Errorf("%s dataset: %w", name, err)
		}
	}
	return nil
}
