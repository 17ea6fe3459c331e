// Package asm holds the assembly kernels of actfuse and their Go
// declarations. Every file here except this one and set.go (the type Set,
// through which package kernels reads each implementation's elementwise
// kernels) is written by the generators in gen/ (`go generate ./...`) and
// must not be edited by hand.
//
// The functions take already-checked arguments: package kernels validates
// shapes and lengths before calling them. On platforms without assembly the
// package is empty.
package asm

// The generators are a module of their own (gen/go.mod), so that programs
// importing actfuse do not depend on avo; go -C runs them inside it.
//
//go:generate go -C ../../gen run ./amd64 -kernels act -out ../kernels/asm/act_amd64.s -stubs ../kernels/asm/act_amd64.go -switch ../kernels/asm/act_switch_amd64.go -pkg asm
//go:generate go -C ../../gen run ./amd64 -kernels gemm -out ../kernels/asm/gemm_amd64.s -stubs ../kernels/asm/gemm_amd64.go -pkg asm
//go:generate go -C ../../gen run ./amd64 -kernels update -out ../kernels/asm/update_amd64.s -stubs ../kernels/asm/update_amd64.go -pkg asm
//go:generate go -C ../../gen run ./arm64 -dir ../kernels/asm
