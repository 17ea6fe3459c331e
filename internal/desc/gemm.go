package desc

// Flags of a GEMM micro-kernel call (the contract is in package kernels,
// gemm.go): which epilogue the kernel applies to a finished tile.
const (
	FlagAccumulate = 1 << 0 // add the previous content of C to the tile
	FlagBias       = 1 << 1 // add the bias row (forward)
	FlagBackward   = 1 << 2 // multiply by f'(Y) instead of applying f
	FlagTransCopy  = 1 << 3 // the B panel copied during the sweep is transposed
	FlagNoOverlap  = 1 << 4 // activate each stored tile at once, never during the next tile's sweep
	ActShift       = 8      // the activation (a Func) is flags >> ActShift
)

// Tile is a GEMM micro-kernel family: its MR×NR register tile, the heights
// of its edge tiles and what it does besides multiplying.
type Tile struct {
	// MR×NR is the register tile; Edges are the heights of smaller tiles
	// for the last rows of a column panel, tallest first (they read the same
	// MR-row packed A): the last m mod MR rows go to the smallest that holds
	// them, or to the MR-row tile.
	MR, NR int
	Edges  []int
	// Tail, when not zero, is the height of the tiles that take the last
	// TailRows(m) rows of a block, packed in micro-panels of Tail rows: the
	// edge tile of m mod MR rows would read a whole B panel for a few rows.
	Tail int
	// PacksB: the micro-kernel copies the next packed B panel during its
	// sweep. Strided: it has a variant reading A unpacked.
	PacksB, Strided bool
}

// Impl describes one implementation: its registers and its GEMM
// micro-kernels, which the generators build and package kernels drives.
type Impl struct {
	Name  string // as kernels.ISA reports it: "avx2"
	Arch  string // GOARCH of its assembly; "" for the generic Go implementation
	Lanes int    // float32 lanes of a vector register
	Regs  int    // vector registers the kernels may use
	Tile         // the micro-kernel of every product but the narrow ones
	// Narrow, when not nil, is the tile of the products whose C has at
	// most Narrow.NR columns (an output layer): a tile of one vector per
	// row wastes fewer lanes on them than the two-vector rows of Tile.
	Narrow *Tile
	// Dot, when not nil, is the kernel family of the products whose C has
	// at most Dot.MaxN columns and whose A is not transposed (see DotTile);
	// it takes them before Narrow or Tile.
	Dot *DotTile
	// Block sizes (package kernels, blocking.go) come from the cache sizes:
	// a KC×NR panel of B fills L1Fill of L1D, an MC×KC block of A L2Fill
	// of L2, a KC×NC block of B L3Fill of L3.
	L1Fill, L2Fill, L3Fill float64
	// L1FillT, when not zero, is L1Fill for a transposed B (A·Bᵀ, the
	// backward product of a layer), whose panels the micro-kernel copies in
	// 4×4 blocks.
	L1FillT float64
	// KCMax, when not zero, bounds the micro-kernels' KC (cacheBlocks; not
	// the dot kernels').
	KCMax int
}

// TailRows returns the number of the last rows of a block of m rows that
// go to Tail-row tiles: MR + r, where r = m mod MR, when r is not zero and
// below Tail and MR + r rows are whole Tail-row tiles; otherwise 0.
func (t *Tile) TailRows(m int) int {
	r := m % t.MR
	if t.Tail == 0 || r == 0 || r >= t.Tail || (t.MR+r)%t.Tail != 0 || m < t.MR+r {
		return 0
	}
	return t.MR + r
}

// LastRows returns the number of the last rows of a block of m rows that
// no MR-row tile computes: TailRows(m) where the tail tiles take them, else
// m mod MR (for an edge tile).
func (t *Tile) LastRows(m int) int {
	if r := t.TailRows(m); r > 0 {
		return r
	}
	return m % t.MR
}

// DotTile describes the dot-product GEMM kernels, for the products with
// very few columns (a classifier's output layer): each element of C is the
// dot product of a row of op(A) and a column of op(B), a vector of Lanes
// consecutive k steps per FMA, so no lane idles whatever n is, where a tile
// row computes n of its lanes. The kernel of n columns holds DotRows(n) rows
// of C at once, n accumulators each, and adds each accumulator's lanes in a
// tree at the end of a k block: the n sums of a row land in the lanes
// 0..n-1 of one vector (or more, beyond Lanes columns), on which the
// epilogue runs as on a row of a tile. B is packed per k block into chunks of Lanes k
// steps, each holding its n columns one after the other (zero beyond k).
type DotTile struct {
	MaxN int // kernels for n = 1..MaxN columns
	// L1Fill is the part of L1D a k block of packed B (n·KC values) fills:
	// the rows of A stream past it.
	L1Fill float64
}

// DotRows returns the rows of C the dot kernel of n columns computes at
// once: as many as leave registers for their n accumulators each, their
// vectors of A and one of B, and at most 4.
func (im *Impl) DotRows(n int) int { return max(1, min(4, (im.Regs-1)/(n+1))) }

// Impls lists the implementations, best first within an architecture.
var Impls = []Impl{
	// avx512: the 6×64 tile, four zmm accumulators a row, broadcasts A once
	// per four FMAs where the 12×32 tile did per two, and keeps 6 rows of C
	// (4 KiB apart at 1024 columns) in L1 sets where 12 rows conflicted:
	// on a Sapphire-Rapids-class Xeon 256×1024×1024 ran 161 → 180 GFLOP/s,
	// 128×784×512 154 → 179, 1024³ 176 → 182. Its B panel of KC = 288 steps
	// (L1Fill 1.5 of 48 KiB, the KC of the 12×32 tile) streams from L2:
	// KC = 144 ran 1024³ at 173.
	{Name: "avx512", Arch: "amd64", Lanes: 16, Regs: 32,
		// A block of m ≡ 2 (mod 6) rows (128, a batch) ends in two 4×64
		// tiles instead of a 6×64 and a 2×64 one, whose B panel, streamed
		// from L2, fed 8 FMAs a k step instead of 24.
		Tile:   Tile{MR: 6, NR: 64, Edges: []int{4, 2}, Tail: 4, PacksB: true, Strided: true},
		Narrow: &Tile{MR: 16, NR: 16, Edges: []int{8}, PacksB: true, Strided: true},
		// The dot kernels up to 12 columns (m×n×k): 128×10×512 ran 106 → 146
		// GFLOP/s (the 16×16 tile computes 10 of its 16 lanes), 128×4×512
		// 44 → 127; at 13 and 14 columns they gained 4–5% at k = 512 and
		// lost 11% at k = 128.
		Dot: &DotTile{MaxN: 12, L1Fill: 0.75},
		// A transposed B takes longer k blocks (L1FillT 2.7: KC = 512 of a
		// 48 KiB L1D, against 288): 128×512×784 A·Bᵀ 194 → 199 GFLOP/s,
		// with the backward epilogue 186 → 191, where 128×512×512 with a
		// row-major B ran 202 → 194.
		L1Fill: 1.5, L2Fill: 0.25, L3Fill: 0.25, L1FillT: 2.7},
	{Name: "avx2", Arch: "amd64", Lanes: 8, Regs: 16,
		Tile: Tile{MR: 6, NR: 16, Edges: []int{4}, PacksB: true, Strided: true},
		// The dot kernels (Sapphire-Rapids-class Xeon; m×n×k): 128×10×512
		// 73 → 99 GFLOP/s (the 6×16 tile computes 10 of its 16 columns),
		// 128×4×512 30 → 106, 128×12×512 89 → 101; then, with B as the
		// one-row kernels' memory operand, 128×10×512 97 → 101.
		Dot: &DotTile{MaxN: 12, L1Fill: 0.75},
		// KC at most 384: the 0.75 of a 48 KiB L1D (Sapphire-Rapids-class
		// Xeon) made it 512, where the panel and the A micro-panel beside it
		// (44 KiB) nearly fill L1D. With the bound k = 512 runs in two
		// blocks of 256 and k = 1024 in three of 344; 3 alternated rounds:
		// 128×512×784 A·Bᵀ 112.3 → 116.2 GFLOP/s, 256×1024×1024 118.4 →
		// 119.9, 128×512×512 117.9 → 120.8, 1024³ 121.9 → 122.2. A 32 KiB
		// L1D (Zen 3) gives 384 itself.
		L1Fill: 0.75, L2Fill: 0.25, L3Fill: 0.25, KCMax: 384},
	{Name: "neon", Arch: "arm64", Lanes: 4, Regs: 32, Tile: Tile{MR: 8, NR: 12},
		L1Fill: 0.75, L2Fill: 0.25, L3Fill: 0.25},
	{Name: "generic", Lanes: 1, Tile: Tile{MR: 2, NR: 4},
		L1Fill: 0.75, L2Fill: 0.25, L3Fill: 0.25},
}

// NarrowImpl returns im with its narrow tile as the tile (and no narrow
// tile, dot kernels or KC of its own for a transposed B), or nil if im has
// none.
func (im *Impl) NarrowImpl() *Impl {
	if im.Narrow == nil {
		return nil
	}
	n := *im
	n.Tile, n.Narrow, n.Dot, n.L1FillT = *im.Narrow, nil, nil, 0
	return &n
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
