package kernels

import "github.com/actfuse/actfuse/fallback"

// gemmCall holds the checked arguments of one Gemm call.
type gemmCall struct {
	transA, transB bool
	m, n, k        int
	a              []float32
	lda            int
	b              []float32
	ldb            int
	c              []float32
	ldc            int
	ep             *Epilogue
}

// Gemm computes C = act(op(A)·op(B) + bias), or the backward form
// C = (op(A)·op(B)) ⊙ act'(Y), as the epilogue ep says (see Epilogue). All
// matrices are row-major with leading dimensions lda, ldb, ldc; op(A) is m×k
// (A is stored k×m when transA), op(B) is k×n (B is stored n×k when transB),
// C is m×n. C must not overlap A, B, the bias or Y. The result is bitwise
// identical for every thread count.
func Gemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, ep *Epilogue) {
	if ep == nil {
		ep = &Epilogue{}
	}
	fallback.CheckGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, ep)
	if m == 0 || n == 0 {
		return
	}
	g := gemmCall{transA, transB, m, n, k, a, lda, b, ldb, c, ldc, ep}
	active.Load().gemm(&g, 0, m, 0, n)
}

// genericGemm runs fallback.Gemm on the block [i0,i1)×[j0,j1) of C.
func genericGemm(g *gemmCall, i0, i1, j0, j1 int) {
	a := g.a
	if g.transA {
		a = a[i0:]
	} else {
		a = a[i0*g.lda:]
	}
	b := g.b
	if g.transB {
		b = b[j0*g.ldb:]
	} else {
		b = b[j0:]
	}
	ep := *g.ep
	if ep.Bias != nil {
		ep.Bias = ep.Bias[j0:]
	}
	if ep.Y != nil {
		ep.Y = ep.Y[i0*ep.LdY+j0:]
	}
	fallback.Gemm(g.transA, g.transB, i1-i0, j1-j0, g.k, a, g.lda, b, g.ldb, g.c[i0*g.ldc+j0:], g.ldc, &ep)
}

// BackwardBias computes dz = dy ⊙ f'(y) for m×n matrices (y is the saved
// forward output of the activation act) and, when db is not nil, the bias
// gradient db[j] = Σ_i dz[i,j]. dz may be dy itself.
func BackwardBias(act Activation, m, n int, dy []float32, lddy int, y []float32, ldy int, dz []float32, lddz int, db []float32) {
	fallback.BackwardBias(act, m, n, dy, lddy, y, ldy, dz, lddz, db)
}
