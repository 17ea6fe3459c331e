//go:build !purego && (amd64 || arm64)

package asm

import "github.com/actfuse/actfuse/internal/desc"

// Set is the elementwise kernels of one implementation, as the generated
// switch files fill it (AVX2 in act_switch_amd64.go, NEON in
// act_switch_arm64.go): package kernels reads every implementation through
// it. The activation kernels take the parameters of desc.FuncDesc.Params
// by value (Activation.Params), so that calling them through the set does
// not move them to the heap; Forward and Backward report false for a
// function without a kernel (Identity).
type Set struct {
	Forward        func(f desc.Func, dst, x []float32, p [4]float32) bool
	Backward       func(f desc.Func, dx, dy, y []float32, p [4]float32) bool
	BackwardBias   func(f desc.Func, m, n int, dy []float32, lddy int, y []float32, ldy int, dz []float32, lddz int, db []float32, p [4]float32)
	MaxoutForward  func(k int, dst []float32, argmax []int32, x []float32)
	MaxoutBackward func(k int, dx, dy []float32, argmax []int32) int

	MomentumUpdate    func(w, v []float32, lr, mu, wd float32) bool
	SGDUpdate         func(w, g []float32, lr, wd float32) bool
	SGDMomentumUpdate func(w, v, g []float32, lr, mu, wd float32) bool
	SGDNesterovUpdate func(w, v, g []float32, lr, mu, wd float32) bool
	AdamUpdate        func(w, m, v, g []float32, lr, b1, b2, c1, c2, eps, wd float32) bool
}
