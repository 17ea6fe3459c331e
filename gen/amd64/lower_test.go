package main

import (
	"math/rand/v2"
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
		{"FMA zeroed where the mask is clear", func(b *desc.Builder) (desc.Value, desc.Value, desc.Value) {
			x, y := b.In(0), b.In(1)
			m := b.Less(x, b.F(0))
			p := b.FMA(x, y, y)
			return b.Select(m, p, b.F(0)), p, m
		}, false, want{prod: 0}},
		{"FNMA zeroed where the mask holds", func(b *desc.Builder) (desc.Value, desc.Value, desc.Value) {
			x, y := b.In(0), b.In(1)
			m := b.Less(x, b.F(-87))
			p := b.FNMA(x, y, y)
			return b.Select(m, b.F(0), p), p, m
		}, false, want{prod: 0, negate: true}},
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

// TestTernFusions checks which pairs of bitwise operations the lowering
// emits as one VPTERNLOGD.
func TestTernFusions(t *testing.T) {
	cases := []struct {
		name  string
		build func(b *desc.Builder) (outer, inner desc.Value)
		s     *isa
		fuses bool
	}{
		{"or of and", func(b *desc.Builder) (desc.Value, desc.Value) {
			x, y := b.In(0), b.In(1)
			in := b.And(x, b.Bits(0x80000000))
			return b.Or(y, in), in
		}, avx512, true},
		{"inner read twice", func(b *desc.Builder) (desc.Value, desc.Value) {
			x, y := b.In(0), b.In(1)
			in := b.And(x, b.Bits(0x80000000))
			return b.Or(b.Or(y, in), in), in
		}, avx512, false},
		{"two leaves", func(b *desc.Builder) (desc.Value, desc.Value) {
			x := b.In(0)
			in := b.And(x, b.Bits(0x80000000))
			return b.Or(x, in), in
		}, avx512, false},
		{"inner not bitwise", func(b *desc.Builder) (desc.Value, desc.Value) {
			x, y := b.In(0), b.In(1)
			in := b.Add(x, b.F(1))
			return b.Or(y, in), in
		}, avx512, false},
		{"the other operand bitwise too, read twice", func(b *desc.Builder) (desc.Value, desc.Value) {
			x, y, z := b.In(0), b.In(1), b.In(2)
			other := b.And(x, y)
			in := b.Xor(x, z)
			out := b.Or(other, in)
			b.Add(out, other)
			return out, in
		}, avx512, true},
		{"inner with a fusion of its own", func(b *desc.Builder) (desc.Value, desc.Value) {
			x, y, z, w := b.In(0), b.In(1), b.In(2), b.In(3)
			in := b.Or(b.And(x, y), z)
			return b.Xor(in, w), in
		}, avx512, false},
		{"AVX2", func(b *desc.Builder) (desc.Value, desc.Value) {
			x, y := b.In(0), b.In(1)
			in := b.And(x, b.Bits(0x80000000))
			return b.Or(y, in), in
		}, avx2, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := desc.NewBuilder("T", "", []string{"x", "y", "z", "w"}, nil)
			outer, inner := c.build(b)
			p := b.Return(outer)
			fu := newLower(c.s).fusions(p)
			if got := fu.prod[outer] == int(inner) && fu.skip[inner]; got != c.fuses {
				t.Errorf("v%d lowers v%d inside it (skipped %v), want fused = %v", outer, fu.prod[outer], fu.skip[inner], c.fuses)
			}
		})
	}
}

// TestTernImm checks the truth tables of every pair of bitwise operations,
// the inner one on either side, its leaves in every order of the slots,
// against the operations on random words.
func TestTernImm(t *testing.T) {
	kinds := []desc.Kind{desc.And, desc.Or, desc.Xor, desc.AndNot}
	apply := func(k desc.Kind, x, y uint32) uint32 {
		switch k {
		case desc.And:
			return x & y
		case desc.Or:
			return x | y
		case desc.Xor:
			return x ^ y
		}
		return x &^ y
	}
	// tern is VPTERNLOGD: bit i of the result is bit (a_i<<2 | b_i<<1 | c_i) of imm.
	tern := func(imm uint8, a, b, c uint32) uint32 {
		var r uint32
		for i := range 32 {
			j := (a>>i&1)<<2 | (b>>i&1)<<1 | c>>i&1
			r |= uint32(imm>>j&1) << i
		}
		return r
	}
	build := func(b *desc.Builder, k desc.Kind, x, y desc.Value) desc.Value {
		return map[desc.Kind]func(x, y desc.Value) desc.Value{desc.And: b.And, desc.Or: b.Or, desc.Xor: b.Xor, desc.AndNot: b.AndNot}[k](x, y)
	}
	perms := [][3]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, ko := range kinds {
		for _, ki := range kinds {
			for _, left := range []bool{false, true} {
				b := desc.NewBuilder("T", "", []string{"x", "y", "z"}, nil)
				x, y, z := b.In(0), b.In(1), b.In(2)
				in := build(b, ki, x, y)
				var out desc.Value
				if left {
					out = build(b, ko, in, z)
				} else {
					out = build(b, ko, z, in)
				}
				p := b.Return(out)
				for _, perm := range perms {
					ins := []desc.Value{x, y, z}
					leaves := []desc.Value{ins[perm[0]], ins[perm[1]], ins[perm[2]]}
					imm := ternImm(p, p.Ops[out], in, leaves)
					for range 20 {
						w := [3]uint32{rng.Uint32(), rng.Uint32(), rng.Uint32()}
						inner := apply(ki, w[0], w[1])
						want := apply(ko, pick(left, inner, w[2]), pick(!left, inner, w[2]))
						got := tern(imm, w[perm[0]], w[perm[1]], w[perm[2]])
						if got != want {
							t.Fatalf("%v of %v (inner left %v), slots %v: imm %#x gives %#x, want %#x", ko, ki, left, perm, imm, got, want)
						}
					}
				}
			}
		}
	}
}

// pick returns a if first, else b.
func pick(first bool, a, b uint32) uint32 {
	if first {
		return a
	}
	return b
}

// TestSplitAtDivision checks the stages of the programs with a division:
// sigmoid, tanh and their scaled forms split, with the depth their loops
// take (the registers of the scaled tanh leave room for 2); the first
// stage has no division; and every operation of the program is in exactly
// one stage, but for the masks both read, which are in both. The stages'
// results are checked where the kernels run: TestForward in package
// kernels compares the pipelined loops with the fallback bit for bit.
func TestSplitAtDivision(t *testing.T) {
	depths := map[string]int{"sigmoid": pipeDepth, "tanh": pipeDepth, "scaledsigmoid": pipeDepth, "scaledtanh": 2}
	for _, d := range desc.Funcs {
		p := d.Forward
		want, ok := depths[d.Name]
		if !ok {
			continue
		}
		delete(depths, d.Name)
		pl := pipelineFor(avx512, p)
		if pl == nil {
			t.Errorf("%s: not pipelined", d.Name)
			continue
		}
		if pl.depth != want {
			t.Errorf("%s: depth %d, want %d", d.Name, pl.depth, want)
		}
		count := func(q *desc.Program, keep func(desc.Op) bool) int {
			c := 0
			for _, op := range q.Ops {
				if keep(op) {
					c++
				}
			}
			return c
		}
		div := func(op desc.Op) bool { return op.Kind == desc.Div }
		if count(pl.first, div) != 0 || count(pl.second, div) != count(p, div) {
			t.Errorf("%s: the divisions are not all in the second stage", d.Name)
		}
		computed := func(op desc.Op) bool {
			k := op.Kind
			return k != desc.Input && k != desc.Param && k != desc.Const
		}
		mask := func(op desc.Op) bool { return op.Kind.IsMask() }
		// Each mask in the second stage that is not late is also in the
		// first; no other operation is in both.
		both := 0
		for _, op := range pl.second.Ops {
			if mask(op) && count(pl.first, func(o desc.Op) bool { return o.Kind == op.Kind }) > 0 {
				both++
			}
		}
		if got, all := count(pl.first, computed)+count(pl.second, computed), count(p, computed); got < all || got > all+both {
			t.Errorf("%s: the stages compute %d operations, the program %d (%d masks in both)", d.Name, got, all, both)
		}
	}
	for name := range depths {
		t.Errorf("no program %s", name)
	}
}

// eluSelect builds ELU(1)'s select, Select(z < 0, x·y + (y - 1), z).
func eluSelect(b *desc.Builder) (sel, fma, addend desc.Value) {
	x, y, z := b.In(0), b.In(1), b.In(2)
	c := b.Sub(y, b.F(1))
	f := b.FMA(x, y, c)
	return b.Select(b.Less(z, b.F(0)), f, z), f, c
}

// TestFusionsMergedAddend checks which FMAs a Select merges, with the
// operation of their addend merged into its other operand first.
func TestFusionsMergedAddend(t *testing.T) {
	cases := []struct {
		name  string
		build func(b *desc.Builder) (sel, fma, addend desc.Value)
		s     *isa
		fuses bool
	}{
		{"ELU(1)'s select", eluSelect, avx512, true},
		{"addend read twice", func(b *desc.Builder) (desc.Value, desc.Value, desc.Value) {
			x, y, z := b.In(0), b.In(1), b.In(2)
			c := b.Sub(y, b.F(1))
			f := b.FMA(x, c, c)
			return b.Select(b.Less(z, b.F(0)), f, z), f, c
		}, avx512, false},
		{"merged into a factor", func(b *desc.Builder) (desc.Value, desc.Value, desc.Value) {
			x, y := b.In(0), b.In(1)
			c := b.Sub(y, b.F(1))
			f := b.FMA(x, y, c)
			return b.Select(b.Less(x, b.F(0)), f, x), f, c
		}, avx512, false},
		{"addend an FMA", func(b *desc.Builder) (desc.Value, desc.Value, desc.Value) {
			x, y, z := b.In(0), b.In(1), b.In(2)
			c := b.FMA(y, y, b.F(1))
			f := b.FMA(x, y, c)
			return b.Select(b.Less(z, b.F(0)), f, z), f, c
		}, avx512, false},
		{"AVX2", eluSelect, avx2, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := desc.NewBuilder("T", "", []string{"x", "y", "z"}, nil)
			sel, f, addend := c.build(b)
			p := b.Return(sel)
			fu := newLower(c.s).fusions(p)
			got := fu.prod[sel] == int(f) && fu.addend[f] == int(addend) && fu.skip[f] && fu.skip[addend]
			if got != c.fuses {
				t.Errorf("Select v%d: prod v%d, addend of v%d: v%d (skipped %v, %v), want merged = %v",
					sel, fu.prod[sel], f, fu.addend[f], fu.skip[f], fu.skip[addend], c.fuses)
			}
			if !c.fuses && fu.addend[f] >= 0 {
				t.Errorf("v%d's addend v%d lowered inside the Select, want none", f, fu.addend[f])
			}
		})
	}
	// ELU(1) itself: its result is the merged FMA.
	p := desc.Funcs[desc.ELU].Variants[0].Forward
	fu := newLower(avx512).fusions(p)
	if pi := fu.prod[p.Out[0]]; pi < 0 || fu.addend[pi] < 0 {
		t.Errorf("%s: the Select lowers v%d without its addend, want the merged FMA", p.Name, pi)
	}
}

// TestMerged checks that merged drops the operations that repeat an
// earlier one, reads the kept one instead, keeps the others and their
// order, and passes a dropped operation's note on.
func TestMerged(t *testing.T) {
	b := desc.NewBuilder("T", "", []string{"x"}, nil)
	x := b.In(0)
	z := b.Or(x, b.Bits(0x80000000))
	e := b.Add(z, b.F(1))
	b.Note("again")
	z2 := b.Or(x, b.Bits(0x80000000))
	c := b.Less(z2, b.F(-87))
	p := b.Return(b.Select(c, b.F(0), b.Mul(e, z2)))
	q := merged(p)
	count := func(p *desc.Program, k desc.Kind) int {
		n := 0
		for _, op := range p.Ops {
			if op.Kind == k {
				n++
			}
		}
		return n
	}
	if count(p, desc.Or) != 2 || count(q, desc.Or) != 1 {
		t.Fatalf("Or: %d in the program, %d merged; want 2, 1", count(p, desc.Or), count(q, desc.Or))
	}
	if len(q.Ops) != len(p.Ops)-1 { // the second Or (the builder has one Const per value)
		t.Errorf("merged has %d operations, want %d", len(q.Ops), len(p.Ops)-1)
	}
	var or desc.Value = -1
	for i, op := range q.Ops {
		switch op.Kind {
		case desc.Or:
			or = desc.Value(i)
		case desc.Less:
			if op.Args[0] != or {
				t.Errorf("Less reads v%d, want the kept Or v%d", op.Args[0], or)
			}
			if op.Note != "again" {
				t.Errorf("Less has the note %q, want the dropped Or's", op.Note)
			}
		case desc.Mul:
			if op.Args[1] != or {
				t.Errorf("Mul reads v%d, want the kept Or v%d", op.Args[1], or)
			}
		}
	}
	if q.Ops[q.Out[0]].Kind != desc.Select {
		t.Errorf("the result is a %v, want the Select", q.Ops[q.Out[0]].Kind)
	}
	if r := merged(q); len(r.Ops) != len(q.Ops) {
		t.Errorf("merging again drops %d more operations", len(q.Ops)-len(r.Ops))
	}
}
