//go:build purego || !(amd64 || arm64)

package kernels

// archImpls returns no SIMD implementation: this build runs package fallback.
func archImpls() []*impl { return nil }
