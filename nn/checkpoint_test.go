package nn

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"github.com/actfuse/actfuse/kernels"
)

// TestCheckpointCoefficients checks that the coefficients of the scaled
// activations survive Save and Load, and with them the outputs, bit for bit.
func TestCheckpointCoefficients(t *testing.T) {
	hidden := []Layer{Dense(5, kernels.LeCunTanh), Dense(4, kernels.Activation{Func: kernels.ScaledSigmoid, Slope: 0.5}),
		Dense(3, kernels.Activation{Func: kernels.ScaledTanh, Gain: 2, Slope: 0.25})}
	m, err := New(Config{Inputs: 3, Hidden: hidden, Outputs: 2, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.ckpt")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range got.cfg.Hidden {
		if l.Act != hidden[i].Act {
			t.Errorf("layer %d: %v after Load, saved %v", i, l.Act, hidden[i].Act)
		}
	}
	d := &InMemory{In: 3, Out: 2, X: []float32{0.5, -1, 2, 1, 1, -3}, Labels: []uint8{0, 1}}
	a, _ := m.Evaluate(d)
	b, _ := got.Evaluate(d)
	if a.Loss != b.Loss {
		t.Errorf("loss %v after Load, %v before", b.Loss, a.Loss)
	}
}

// TestCheckpointVersion1 checks that a file of format version 1, whose
// layers have no Gain and Slope, still loads.
func TestCheckpointVersion1(t *testing.T) {
	m, err := New(Config{Inputs: 3, Hidden: []Layer{Dense(4, relu), Dense(3, kernels.Activation{Func: kernels.ELU, Alpha: 0.5})}, Outputs: 2, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	v2 := m.encode(nil, nil)
	// Version 1: the same payload without the 8 bytes of Gain and Slope
	// after each hidden layer's Alpha (model header: 4+4+1+1+4+8+4 bytes,
	// then per layer units, function, alpha, gain, slope, pieces).
	p := v2[ckptHeader : len(v2)-ckptTrailer]
	var v1 []byte
	off := 4 + 4 + 1 + 1 + 4 + 8 + 4
	v1 = append(v1, p[:off]...)
	for range m.cfg.Hidden {
		v1 = append(v1, p[off:off+9]...)     // units, function, alpha
		v1 = append(v1, p[off+17:off+21]...) // pieces
		off += 21
	}
	v1 = append(v1, p[off:]...)
	var file []byte
	file = append(file, v2[:8]...)
	file = binary.LittleEndian.AppendUint32(file, 1)
	file = binary.LittleEndian.AppendUint64(file, uint64(len(v1)))
	file = append(file, v1...)
	file = binary.LittleEndian.AppendUint32(file, crc32.Checksum(file, crcTable))
	path := filepath.Join(t.TempDir(), "v1.ckpt")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range got.cfg.Hidden {
		if l != m.cfg.Hidden[i] {
			t.Errorf("layer %d: %v from the version 1 file, want %v", i, l, m.cfg.Hidden[i])
		}
	}
	for i := range m.layers {
		w, _ := m.Params(i)
		gw, _ := got.Params(i)
		for j := range w {
			if w[j] != gw[j] {
				t.Fatalf("layer %d: weight %d is %v, want %v", i, j, gw[j], w[j])
			}
		}
	}
}
