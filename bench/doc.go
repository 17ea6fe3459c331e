// Package bench holds the measurements of actbench as a library: what the
// activation kernels cost (Cost), the fused GEMM against the machine's FMA
// peak (Gemm), the accuracy of every implementation in ULP (Accuracy), and
// the lecture's experiments on MNIST and on a linear model (Train, Dead,
// Noise, Zigzag).
//
// Every suite returns Tables of labelled rows and measured metrics; a Report
// (the Machine plus the tables) is written for people (WriteText), for
// programs (WriteJSON, schema documented on Report), or in the Go benchmark
// format (WriteBench) so that benchstat compares runs and machines; WritePlots
// draws the figures. Every number is measured in the run that prints it:
// timings are medians of samples taken interleaved across the compared
// variants, ratios are taken between variants of the same run, and the FMA
// peak and the streaming bandwidth they are compared with are measured in the
// same run too. Under an instruction-set emulator (Machine.Emulated) timings
// describe the emulator, not the CPU.
//
// Each measured call runs under the pprof labels "experiment" and "kernel",
// so that a CPU profile separates them (go tool pprof -tagfocus).
package bench
