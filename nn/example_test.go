package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/actfuse/actfuse/kernels"
	"github.com/actfuse/actfuse/nn"
)

// Example trains a small classifier on a disc and the ring around it:
// points inside radius 1 are class 0, points between radius 1 and 2 class 1.
func Example() {
	r := rand.New(rand.NewPCG(1, 2))
	ring := func(n int) *nn.InMemory {
		d := &nn.InMemory{In: 2, Out: 2, X: make([]float32, 2*n), Labels: make([]uint8, n)}
		for i := range n {
			rad, phi := 2*math.Sqrt(r.Float64()), 2*math.Pi*r.Float64()
			d.X[2*i], d.X[2*i+1] = float32(rad*math.Cos(phi)), float32(rad*math.Sin(phi))
			if rad > 1 {
				d.Labels[i] = 1
			}
		}
		return d
	}
	train, test := ring(2000), ring(500)

	model, err := nn.New(nn.Config{
		Inputs:   2,
		Hidden:   []nn.Layer{nn.Dense(32, kernels.Activation{Func: kernels.ReLU}), nn.Maxout(16, 2)},
		Outputs:  2,
		Head:     nn.SoftmaxCrossEntropy,
		BiasInit: 0.1,
		Seed:     1,
	})
	if err != nil {
		panic(err)
	}
	var last nn.EpochStats
	trainer, err := nn.NewTrainer(model, nn.TrainConfig{
		BatchSize: 32,
		Epochs:    20,
		Optimizer: nn.Optimizer{Method: nn.Adam, LR: 0.01},
		Schedule:  nn.StepDecay(0.5, 10),
		Seed:      1,
		OnEpoch:   func(s nn.EpochStats) error { last = s; return nil },
	})
	if err != nil {
		panic(err)
	}
	if err := trainer.Fit(train, test); err != nil {
		panic(err)
	}
	fmt.Printf("epochs: %d, steps: %d\n", last.Epoch, last.Steps)
	fmt.Printf("test accuracy above 95%%: %v\n", last.TestAccuracy > 0.95)
	fmt.Printf("dead units in the first layer below 50%%: %v\n", last.Layers[0].Dead < 0.5)
	// Output:
	// epochs: 20, steps: 1260
	// test accuracy above 95%: true
	// dead units in the first layer below 50%: true
}
