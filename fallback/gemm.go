package fallback

// PLACEHOLDER: replaced by the blocked implementation.

// Gemm computes C = act(op(A)·op(B) + bias), or its backward form, as
// described by the epilogue ep (see Epilogue). All matrices are row-major; op(A)
// is m×k (A is k×m when transA), op(B) is k×n (B is n×k when transB), C is m×n.
// C must not overlap A, B, Bias or Y. Gemm panics on inconsistent arguments
// (see CheckGemm).
func Gemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, ep *Epilogue) {
	CheckGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, ep)
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		for j := range row {
			var s float32
			for p := 0; p < k; p++ {
				av := a[i*lda+p]
				if transA {
					av = a[p*lda+i]
				}
				bv := b[p*ldb+j]
				if transB {
					bv = b[j*ldb+p]
				}
				s += av * bv
			}
			if ep.Accumulate {
				s += row[j]
			}
			if ep.Y != nil {
				row[j] = s * deriv(ep.Act, ep.Y[i*ep.LdY+j])
				continue
			}
			if ep.Bias != nil {
				s += ep.Bias[j]
			}
			row[j] = float32(ref(ep.Act, float64(s)))
		}
	}
}
