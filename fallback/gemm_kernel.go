package fallback

// gemmKernel computes the gemmMR×gemmNR tile t = Σ_s a_s·b_s of one packed A
// micro-panel a and one packed B panel b (the same number of chunks), in
// increasing step order, every accumulator starting from zero.
//
// The loop is tested at the bottom and the next chunks are addressed after
// the accumulations, so that the body is a single basic block: the
// compiler then schedules each product next to its addition and keeps all
// eight accumulators and the two values of A in registers, with no spill.
// Per step that is 6 loads, 8 multiplications and 8 additions; eight
// steps per iteration keep the loop overhead small.
func gemmKernel(a []aChunk, b []bChunk, t *[gemmMR * gemmNR]float32) {
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	n := len(a)
	if n == 0 {
		*t = [gemmMR * gemmNR]float32{}
		return
	}
	b = b[:n]
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
		a0 = ap[8]
		a1 = ap[9]
		b0 = bp[16]
		c00 += a0 * b0
		c10 += a1 * b0
		b1 = bp[17]
		c01 += a0 * b1
		c11 += a1 * b1
		b2 = bp[18]
		c02 += a0 * b2
		c12 += a1 * b2
		b3 = bp[19]
		c03 += a0 * b3
		c13 += a1 * b3
		a0 = ap[10]
		a1 = ap[11]
		b0 = bp[20]
		c00 += a0 * b0
		c10 += a1 * b0
		b1 = bp[21]
		c01 += a0 * b1
		c11 += a1 * b1
		b2 = bp[22]
		c02 += a0 * b2
		c12 += a1 * b2
		b3 = bp[23]
		c03 += a0 * b3
		c13 += a1 * b3
		a0 = ap[12]
		a1 = ap[13]
		b0 = bp[24]
		c00 += a0 * b0
		c10 += a1 * b0
		b1 = bp[25]
		c01 += a0 * b1
		c11 += a1 * b1
		b2 = bp[26]
		c02 += a0 * b2
		c12 += a1 * b2
		b3 = bp[27]
		c03 += a0 * b3
		c13 += a1 * b3
		a0 = ap[14]
		a1 = ap[15]
		b0 = bp[28]
		c00 += a0 * b0
		c10 += a1 * b0
		b1 = bp[29]
		c01 += a0 * b1
		c11 += a1 * b1
		b2 = bp[30]
		c02 += a0 * b2
		c12 += a1 * b2
		b3 = bp[31]
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
