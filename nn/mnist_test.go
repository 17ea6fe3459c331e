package nn_test

import (
	"flag"
	"testing"
	"time"

	"github.com/actfuse/actfuse/internal/cputime"

	"github.com/actfuse/actfuse/kernels"
	"github.com/actfuse/actfuse/nn"
	"github.com/actfuse/actfuse/nn/dataset"
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

func TestMNIST(t *testing.T) {
	if !*runMNIST {
		t.Skip("run with -mnist")
	}
	train, test, err := dataset.LoadMNIST(*mnistDir)
	if err != nil {
		t.Fatal(err)
	}
	kernels.SetThreads(*mnistThreads)
	defer kernels.SetThreads(0)
	mc := nn.MNISTModel()
	mc.Seed = *mnistSeed
	m, err := nn.New(mc)
	if err != nil {
		t.Fatal(err)
	}
	tc := nn.MNISTTraining()
	tc.Seed = *mnistSeed
	tc.Epochs = *mnistEpochs
	tc.Schedule = nn.Cosine(int64(tc.Epochs) * int64((train.Len()+tc.BatchSize-1)/tc.BatchSize))
	var total time.Duration
	var last nn.EpochStats
	tc.OnEpoch = func(s nn.EpochStats) error {
		total += s.Duration
		last = s
		t.Logf("epoch %d: %.2fs  train loss %.4f acc %.4f  test loss %.4f acc %.4f", s.Epoch, s.Duration.Seconds(),
			s.TrainLoss, s.TrainAccuracy, s.TestLoss, s.TestAccuracy)
		for _, l := range s.Layers {
			t.Logf("    %-28s dead %.3f  mean %.3f  std %.3f  |dW| %.4f", l.Name, l.Dead, l.Mean, l.Std, l.GradNorm)
		}
		return nil
	}
	tr, err := nn.NewTrainer(m, tc)
	if err != nil {
		t.Fatal(err)
	}
	cpu0, _ := cputime.Process()
	if err := tr.Fit(train, test); err != nil {
		t.Fatal(err)
	}
	cpu1, _ := cputime.Process()
	cpu := cpu1 - cpu0
	t.Logf("kernels %s, %d thread(s): %.2fs per epoch on average (wall, evaluation excluded); process CPU time %.2fs per epoch (evaluation included); final weights CRC-32C %08x",
		kernels.ISA(), kernels.Threads(), total.Seconds()/float64(tc.Epochs), cpu.Seconds()/float64(tc.Epochs), nn.ParamsCRC(m))
	if tc.Epochs == 5 && last.TestAccuracy < 0.98 {
		t.Errorf("test accuracy %.4f after 5 epochs, want ≥ 0.98", last.TestAccuracy)
	}
}
