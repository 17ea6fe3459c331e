package dataset

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"testing"
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
