package desc

// Flags of a GEMM micro-kernel call (the contract is in package kernels,
// gemm.go): which epilogue the kernel applies to a finished tile.
const (
	FlagAccumulate = 1 << 0 // add the previous content of C to the tile
	FlagBias       = 1 << 1 // add the bias row (forward)
	FlagBackward   = 1 << 2 // multiply by f'(Y) instead of applying f
	FlagTransCopy  = 1 << 3 // the B panel copied during the sweep is transposed
	ActShift       = 8      // the activation (a Func) is flags >> ActShift
)

// Impl describes one implementation: its registers and its GEMM
// micro-kernel, which the generators build and package kernels drives.
type Impl struct {
	Name  string // as kernels.ISA reports it: "avx2"
	Arch  string // GOARCH of its assembly; "" for the generic Go implementation
	Lanes int    // float32 lanes of a vector register
	Regs  int    // vector registers the kernels may use
	// MR×NR is the register tile of the GEMM micro-kernel; Edges are the
	// heights of smaller tiles for the last rows of a column panel, tallest
	// first (they read the same MR-row packed A): the last m mod MR rows go
	// to the smallest that holds them, or to the MR-row tile.
	MR, NR int
	Edges  []int
	// PacksB: the micro-kernel copies the next packed B panel during its
	// sweep. Strided: it has a variant reading A unpacked.
	PacksB, Strided bool
	// Block sizes (package kernels, blocking.go) come from the cache sizes:
	// a KC×NR panel of B fills L1Fill of L1D, an MC×KC block of A L2Fill
	// of L2, a KC×NC block of B L3Fill of L3.
	L1Fill, L2Fill, L3Fill float64
}

// Impls lists the implementations, best first within an architecture.
var Impls = []Impl{
	{Name: "avx512", Arch: "amd64", Lanes: 16, Regs: 32, MR: 12, NR: 32, Edges: []int{8, 4}, PacksB: true, Strided: true,
		L1Fill: 0.75, L2Fill: 0.25, L3Fill: 0.25},
	{Name: "avx2", Arch: "amd64", Lanes: 8, Regs: 16, MR: 6, NR: 16, Edges: []int{4}, PacksB: true, Strided: true,
		L1Fill: 0.75, L2Fill: 0.25, L3Fill: 0.25},
	{Name: "neon", Arch: "arm64", Lanes: 4, Regs: 32, MR: 8, NR: 12,
		L1Fill: 0.75, L2Fill: 0.25, L3Fill: 0.25},
	{Name: "generic", Lanes: 1, MR: 2, NR: 4,
		L1Fill: 0.75, L2Fill: 0.25, L3Fill: 0.25},
}

// ImplByName returns the implementation called name; it panics if there is
// none.
func ImplByName(name string) *Impl {
	for i := range Impls {
		if Impls[i].Name == name {
			return &Impls[i]
		}
	}
	panic("desc: no implementation " + name)
}
