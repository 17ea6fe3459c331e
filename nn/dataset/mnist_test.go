package dataset

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMNISTFromIDXBad(t *testing.T) {
	img := &IDX{Type: 8, Dims: []int{2, 2, 2}, Data: make([]byte, 8)}
	for name, c := range map[string][2]*IDX{
		"label count": {img, {Type: 8, Dims: []int{3}, Data: make([]byte, 3)}},
		"label value": {img, {Type: 8, Dims: []int{2}, Data: []byte{1, 10}}},
		"image dims":  {{Type: 8, Dims: []int{2, 4}, Data: make([]byte, 8)}, {Type: 8, Dims: []int{2}, Data: make([]byte, 2)}},
		"label type":  {img, {Type: 0x0C, Dims: []int{2}, Data: make([]byte, 8)}},
	} {
		if _, err := mnistFromIDX(c[0], c[1]); !errors.Is(err, errMNIST) {
			t.Errorf("%s: %v", name, err)
		}
	}
	d, err := mnistFromIDX(img, &IDX{Type: 8, Dims: []int{2}, Data: []byte{3, 9}})
	if err != nil || d.Len() != 2 || d.In != 4 || d.Validate() != nil {
		t.Errorf("good set: %+v, %v", d, err)
	}
}

func TestLoadMNISTDir(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := LoadMNIST(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("empty directory: %v", err)
	}
	// A tiny, uncompressed MNIST-shaped set with a corrupt test label file.
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("train-images-idx3-ubyte", idxBytes(8, []uint32{2, 2, 2}, []byte{0, 255, 0, 0, 1, 2, 3, 4}))
	write("train-labels-idx1-ubyte.gz", gz(idxBytes(8, []uint32{2}, []byte{7, 1})))
	write("t10k-images-idx3-ubyte", idxBytes(8, []uint32{1, 2, 2}, []byte{0, 0, 0, 0}))
	write("t10k-labels-idx1-ubyte", idxBytes(8, []uint32{1}, nil))
	if _, _, err := LoadMNIST(dir); !errors.Is(err, ErrBadIDX) || !strings.Contains(err.Error(), "t10k-labels") {
		t.Errorf("truncated label file: %v", err)
	}
	write("t10k-labels-idx1-ubyte", idxBytes(8, []uint32{1}, []byte{5}))
	train, test, err := LoadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 2 || test.Len() != 1 || train.X[1] != 1 || train.Labels[0] != 7 || test.Labels[0] != 5 {
		t.Errorf("loaded %+v %+v", train, test)
	}
}
