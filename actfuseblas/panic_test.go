package actfuseblas_test

import (
	"testing"

	"github.com/actfuse/actfuse/actfuseblas"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// TestSgemmPanicsLikeGonum calls Sgemm and gonum's Sgemm with bad
// arguments (and a few good ones at the edges) and checks that both panic
// with the same value, or both do not panic: the same checks in the same
// order, so that a call with several bad arguments reports the same one.
func TestSgemmPanicsLikeGonum(t *testing.T) {
	const (
		N = blas.NoTrans
		T = blas.Trans
		C = blas.ConjTrans
	)
	type call struct {
		name             string
		tA, tB           blas.Transpose
		m, n, k          int
		lda, ldb, ldc    int
		lenA, lenB, lenC int
		wantPanic        bool
	}
	calls := []call{
		{"good", N, N, 3, 4, 5, 5, 4, 4, 15, 20, 12, false},
		{"good, all padded", T, T, 3, 4, 5, 7, 9, 6, 4*7 + 3, 3*9 + 5, 2*6 + 4, false},
		{"good, ConjTrans", C, C, 3, 4, 5, 3, 5, 4, 15, 20, 12, false},
		{"bad tA", 0, N, 3, 4, 5, 5, 4, 4, 15, 20, 12, true},
		{"bad tB", N, 'x', 3, 4, 5, 5, 4, 4, 15, 20, 12, true},
		{"bad tA before m < 0", 'n', N, -1, 4, 5, 5, 4, 4, 15, 20, 12, true},
		{"bad tB before m < 0", N, 'T', -1, 4, 5, 5, 4, 4, 15, 20, 12, true},
		{"m < 0", N, N, -1, 4, 5, 5, 4, 4, 15, 20, 12, true},
		{"m < 0 before n < 0", N, N, -1, -1, 5, 5, 4, 4, 15, 20, 12, true},
		{"n < 0", N, N, 3, -1, 5, 5, 4, 4, 15, 20, 12, true},
		{"n < 0 before k < 0", N, N, 3, -1, -1, 5, 4, 4, 15, 20, 12, true},
		{"k < 0", N, N, 3, 4, -1, 5, 4, 4, 15, 20, 12, true},
		{"k < 0 before bad lda", N, N, 3, 4, -1, 0, 4, 4, 15, 20, 12, true},
		{"lda < k", N, N, 3, 4, 5, 4, 4, 4, 15, 20, 12, true},
		{"lda < m, Aᵀ", T, N, 3, 4, 5, 2, 4, 4, 15, 20, 12, true},
		{"lda = 0, k = 0", N, N, 3, 4, 0, 0, 4, 4, 0, 0, 12, true},
		{"lda < k, m = 0", N, N, 0, 4, 5, 4, 4, 4, 0, 20, 0, true},
		{"bad lda before bad ldb", N, N, 3, 4, 5, 4, 3, 4, 15, 20, 12, true},
		{"ldb < n", N, N, 3, 4, 5, 5, 3, 4, 15, 20, 12, true},
		{"ldb < k, Bᵀ", N, T, 3, 4, 5, 5, 4, 4, 15, 20, 12, true},
		{"ldb = 0, n = 0", N, N, 3, 0, 5, 5, 0, 1, 15, 0, 0, true},
		{"bad ldb before bad ldc", N, N, 3, 4, 5, 5, 3, 3, 15, 20, 12, true},
		{"ldc < n", N, N, 3, 4, 5, 5, 4, 3, 15, 20, 12, true},
		{"ldc = 0, n = 0", N, N, 3, 0, 5, 5, 1, 0, 15, 0, 0, true},
		{"bad ldc before short a", N, N, 3, 4, 5, 5, 4, 3, 0, 20, 12, true},
		{"short a", N, N, 3, 4, 5, 5, 4, 4, 14, 20, 12, true},
		{"short a, Aᵀ", T, N, 3, 4, 5, 3, 4, 4, 14, 20, 12, true},
		{"short a, k = 0", N, N, 3, 4, 0, 2, 4, 4, 3, 0, 12, true},
		{"short a before short b", N, N, 3, 4, 5, 5, 4, 4, 14, 19, 12, true},
		{"short b", N, N, 3, 4, 5, 5, 4, 4, 15, 19, 12, true},
		{"short b, Bᵀ", N, T, 3, 4, 5, 5, 5, 4, 15, 19, 12, true},
		{"short b before short c", N, N, 3, 4, 5, 5, 4, 4, 15, 19, 11, true},
		{"short c", N, N, 3, 4, 5, 5, 4, 4, 15, 20, 11, true},
		{"short c, padded", N, N, 3, 4, 5, 5, 4, 6, 15, 20, 15, true},
		{"m = 0: lengths not checked", N, N, 0, 4, 5, 5, 4, 4, 0, 0, 0, false},
		{"n = 0: lengths not checked", N, N, 3, 0, 5, 5, 1, 1, 0, 0, 0, false},
		{"k = 0: C only", N, N, 3, 4, 0, 1, 4, 4, 2, 0, 12, false},
	}
	for _, tc := range calls {
		run := func(impl blas.Float32) (p any) {
			defer func() { p = recover() }()
			a, b, c := make([]float32, tc.lenA), make([]float32, tc.lenB), make([]float32, tc.lenC)
			impl.Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, 1.5, a, tc.lda, b, tc.ldb, 0.5, c, tc.ldc)
			return nil
		}
		got, want := run(actfuseblas.Implementation{}), run(gonum.Implementation{})
		if (want != nil) != tc.wantPanic {
			t.Fatalf("%s: gonum's Sgemm panicked with %v; the case expects a panic: %v", tc.name, want, tc.wantPanic)
		}
		if got != want {
			t.Errorf("%s: panic %#v, gonum's Sgemm %#v", tc.name, got, want)
		}
	}
}
