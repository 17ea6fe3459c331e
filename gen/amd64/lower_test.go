package main

import (
	"testing"

	"github.com/actfuse/actfuse/internal/desc"
)

// mulMerge builds Select(x < 0, x·y, y), the product read only there.
func mulMerge(b *desc.Builder) (sel, prod, mask desc.Value) {
	x, y := b.In(0), b.In(1)
	m := b.Less(x, b.F(0))
	p := b.Mul(x, y)
	return b.Select(m, p, y), p, m
}

// TestFusions checks which operations the lowering emits inside their
// Select as masked instructions, and which it leaves alone.
func TestFusions(t *testing.T) {
	type want struct {
		prod   int  // the fused producer of the Select, or -1
		negate bool // the Select's comparison is negated
	}
	cases := []struct {
		name  string
		build func(b *desc.Builder) (sel, prod, mask desc.Value)
		avx2  bool
		want  want
	}{
		{"merge", mulMerge, false, want{prod: 0}},
		{"zero false branch", func(b *desc.Builder) (desc.Value, desc.Value, desc.Value) {
			x, y := b.In(0), b.In(1)
			m := b.SignMask(x)
			p := b.Sub(x, y)
			return b.Select(m, p, b.F(0)), p, m
		}, false, want{prod: 0}},
		{"zero true branch negates", func(b *desc.Builder) (desc.Value, desc.Value, desc.Value) {
			x, y := b.In(0), b.In(1)
			m := b.Less(x, b.F(-87))
			p := b.Add(x, y)
			return b.Select(m, b.F(0), p), p, m
		}, false, want{prod: 0, negate: true}},
		{"zero true branch, sign mask", func(b *desc.Builder) (desc.Value, desc.Value, desc.Value) {
			x, y := b.In(0), b.In(1)
			m := b.SignMask(x)
			p := b.Add(x, y)
			return b.Select(m, b.F(0), p), p, m
		}, false, want{prod: -1}},
		{"producer read twice", func(b *desc.Builder) (desc.Value, desc.Value, desc.Value) {
			x, y := b.In(0), b.In(1)
			m := b.Less(x, b.F(0))
			p := b.Mul(x, y)
			s := b.Select(m, p, y)
			b.Add(s, p)
			return s, p, m
		}, false, want{prod: -1}},
		{"FMA", func(b *desc.Builder) (desc.Value, desc.Value, desc.Value) {
			x, y := b.In(0), b.In(1)
			m := b.Less(x, b.F(0))
			p := b.FMA(x, y, y)
			return b.Select(m, p, y), p, m
		}, false, want{prod: -1}},
		{"min", func(b *desc.Builder) (desc.Value, desc.Value, desc.Value) {
			x, y := b.In(0), b.In(1)
			m := b.Less(x, b.F(0))
			p := b.Min(x, y)
			return b.Select(m, p, x), p, m
		}, false, want{prod: -1}},
		{"AVX2", mulMerge, true, want{prod: -1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := desc.NewBuilder("T", "", []string{"x", "y"}, nil)
			sel, prod, mask := c.build(b)
			p := b.Return(sel)
			s := avx512
			if c.avx2 {
				s = avx2
			}
			fu := newLower(s).fusions(p)
			wantProd := -1
			if c.want.prod == 0 {
				wantProd = int(prod)
			}
			if fu.prod[sel] != wantProd {
				t.Errorf("Select v%d lowers v%d inside it, want v%d", sel, fu.prod[sel], wantProd)
			}
			if fu.skip[prod] != (wantProd >= 0) {
				t.Errorf("producer v%d skipped = %v, want %v", prod, fu.skip[prod], wantProd >= 0)
			}
			if fu.negate[mask] != c.want.negate {
				t.Errorf("mask v%d negated = %v, want %v", mask, fu.negate[mask], c.want.negate)
			}
		})
	}
}

// TestFusionsReLU checks that ReLU's select stays one VMAXPS on both ISAs.
func TestFusionsReLU(t *testing.T) {
	p := desc.Funcs[desc.ReLU].Forward
	for _, s := range []*isa{avx2, avx512} {
		fu := newLower(s).fusions(p)
		n := 0
		for i, op := range p.Ops {
			if op.Kind.IsMask() && fu.skip[i] {
				n++
			}
			if fu.prod[i] >= 0 {
				t.Errorf("%s: ReLU's Select v%d lowers v%d as a masked operation", s.name, i, fu.prod[i])
			}
		}
		if n != 1 {
			t.Errorf("%s: %d of ReLU's masks fused into VMAXPS, want 1", s.name, n)
		}
	}
}
