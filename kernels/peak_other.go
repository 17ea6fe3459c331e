//go:build purego || !(amd64 || arm64)

package kernels

const peakFlopsPerIter = 0

func havePeakProbe() bool { return false }

func fmaPeak(n int) {}
