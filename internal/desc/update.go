package desc

// The optimizer updates: in-place parameter updates over slices of equal
// length, w first. Each operation is rounded on its own (no fused
// multiply-add), so every implementation agrees bit for bit; every kernel
// also reports whether all new weights are finite (w - w is +0 for a finite
// w and NaN otherwise).

// Update describes one optimizer kernel.
type Update struct {
	*Program // inputs: the slices, w first; outputs: the new w, then Writes
	// Writes are the input slices besides w that the kernel writes back,
	// in the order of the program's results after w.
	Writes []string
	Doc    []string // the kernel's doc comment
}

// Updates lists the optimizer kernels.
var Updates = []Update{
	{
		Program: momentum(),
		Writes:  []string{"v"},
		Doc: []string{"MomentumUpdate computes, for each i, u = v[i] + wd·w[i], w[i] -= lr·u and",
			"v[i] = mu·u, and reports whether every new w[i] is finite; len(v) must equal",
			"len(w)."},
	},
	{
		Program: sgd(),
		Doc: []string{"SGDUpdate computes, for each i, w[i] -= lr·(g[i] + wd·w[i]) and reports",
			"whether every new w[i] is finite; len(g) must equal len(w)."},
	},
	{
		Program: sgdMomentum("SGDMomentumUpdate", false),
		Writes:  []string{"v"},
		Doc: []string{"SGDMomentumUpdate computes, for each i, g' = g[i] + wd·w[i], v[i] = mu·v[i] + g'",
			"and w[i] -= lr·v[i], and reports whether every new w[i] is finite; the three",
			"lengths must be equal."},
	},
	{
		Program: sgdMomentum("SGDNesterovUpdate", true),
		Writes:  []string{"v"},
		Doc: []string{"SGDNesterovUpdate computes, for each i, g' = g[i] + wd·w[i], v[i] = mu·v[i] + g'",
			"and w[i] -= lr·(g' + mu·v[i]), and reports whether every new w[i] is finite; the",
			"three lengths must be equal."},
	},
	{
		Program: adam(),
		Writes:  []string{"m", "v"},
		Doc: []string{"AdamUpdate computes, for each i, g' = g[i] + wd·w[i], m[i] = b1·m[i] + c1·g',",
			"v[i] = b2·v[i] + c2·g'·g' and w[i] -= lr·m[i]/(sqrt(v[i]) + eps), and reports",
			"whether every new w[i] is finite; the four lengths must be equal."},
	},
}

// UpdateByName returns the update kernel called name; it panics if there is
// none.
func UpdateByName(name string) *Update {
	for i := range Updates {
		if Updates[i].Name == name {
			return &Updates[i]
		}
	}
	panic("desc: no update kernel " + name)
}

func momentum() *Program {
	b := NewBuilder("MomentumUpdate", "", []string{"w", "v"}, []string{"lr", "mu", "wd"})
	w, v, lr, mu, wd := b.In(0), b.In(1), b.P(0), b.P(1), b.P(2)
	u := b.Add(v, b.Mul(wd, w))
	return b.Return(b.Sub(w, b.Mul(lr, u)), b.Mul(mu, u))
}

func sgd() *Program {
	b := NewBuilder("SGDUpdate", "", []string{"w", "g"}, []string{"lr", "wd"})
	w, g, lr, wd := b.In(0), b.In(1), b.P(0), b.P(1)
	g = b.Add(g, b.Mul(wd, w))
	return b.Return(b.Sub(w, b.Mul(lr, g)))
}

func sgdMomentum(name string, nesterov bool) *Program {
	b := NewBuilder(name, "", []string{"w", "v", "g"}, []string{"lr", "mu", "wd"})
	w, v, g, lr, mu, wd := b.In(0), b.In(1), b.In(2), b.P(0), b.P(1), b.P(2)
	g = b.Add(g, b.Mul(wd, w))
	v = b.Add(b.Mul(mu, v), g)
	step := v
	if nesterov {
		step = b.Add(g, b.Mul(mu, v))
	}
	return b.Return(b.Sub(w, b.Mul(lr, step)), v)
}

func adam() *Program {
	b := NewBuilder("AdamUpdate", "", []string{"w", "m", "v", "g"}, []string{"lr", "b1", "b2", "c1", "c2", "eps", "wd"})
	w, m, v, g := b.In(0), b.In(1), b.In(2), b.In(3)
	lr, b1, b2, c1, c2, eps, wd := b.P(0), b.P(1), b.P(2), b.P(3), b.P(4), b.P(5), b.P(6)
	g = b.Add(g, b.Mul(wd, w))
	m = b.Add(b.Mul(b1, m), b.Mul(c1, g))
	v = b.Add(b.Mul(b2, v), b.Mul(b.Mul(c2, g), g))
	step := b.Div(b.Mul(lr, m), b.Add(b.Sqrt(v), eps))
	return b.Return(b.Sub(w, step), m, v)
}
