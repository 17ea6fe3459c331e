package fallback

// gemmKernel is the register kernel of Gemm.
var gemmKernel = gemmKernel2x4

// gemmKernel2x4 computes the 2×4 tile t = Σ_s a_s·b_s of one packed A
// micro-panel and one packed B panel, in increasing step order, each
// accumulator starting from zero. a and b hold the same number of chunks.
func gemmKernel2x4(a []aChunk, b []bChunk, t *[gemmMR * gemmNR]float32) {
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	n := len(a)
	if n == 0 {
		*t = [gemmMR * gemmNR]float32{}
		return
	}
	b = b[:n]
	// The loop is tested at the bottom and the next chunks are addressed
	// after the accumulation, so that the whole body is one basic block:
	// the compiler then schedules each product next to its accumulation
	// and keeps every accumulator in a register.
	ap, bp := &a[0], &b[0]
	i := 1
	for {
		a0 := ap[0]
		a1 := ap[1]
		b0 := bp[0]
		c00 += a0 * b0
		c10 += a1 * b0
		b1 := bp[1]
		c01 += a0 * b1
		c11 += a1 * b1
		b2 := bp[2]
		c02 += a0 * b2
		c12 += a1 * b2
		b3 := bp[3]
		c03 += a0 * b3
		c13 += a1 * b3
		a0 = ap[2]
		a1 = ap[3]
		b0 = bp[4]
		c00 += a0 * b0
		c10 += a1 * b0
		b1 = bp[5]
		c01 += a0 * b1
		c11 += a1 * b1
		b2 = bp[6]
		c02 += a0 * b2
		c12 += a1 * b2
		b3 = bp[7]
		c03 += a0 * b3
		c13 += a1 * b3
		a0 = ap[4]
		a1 = ap[5]
		b0 = bp[8]
		c00 += a0 * b0
		c10 += a1 * b0
		b1 = bp[9]
		c01 += a0 * b1
		c11 += a1 * b1
		b2 = bp[10]
		c02 += a0 * b2
		c12 += a1 * b2
		b3 = bp[11]
		c03 += a0 * b3
		c13 += a1 * b3
		a0 = ap[6]
		a1 = ap[7]
		b0 = bp[12]
		c00 += a0 * b0
		c10 += a1 * b0
		b1 = bp[13]
		c01 += a0 * b1
		c11 += a1 * b1
		b2 = bp[14]
		c02 += a0 * b2
		c12 += a1 * b2
		b3 = bp[15]
		c03 += a0 * b3
		c13 += a1 * b3
		if i == n {
			break
		}
		ap, bp = &a[i], &b[i]
		i++
	}
	*t = [gemmMR * gemmNR]float32{c00, c01, c02, c03, c10, c11, c12, c13}
}
