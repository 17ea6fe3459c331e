//go:build !purego && (amd64 || arm64)

package asm

import "github.com/actfuse/actfuse/internal/desc"

// Set is the elementwise kernels of one implementation, as the generated
// switch files fill it (AVX2 in act_switch_amd64.go, NEON in
// act_switch_arm64.go): package kernels reads every implementation through
// it. The activation kernels take the parameters of desc.FuncDesc.Params
// by value (Params), so that calling them through the set does not move
// them to the heap; Forward and Backward report false for a function
// without a kernel (Identity).
type Set struct {
	Forward        func(f desc.Func, dst, x []float32, p Params) bool
	Backward       func(f desc.Func, dx, dy, y []float32, p Params) bool
	BackwardBias   func(f desc.Func, m, n int, dy []float32, lddy int, y []float32, ldy int, dz []float32, lddz int, db []float32, p Params)
	MaxoutForward  func(k int, dst []float32, argmax []int32, x []float32)
	MaxoutBackward func(k int, dx, dy []float32, argmax []int32) int

	MomentumUpdate    func(w, v []float32, lr, mu, wd float32) bool
	SGDUpdate         func(w, g []float32, lr, wd float32) bool
	SGDMomentumUpdate func(w, v, g []float32, lr, mu, wd float32) bool
	SGDNesterovUpdate func(w, v, g []float32, lr, mu, wd float32) bool
	AdamUpdate        func(w, m, v, g []float32, lr, b1, b2, c1, c2, eps, wd float32) bool
}

// Params are the four parameters of an activation (desc.FuncDesc.Params)
// as the Set's switches take them: four scalars, which Go passes in
// registers where it would copy a [4]float32 through memory (see
// Activation.ParamValues in package fallback).
type Params struct{ P0, P1, P2, P3 float32 }

// Array returns p as the kernels read it, through a *[4]float32.
func (p Params) Array() [4]float32 { return [4]float32{p.P0, p.P1, p.P2, p.P3} }
