package bench

import (
	"fmt"
	"sync"

	"github.com/actfuse/actfuse/nn"
	"github.com/actfuse/actfuse/nn/dataset"
)

var mnistCache struct {
	sync.Mutex
	dir         string
	loaded      bool
	train, test *nn.InMemory
}

// MNIST returns the first nTrain training and nTest test examples of MNIST
// read from dir ("" finds the data module in the module cache, see
// dataset.LoadMNIST); 0 means all. The files are read once per process.
func MNIST(dir string, nTrain, nTest int) (train, test *nn.InMemory, err error) {
	mnistCache.Lock()
	defer mnistCache.Unlock()
	if !mnistCache.loaded || mnistCache.dir != dir {
		tr, te, err := dataset.LoadMNIST(dir)
		if err != nil {
			return nil, nil, fmt.Errorf("bench: loading MNIST: %w", err)
		}
		mnistCache.train, mnistCache.test, mnistCache.dir, mnistCache.loaded = tr, te, dir, true
	}
	return subset(mnistCache.train, nTrain), subset(mnistCache.test, nTest), nil
}

// subset returns the first n examples of d (all when n is 0 or too large).
func subset(d *nn.InMemory, n int) *nn.InMemory {
	if n <= 0 || n >= d.Len() {
		return d
	}
	s := *d
	s.X = d.X[:n*d.In]
	if d.Labels != nil {
		s.Labels = d.Labels[:n]
	} else {
		s.Y = d.Y[:n*d.Out]
	}
	return &s
}
