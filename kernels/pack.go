package kernels

// packers are optional assembly versions of the packing loops for a
// micro-kernel's MR and NR; nil fields use the Go loops.
type packers struct {
	// rows copies npan full panels of NR columns from kc rows of a row-major
	// matrix (row p at src[p*ld:]).
	rows func(dst, src []float32, ld, kc, npan int)
	// rowsEdge packs one panel of w < NR columns, zero-padded.
	rowsEdge func(dst, src []float32, ld, kc, w int)
	// cols packs a transposed A into a full micro-panel of MR rows:
	// dst[p*MR+i] = src[p*ld+i] for i < MR, p < kc.
	cols func(dst, src []float32, ld, kc int)
	// tA and tB write dst[p*w+i] = src[i*ld+p] for i < w and p < kc, a
	// multiple of 8, with w = MR (tA) and w = NR (tB).
	tA, tB func(dst, src []float32, ld, kc int)
}

// packB copies op(B)[pc:pc+kc, jc:jc+nc] into panels of nr columns (see the
// packed B layout in gemm.go), zero-padding the last panel.
func packB(pk *packers, dst []float32, transB bool, b []float32, ldb, pc, kc, jc, nc, nr int) {
	npan := (nc + nr - 1) / nr
	r := 0
	if !transB && pk.rows != nil && kc > 0 {
		r = nc / nr
		if r > 0 {
			pk.rows(dst, b[pc*ldb+jc:], ldb, kc, r)
		}
	}
	for ; r < npan; r++ {
		j0 := jc + r*nr
		w := min(nr, jc+nc-j0)
		d := dst[r*nr*kc : (r+1)*nr*kc]
		switch {
		case !transB && pk.rowsEdge != nil && kc > 0:
			pk.rowsEdge(d, b[pc*ldb+j0:], ldb, kc, w)
		case !transB:
			for p := 0; p < kc; p++ {
				s := (pc+p)*ldb + j0
				row := d[p*nr : p*nr+nr]
				copy(row, b[s:s+w])
				clear(row[w:])
			}
		default:
			// op(B)[p, j] = B[j, p]: row j of B is column j of the panel.
			if w < nr {
				clear(d)
			}
			packTransposed(pk.tB, d, b, ldb, j0, w, pc, kc, nr)
		}
	}
}

// packA copies op(A)[ic:ic+mc, pc:pc+kc] into micro-panels of mr rows (see
// the packed A layout in gemm.go), zero-padding the last micro-panel.
func packA(pk *packers, dst []float32, transA bool, a []float32, lda, ic, mc, pc, kc, mr int) {
	npan := (mc + mr - 1) / mr
	for q := 0; q < npan; q++ {
		i0 := ic + q*mr
		h := min(mr, ic+mc-i0)
		d := dst[q*mr*kc : (q+1)*mr*kc]
		switch {
		case transA && h == mr && pk.cols != nil && kc > 0:
			pk.cols(d, a[pc*lda+i0:], lda, kc)
		case transA:
			// op(A)[i, p] = A[p, i]: h consecutive values per step.
			for p := 0; p < kc; p++ {
				s := (pc+p)*lda + i0
				col := d[p*mr : p*mr+mr]
				copy(col, a[s:s+h])
				clear(col[h:])
			}
		default:
			if h < mr {
				clear(d)
			}
			packTransposed(pk.tA, d, a, lda, i0, h, pc, kc, mr)
		}
	}
}

// packTransposed writes d[p*w + i] = s[(r0+i)*ld + c0 + p] for i < h, p < kc:
// h rows of s become the columns of a kc×w panel. fast, when not nil, does
// the work for h == w and the columns up to a multiple of 8.
func packTransposed(fast func(dst, src []float32, ld, kc int), d, s []float32, ld, r0, h, c0, kc, w int) {
	if kc == 0 {
		return
	}
	if fast != nil && h == w && kc >= 8 {
		k8 := kc &^ 7
		fast(d, s[r0*ld+c0:], ld, k8)
		for i := 0; i < h; i++ {
			row := s[(r0+i)*ld+c0:][:kc]
			for p := k8; p < kc; p++ {
				d[p*w+i] = row[p]
			}
		}
		return
	}
	i := 0
	// Four rows at a time: four sequential read streams.
	for ; i+4 <= h; i += 4 {
		s0 := s[(r0+i)*ld+c0:][:kc]
		s1 := s[(r0+i+1)*ld+c0:][:kc]
		s2 := s[(r0+i+2)*ld+c0:][:kc]
		s3 := s[(r0+i+3)*ld+c0:][:kc]
		dd := d[i:]
		for p := range s0 {
			o := p * w
			e := dd[o : o+4 : o+4]
			e[0], e[1], e[2], e[3] = s0[p], s1[p], s2[p], s3[p]
		}
	}
	for ; i < h; i++ {
		s0 := s[(r0+i)*ld+c0:][:kc]
		for p, v := range s0 {
			d[p*w+i] = v
		}
	}
}
