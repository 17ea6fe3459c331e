// Package asm holds the assembly kernels of actfuse and their Go
// declarations. Every file here except this one is written by the generators
// in gen/ (`go generate ./...`) and must not be edited by hand.
//
// The functions take already-checked arguments: package kernels validates
// shapes and lengths before calling them. On platforms without assembly the
// package is empty.
package asm

//go:generate go run ../../gen/amd64 -kernels act -out act_amd64.s -stubs act_amd64.go -pkg asm
//go:generate go run ../../gen/amd64 -kernels gemm -out gemm_amd64.s -stubs gemm_amd64.go -pkg asm
//go:generate go run ../../gen/amd64 -kernels update -out update_amd64.s -stubs update_amd64.go -pkg asm
//go:generate go run ../../gen/arm64 -dir .
