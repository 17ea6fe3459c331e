package kernels_test

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"testing"

	"github.com/actfuse/actfuse/kernels"
)

// goldenForward are FNV-64a hashes of Forward's outputs over the bit
// patterns 0, 4093, 2·4093, ... (NaN results as one canonical NaN), under
// every implementation: the plain forms as their algorithms are documented,
// which the scaled forms and their coefficients must not change. A change
// of an algorithm changes these on purpose, with its new accuracy figures.
var goldenForward = []struct {
	a    kernels.Activation
	hash uint64
}{
	{kernels.Activation{Func: kernels.Sigmoid}, 0x886800f4bf51daa1},
	{kernels.Activation{Func: kernels.Tanh}, 0xd92af1c4b169da4e},
	{kernels.Activation{Func: kernels.ELU, Alpha: 1}, 0x6b325df11f70e62d},
	{kernels.Activation{Func: kernels.LeakyReLU, Alpha: 0.01}, 0x6dae05afa0bd77f7},
}

// goldenScaled are the hashes of scaled forms, as goldenForward's.
var goldenScaled = []struct {
	a    kernels.Activation
	hash uint64
}{
	{kernels.LeCunTanh, 0x1bc5a684083f4f0d},
	{kernels.Activation{Func: kernels.ScaledSigmoid, Slope: 4}, 0x55f565a7e3b53c12},
}

func forwardHash(a kernels.Activation) uint64 {
	h := fnv.New64a()
	x := make([]float32, 0, 1<<14)
	y := make([]float32, cap(x))
	var buf [4]byte
	flush := func() {
		kernels.Forward(a, y[:len(x)], x)
		for _, v := range y[:len(x)] {
			b := math.Float32bits(v)
			if v != v {
				b = 0x7fc00000
			}
			binary.LittleEndian.PutUint32(buf[:], b)
			h.Write(buf[:])
		}
		x = x[:0]
	}
	for b := uint64(0); b < 1<<32; b += accuracyStride {
		if x = append(x, math.Float32frombits(uint32(b))); len(x) == cap(x) {
			flush()
		}
	}
	flush()
	return h.Sum64()
}

// TestPlainFormsUnchanged checks the plain forms against their golden
// hashes, that the coefficients of the scaled forms (Gain, Slope) do not
// change them, and two scaled forms against theirs.
func TestPlainFormsUnchanged(t *testing.T) {
	eachImpl(t, func(t *testing.T) {
		for _, g := range goldenForward {
			if h := forwardHash(g.a); h != g.hash {
				t.Errorf("%v: outputs hash to %#x, want %#x", g.a, h, g.hash)
			}
			b := g.a
			b.Gain, b.Slope = 3, 0.5
			if h := forwardHash(b); h != g.hash {
				t.Errorf("%v with Gain 3 and Slope 0.5: outputs hash to %#x, want %#x", g.a, h, g.hash)
			}
		}
		for _, g := range goldenScaled {
			if h := forwardHash(g.a); h != g.hash {
				t.Errorf("%v: outputs hash to %#x, want %#x", g.a, h, g.hash)
			}
		}
	})
}
