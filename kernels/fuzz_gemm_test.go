package kernels_test

import (
	"math/rand/v2"
	"testing"

	"github.com/actfuse/actfuse/fallback"
	"github.com/actfuse/actfuse/internal/ref"
	"github.com/actfuse/actfuse/kernels"
)

// FuzzGemm runs random Gemm calls (shape, transposes, padding of every
// leading dimension, epilogue, magnitude of the entries) on every
// implementation and checks each against the float64 reference bound and the
// guard values around and inside C. Run it with
//
//	go test ./kernels -run '^$' -fuzz FuzzGemm -fuzztime 1m
//
// Without -fuzz, go test runs the seed corpus below.
func FuzzGemm(f *testing.F) {
	f.Add(uint8(0), uint8(1), uint8(1), uint8(1), uint16(0), uint8(0), uint8(0), uint64(1))
	f.Add(uint8(3), uint8(7), uint8(17), uint8(5), uint16(0x1234), uint8(4), uint8(7), uint64(2))
	f.Add(uint8(1), uint8(13), uint8(35), uint8(70), uint16(0xffff), uint8(5), uint8(9), uint64(3))
	f.Add(uint8(2), uint8(64), uint8(48), uint8(255), uint16(0x0f0f), uint8(6), uint8(30), uint64(4))
	f.Add(uint8(0), uint8(0), uint8(9), uint8(3), uint16(0), uint8(2), uint8(1), uint64(5))
	f.Add(uint8(1), uint8(29), uint8(33), uint8(40), uint16(0x0123), uint8(7), uint8(5), uint64(6))   // scaled sigmoid, bias, backward
	f.Add(uint8(2), uint8(25), uint8(47), uint8(19), uint16(0x0321), uint8(8), uint8(1), uint64(7))   // LeCun's tanh, bias
	f.Add(uint8(7), uint8(13), uint8(70), uint8(200), uint16(0x0777), uint8(9), uint8(6), uint64(8))  // scaled tanh, backward, accumulate
	f.Add(uint8(0), uint8(50), uint8(70), uint8(200), uint16(0x0042), uint8(6), uint8(3), uint64(9))  // tanh, bias, accumulate: avx512 activates each full tile during the next one's sweep
	f.Add(uint8(0), uint8(21), uint8(10), uint8(150), uint16(0x0155), uint8(3), uint8(3), uint64(10)) // the dot kernels: bias, accumulate
	f.Add(uint8(2), uint8(7), uint8(5), uint8(77), uint16(0x0ab3), uint8(5), uint8(4), uint64(11))    // the dot kernels on a transposed B, backward
	f.Fuzz(func(t *testing.T, tr, m, n, k uint8, pads uint16, act, flags uint8, seed uint64) {
		tc := ref.GemmCase{
			TransA: tr&1 != 0, TransB: tr&2 != 0,
			M: int(m % 80), N: int(n % 80), K: int(k) + int(tr>>2)%4*256, // k up to 1023
			PadA: int(pads & 7), PadB: int(pads >> 3 & 7), PadC: int(pads >> 6 & 7), PadY: int(pads >> 9 & 7),
			Act:        ref.GemmActivations[int(act)%len(ref.GemmActivations)],
			HasBias:    flags&1 != 0,
			Accumulate: flags&2 != 0,
			Backward:   flags&4 != 0,
			Scale:      []float32{1, 1e-3, 1e4, 1e-18}[flags>>3&3],
		}
		prev := kernels.ISA()
		defer kernels.Use(prev)
		for _, name := range kernels.Implementations() {
			if err := kernels.Use(name); err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(seed, uint64(tr)))
			if err := tc.Run(rng, kernels.Gemm); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
		// The fallback itself, directly.
		rng := rand.New(rand.NewPCG(seed, uint64(tr)))
		if err := tc.Run(rng, fallback.Gemm); err != nil {
			t.Errorf("fallback: %v", err)
		}
	})
}
