package nn

import (
	"testing"

	"github.com/actfuse/actfuse/kernels"
)

// BenchmarkUpdate measures the optimizer update of the 669,706 parameters of
// the 784→512→512→10 model on one goroutine: the fused classical-momentum
// pass (gradient already in the velocity), Nesterov momentum, and Adam.
//
//	go test ./nn -run '^$' -bench Update -cpu 1
func BenchmarkUpdate(b *testing.B) {
	const n = 784*512 + 512 + 512*512 + 512 + 512*10 + 10
	p, v, v2, g := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range g {
		g[i] = float32(i%7) * 1e-3
	}
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"momentum", func() { kernels.MomentumUpdate(p, v, 0.01, 0.9, 0) }},
		{"nesterov", func() { kernels.SGDUpdate(p, v, g, 0.01, 0.9, 0, true) }},
		{"adam", func() { kernels.AdamUpdate(p, v, v2, g, 0.001, 0.9, 0.999, 1e-8, 0) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			cpu0 := processCPU()
			for range b.N {
				c.f()
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)/n*1e9, "ns/param")
			b.ReportMetric((processCPU()-cpu0).Seconds()/float64(b.N)/n*1e9, "cpu-ns/param")
		})
	}
}
