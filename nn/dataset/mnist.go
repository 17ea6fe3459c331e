package dataset

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/actfuse/actfuse/nn"
)

// mnistFiles are the base names of the four MNIST files; each may be stored
// with or without a .gz suffix.
var mnistFiles = [4]string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}

// findMNISTFile returns the path of name or name.gz in dir.
func findMNISTFile(dir, name string) (string, error) {
	for _, n := range []string{name + ".gz", name} {
		p := filepath.Join(dir, n)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("dataset: %s(.gz) not found in %s: %w", name, dir, os.ErrNotExist)
}

// LoadMNIST reads the MNIST training and test sets from dir, or, when dir is
// empty, from the module cache (see MNISTDir). Pixels are scaled to [0, 1];
// the targets are the 10 classes.
func LoadMNIST(dir string) (train, test *nn.InMemory, err error) {
	if dir == "" {
		if dir, err = MNISTDir(); err != nil {
			return nil, nil, err
		}
	}
	var sets [2]*nn.InMemory
	for i := range sets {
		if sets[i], err = loadMNISTPair(dir, mnistFiles[2*i], mnistFiles[2*i+1]); err != nil {
			return nil, nil, err
		}
	}
	return sets[0], sets[1], nil
}

// mnistLimit bounds the size of one MNIST file's data (the training images
// are 47 MB).
const mnistLimit = 256 << 20

// loadMNISTPair reads one MNIST image file and its label file.
func loadMNISTPair(dir, images, labels string) (*nn.InMemory, error) {
	ip, err := findMNISTFile(dir, images)
	if err != nil {
		return nil, err
	}
	lp, err := findMNISTFile(dir, labels)
	if err != nil {
		return nil, err
	}
	im, err := ReadIDXFile(ip, mnistLimit)
	if err != nil {
		return nil, err
	}
	lb, err := ReadIDXFile(lp, mnistLimit)
	if err != nil {
		return nil, err
	}
	return mnistFromIDX(im, lb)
}

var errMNIST = errors.New("not an MNIST file")

// mnistFromIDX checks that im holds n images of unsigned bytes and lb n
// labels below 10, and converts them.
func mnistFromIDX(im, lb *IDX) (*nn.InMemory, error) {
	if im.Type != 0x08 || len(im.Dims) != 3 {
		return nil, fmt.Errorf("dataset: MNIST images: type 0x%02x with dimensions %v, want unsigned bytes n×rows×cols: %w", im.Type, im.Dims, errMNIST)
	}
	if lb.Type != 0x08 || len(lb.Dims) != 1 {
		return nil, fmt.Errorf("dataset: MNIST labels: type 0x%02x with dimensions %v, want n unsigned bytes: %w", lb.Type, lb.Dims, errMNIST)
	}
	n, px := im.Dims[0], im.Dims[1]*im.Dims[2]
	if n != lb.Dims[0] {
		return nil, fmt.Errorf("dataset: MNIST: %d images but %d labels: %w", n, lb.Dims[0], errMNIST)
	}
	if n == 0 || px == 0 {
		return nil, fmt.Errorf("dataset: MNIST: empty set (%v images): %w", im.Dims, errMNIST)
	}
	for i, l := range lb.Data {
		if l > 9 {
			return nil, fmt.Errorf("dataset: MNIST: label %d of example %d is not a digit: %w", l, i, errMNIST)
		}
	}
	d := &nn.InMemory{In: px, Out: 10, X: make([]float32, len(im.Data)), Labels: lb.Data}
	for i, v := range im.Data {
		d.X[i] = float32(v) / 255
	}
	return d, nil
}
