package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/actfuse/actfuse/internal/cputime"

	"github.com/actfuse/actfuse/kernels"
)

// mnistModel is the reference configuration: 784→512→512→10 ReLU, softmax.
func mnistModel() Config {
	return Config{Inputs: 784, Hidden: []Layer{Dense(512, relu), Dense(512, relu)}, Outputs: 10, Seed: 1}
}

func mnistTraining() TrainConfig {
	return TrainConfig{BatchSize: 128, Epochs: 5, Seed: 1,
		Optimizer: Optimizer{Method: SGD, LR: 0.1, Momentum: 0.9}, Schedule: Cosine(5 * 469)}
}

// BenchmarkTrainStep measures one training step (forward, backward and
// SGD-momentum update, batch 128) of the 784→512→512→10 ReLU model, with
// every implementation of the kernels and 1 and 2 threads, and reports
// samples/s and the implied time of a 60,000-example epoch.
//
//	go test ./nn -run '^$' -bench TrainStep -benchtime 50x
func BenchmarkTrainStep(b *testing.B) {
	defer kernels.Use(kernels.ISA())
	defer kernels.SetThreads(0)
	m, err := New(mnistModel())
	if err != nil {
		b.Fatal(err)
	}
	tr, err := NewTrainer(m, mnistTraining())
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	x, tg := randomBatch(r, m.cfg, 128)
	for i := range x {
		x[i] = (x[i] + 1) / 2 // pixel-like values in [0, 1]
	}
	for _, impl := range kernels.Implementations() {
		for _, th := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", impl, th), func(b *testing.B) {
				if err := kernels.Use(impl); err != nil {
					b.Fatal(err)
				}
				kernels.SetThreads(th)
				b.ReportAllocs()
				b.ResetTimer()
				cpu0 := processCPU()
				for range b.N {
					if _, err := tr.Step(x, tg, 128); err != nil {
						b.Fatal(err)
					}
				}
				cpu := (processCPU() - cpu0).Seconds() / float64(b.N)
				s := b.Elapsed().Seconds() / float64(b.N)
				b.ReportMetric(128/s, "samples/s")
				b.ReportMetric(s*60000/128, "s/epoch")
				// CPU seconds per epoch (all threads): on a shared machine
				// this is closer to the unloaded cost than the wall time.
				b.ReportMetric(cpu*60000/128, "cpu-s/epoch")
			})
		}
	}
}

// BenchmarkStepGemms measures, for the reference model at batch 128, the
// three kinds of Gemm call a training step makes, in GFLOP/s: the fused
// forward (X·W + b, ReLU), the weight gradient (Xᵀ·dZ) and the propagated
// gradient with the derivative epilogue ((dZ·Wᵀ) ⊙ f'(Y)).
//
//	go test ./nn -run '^$' -bench StepGemms -cpu 1,2
//
// (the kernels use GOMAXPROCS threads unless kernels.SetThreads says otherwise).
func BenchmarkStepGemms(b *testing.B) {
	const batch = 128
	dims := [][2]int{{784, 512}, {512, 512}, {512, 10}}
	r := rand.New(rand.NewPCG(5, 5))
	fill := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(r.NormFloat64())
		}
		return s
	}
	for _, d := range dims {
		in, out := d[0], d[1]
		x, w, bias, y := fill(batch*in), fill(in*out), fill(out), fill(batch*out)
		dz, gw, dx, yPrev := fill(batch*out), fill(in*out), fill(batch*in), fill(batch*in)
		calls := []struct {
			name string
			f    func()
		}{
			{"forward", func() {
				kernels.Gemm(false, false, batch, out, in, x, in, w, out, y, out, &kernels.Epilogue{Bias: bias, Act: relu})
			}},
			{"dW", func() { kernels.Gemm(true, false, in, out, batch, x, in, dz, out, gw, out, &kernels.Epilogue{}) }},
			{"dX", func() {
				kernels.Gemm(false, true, batch, in, out, dz, out, w, out, dx, in, &kernels.Epilogue{Y: yPrev, LdY: in, Act: relu})
			}},
		}
		for _, c := range calls {
			b.Run(fmt.Sprintf("%dx%d/%s", in, out, c.name), func(b *testing.B) {
				cpu0 := processCPU()
				for range b.N {
					c.f()
				}
				flops := 2 * float64(batch*in*out) * float64(b.N)
				b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				if cpu := (processCPU() - cpu0).Seconds(); cpu > 0 {
					// Per CPU second (all threads): on a shared machine this
					// is closer to the unloaded per-core rate.
					b.ReportMetric(flops/cpu/1e9, "GFLOP/cpu-s")
				}
			})
		}
	}
}

// processCPU returns the process's CPU time, 0 where the platform does not
// tell.
func processCPU() time.Duration {
	d, _ := cputime.Process()
	return d
}
