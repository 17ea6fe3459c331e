package fallback

import "github.com/actfuse/actfuse/internal/scratch"

// Gemm computes C = act(op(A)·op(B) + bias), or its backward form, as
// described by the epilogue ep (see Epilogue); a nil ep is the zero Epilogue
// (C = op(A)·op(B)). All matrices are row-major; op(A) is m×k (A is stored
// k×m when transA), op(B) is k×n (B is stored n×k when transB), C is m×n with
// leading dimension ldc. Only C[i·ldc+j] for i < m, j < n is written: the
// columns from n to ldc of each row are left alone. C must not overlap A, B,
// Bias or Y. Gemm panics on inconsistent arguments (see CheckGemm).
//
// It is the plain specification of package kernels' Gemm, and a reference
// of its tests: each element is Z = Σ_p op(A)[i,p]·op(B)[p,j] summed in
// float32 in increasing p starting from zero, each product rounded before
// its addition, then Z + C when Accumulate, then + Bias[j], then the
// activation (Forward); in the backward form (Z [+ C]) is multiplied by
// act'(Y) (Backward). The kernels multiply-add in fused steps and in blocks
// of k, so their results differ from these within the error bound of a
// float32 dot product (internal/ref.Gemm states it).
func Gemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, ep *Epilogue) {
	if ep == nil {
		ep = &Epilogue{}
	}
	CheckGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, ep)
	if m == 0 || n == 0 {
		return
	}
	// op(A)[i,p] = a[i·ars + p·acs], op(B)[p,j] = b[p·brs + j·bcs].
	ars, acs := lda, 1
	if transA {
		ars, acs = 1, lda
	}
	brs, bcs := ldb, 1
	if transB {
		brs, bcs = 1, ldb
	}
	buf := rows.Get()
	defer rows.Put(buf)
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	z := (*buf)[:n]
	for i := range m {
		// Row i of Z, in increasing p for every element.
		clear(z)
		for p := range k {
			av := a[i*ars+p*acs]
			bp := b[p*brs:]
			for j := range z {
				z[j] += float32(av * bp[j*bcs])
			}
		}
		row := c[i*ldc:][:n]
		if ep.Accumulate {
			for j := range z {
				z[j] += row[j]
			}
		}
		if ep.Y != nil {
			Backward(ep.Act, row, z, ep.Y[i*ep.LdY:][:n])
			continue
		}
		if ep.Bias != nil {
			for j := range z {
				z[j] += ep.Bias[j]
			}
		}
		Forward(ep.Act, row, z)
	}
}

// rows holds the row buffers of Gemm, so that it does not allocate.
var rows scratch.List[[]float32]
