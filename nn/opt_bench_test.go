package nn

import "testing"

// BenchmarkSGD measures the SGD-momentum update of the 784→512→512→10
// model's 669,706 parameters.
func BenchmarkSGD(b *testing.B) {
	const n = 784*512 + 512 + 512*512 + 512 + 512*10 + 10
	p, v, g := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range g {
		g[i] = float32(i%7) * 1e-3
	}
	b.SetBytes(n * 4)
	for range b.N {
		sgd(p, v, g, 0.01, 0.9, 0, false)
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)/n*1e9, "ns/param")
}
