// Package ref holds float64 references of the actfuse activations and their
// derivatives, the ULP error measure of the accuracy targets, a sweep over
// float32 bit patterns that measures any float32 kernel against a reference,
// and the minimax fitter that produced the polynomial coefficients of package
// fallback.
//
// The ULP error of a float32 result y against the exact value v is
// |y - v| / ulp(v), where ulp(v) is the spacing of the float32 numbers at v:
// 2^(e-23) for 2^e <= |v| < 2^(e+1) and 2^-149 below 2^-126. Where |v| is
// below 2^-126 (the smallest normal float32) a result of zero with the sign of
// v counts as exact (flush to zero is allowed); a zero of the other sign, a
// NaN for a number, or a number for a NaN is an infinite error. See ULP.
package ref
