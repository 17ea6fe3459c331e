package nn

import (
	"flag"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/actfuse/actfuse/kernels"
)

// The full MNIST run is behind a flag (it trains for several seconds to
// minutes depending on the kernels):
//
//	go test ./nn -run TestMNIST -mnist -v [-mnist.threads 2] [-mnist.dir DIR]
var (
	runMNIST     = flag.Bool("mnist", false, "train 784→512→512→10 ReLU on MNIST for 5 epochs and require ≥ 98% test accuracy")
	mnistThreads = flag.Int("mnist.threads", 1, "kernel threads for the MNIST run")
	mnistDir     = flag.String("mnist.dir", "", "directory of the MNIST IDX files (default: the module cache)")
	mnistEpochs  = flag.Int("mnist.epochs", 5, "epochs of the MNIST run")
	mnistSeed    = flag.Uint64("mnist.seed", 1, "seed of the initial weights, the shuffling and the noise")
)

// mnistModel is the reference configuration: 784→512→512→10 ReLU, softmax.
func mnistModel() Config {
	return Config{Inputs: 784, Hidden: []Layer{Dense(512, relu), Dense(512, relu)}, Outputs: 10, Seed: 1}
}

func mnistTraining() TrainConfig {
	return TrainConfig{BatchSize: 128, Epochs: 5, Seed: 1,
		Optimizer: Optimizer{Method: SGD, LR: 0.1, Momentum: 0.9}, Schedule: Cosine(5 * 469)}
}

func TestMNIST(t *testing.T) {
	if !*runMNIST {
		t.Skip("run with -mnist")
	}
	train, test, err := LoadMNIST(*mnistDir)
	if err != nil {
		t.Fatal(err)
	}
	kernels.SetThreads(*mnistThreads)
	defer kernels.SetThreads(0)
	mc := mnistModel()
	mc.Seed = *mnistSeed
	m, err := New(mc)
	if err != nil {
		t.Fatal(err)
	}
	tc := mnistTraining()
	tc.Seed = *mnistSeed
	tc.Epochs = *mnistEpochs
	tc.Schedule = Cosine(int64(tc.Epochs) * int64((train.Len()+tc.BatchSize-1)/tc.BatchSize))
	var total time.Duration
	var last EpochStats
	tc.OnEpoch = func(s EpochStats) error {
		total += s.Duration
		last = s
		t.Logf("epoch %d: %.2fs  train loss %.4f acc %.4f  test loss %.4f acc %.4f", s.Epoch, s.Duration.Seconds(),
			s.TrainLoss, s.TrainAccuracy, s.TestLoss, s.TestAccuracy)
		for _, l := range s.Layers {
			t.Logf("    %-28s dead %.3f  mean %.3f  std %.3f  |dW| %.4f", l.Name, l.Dead, l.Mean, l.Std, l.GradNorm)
		}
		return nil
	}
	tr, err := NewTrainer(m, tc)
	if err != nil {
		t.Fatal(err)
	}
	cpu0 := cpuTime()
	if err := tr.Fit(train, test); err != nil {
		t.Fatal(err)
	}
	cpu := cpuTime() - cpu0
	t.Logf("kernels %s, %d thread(s): %.2fs per epoch on average (wall, evaluation excluded); process CPU time %.2fs per epoch (evaluation included); final weights CRC-32C %08x",
		kernels.ISA(), kernels.Threads(), total.Seconds()/float64(tc.Epochs), cpu.Seconds()/float64(tc.Epochs), crc32.Checksum(paramsBytes(m), crcTable))
	if tc.Epochs == 5 && last.TestAccuracy < 0.98 {
		t.Errorf("test accuracy %.4f after 5 epochs, want ≥ 0.98", last.TestAccuracy)
	}
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
				cpu0 := cpuTime()
				for range b.N {
					if _, err := tr.Step(x, tg, 128); err != nil {
						b.Fatal(err)
					}
				}
				cpu := (cpuTime() - cpu0).Seconds() / float64(b.N)
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
				cpu0 := cpuTime()
				for range b.N {
					c.f()
				}
				flops := 2 * float64(batch*in*out) * float64(b.N)
				b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				if cpu := (cpuTime() - cpu0).Seconds(); cpu > 0 {
					// Per CPU second (all threads): on a shared machine this
					// is closer to the unloaded per-core rate.
					b.ReportMetric(flops/cpu/1e9, "GFLOP/cpu-s")
				}
			})
		}
	}
}
