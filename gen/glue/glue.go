// Package glue writes the Go glue between package kernels and the
// generated elementwise kernels of one ISA: switches that call the
// activation kernels by desc.Func and the asm.Set that holds them all. Both
// assembly generators name their kernels alike, <Stem><Kind><Suffix>
// (SigmoidForwardAVX2, MaxoutForwardNEON, AdamUpdateAVX2), so one writer
// serves both.
package glue

import (
	"fmt"
	"strings"

	"github.com/actfuse/actfuse/internal/desc"
)

// ElementwiseSet returns Go declarations of package asm: the switches
// Forward<suffix> (which runs a function's variant where its parameters
// allow), Backward<suffix> and BackwardBias<suffix> and the
// variable <suffix> of type Set, whose maxout kernels are those named with
// maxoutSuffix; isa names the implementation in the doc comments. The file
// imports internal/desc (Imports).
func ElementwiseSet(suffix, isa, maxoutSuffix string) string {
	var b strings.Builder
	kinds := []struct{ kind, sig, args, doc string }{
		{"Forward", "dst, x []float32", "dst, x", "dst = f(x)"},
		{"Backward", "dx, dy, y []float32", "dx, dy, y", "dx = dy ⊙ f'(y)"},
	}
	for _, k := range kinds {
		fmt.Fprintf(&b, "// %s%s computes %s with the %s kernel of f; it reports false if f has\n// none (Identity).\n", k.kind, suffix, k.doc, isa)
		fmt.Fprintf(&b, "func %s%s(f desc.Func, %s, pr Params) bool {\n\tp := pr.Array()\n\tswitch f {\n", k.kind, suffix, k.sig)
		for _, d := range desc.Funcs {
			if d.Forward == nil {
				continue
			}
			fmt.Fprintf(&b, "\tcase desc.%s:\n", d.Stem)
			if k.kind == "Forward" {
				for _, v := range d.Variants {
					fmt.Fprintf(&b, "\t\tif %s {\n\t\t\t%s%s%s(%s, &p)\n\t\t\treturn true\n\t\t}\n", v.Cond("p"), v.Stem, k.kind, suffix, k.args)
				}
			}
			fmt.Fprintf(&b, "\t\t%s%s%s(%s, &p)\n", d.Stem, k.kind, suffix, k.args)
		}
		b.WriteString("\tdefault:\n\t\treturn false\n\t}\n\treturn true\n}\n\n")
	}
	fmt.Fprintf(&b, "// BackwardBias%s computes dz = dy ⊙ f'(y) and adds the rows of dz to db\n// (unless db is empty) with the %s kernel of f.\n", suffix, isa)
	fmt.Fprintf(&b, "func BackwardBias%s(f desc.Func, m, n int, dy []float32, lddy int, y []float32, ldy int, dz []float32, lddz int, db []float32, pr Params) {\n\tp := pr.Array()\n\tswitch f {\n", suffix)
	for _, d := range desc.Funcs {
		fmt.Fprintf(&b, "\tcase desc.%s:\n\t\t%sBackwardBias%s(m, n, dy, lddy, y, ldy, dz, lddz, db, &p)\n", d.Stem, d.Stem, suffix)
	}
	b.WriteString("\tdefault:\n\t\tpanic(\"actfuse: internal error: no BackwardBias kernel for \" + f.String())\n\t}\n}\n\n")
	fmt.Fprintf(&b, "// %s holds the %s elementwise kernels.\nvar %s = Set{\n", suffix, isa, suffix)
	for _, f := range []string{"Forward", "Backward", "BackwardBias"} {
		fmt.Fprintf(&b, "\t%s: %s%s,\n", f, f, suffix)
	}
	for _, f := range []string{"MaxoutForward", "MaxoutBackward"} {
		fmt.Fprintf(&b, "\t%s: %s%s,\n", f, f, maxoutSuffix)
	}
	for _, u := range desc.Updates {
		fmt.Fprintf(&b, "\t%s: %s%s,\n", u.Name, u.Name, suffix)
	}
	b.WriteString("}\n")
	return b.String()
}

// Imports is the import clause of the files ElementwiseSet writes.
const Imports = "import \"github.com/actfuse/actfuse/internal/desc\"\n\n"
