package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/actfuse/actfuse/internal/scratch"
)

// threads is the number of goroutines a Gemm call may use; 0 means
// GOMAXPROCS.
var threads atomic.Int32

// SetThreads sets the number of goroutines a large Gemm call, or a large
// optimizer update (MomentumUpdate, SGDUpdate, AdamUpdate), may run on.
// n <= 0 restores the default, runtime.GOMAXPROCS(0) at the time of each
// call. The results are bitwise the same for every setting: C is split into
// blocks of whole rows or columns and every element is computed by exactly
// the same operations, and an update, elementwise, is split into contiguous
// chunks. Small products and updates run on one goroutine whatever the
// setting, because waking another costs more than it saves; products from
// 1 MFLOP called within 200 µs of the previous one, when the workers are
// awake, share their blocks with them without waiting for any. After a call a
// worker polls for the next one for 200 µs before it parks, and so does a
// caller waiting for its workers (yielding to other goroutines meanwhile),
// as OpenMP runtimes do: a parked thread takes tens to hundreds of
// microseconds to wake, in a virtual machine above all.
func SetThreads(n int) {
	threads.Store(int32(max(n, 0)))
}

// Threads returns the number of goroutines a large call may run on: the
// value set by SetThreads, or runtime.GOMAXPROCS(0) by default.
func Threads() int {
	if n := threads.Load(); n > 0 {
		return int(n)
	}
	return runtime.GOMAXPROCS(0)
}

// minFlopsPerThread is the least work, in flops, worth handing to another
// goroutine: about 50 µs of one AVX2 core, an order of magnitude above the
// cost of waking a parked worker.
const minFlopsPerThread = 4 << 20

// minSharedFlops is the least work of a product shared with workers that
// are awake (see sharedGemm): 128×512×10, a classifier's output layer, is
// 1.3 MFLOP, about 10 µs of one AVX-512 core.
const minSharedFlops = 1 << 20

// lastGemm is the time (UnixNano) at which the last Gemm call that used
// workers, or might have, ended: a call shortly after it (within spinWait)
// finds them awake.
var lastGemm atomic.Int64

// gemmJob is the state of one Gemm call, pooled so that calls do not
// allocate.
type gemmJob struct {
	g      gemmCall
	wg     sync.WaitGroup
	left   atomic.Int32 // tasks not yet done, which the caller polls (spinWait)
	bounds []int        // block boundaries, reused across calls
	// bufs[p] are the packing buffers of block p. A block's buffers stay
	// with the goroutine that usually computes that block (the caller the
	// first, worker p-1 or the first helper to claim the next), and so
	// with its core's caches, across the calls a job serves: with buffers
	// from one free list, which the goroutines took in any order, 128×10×512
	// on 2 threads ran at 8.1 µs a call (162 GFLOP/s), as on one, each block
	// of 64 rows taking 6.5 µs, of which 1.7 µs were the packed B's cache
	// lines fetched from the other core; with these, 6.1 µs (215 GFLOP/s;
	// avx512 dot kernels, Sapphire-Rapids-class Xeon).
	bufs []*gemmBuffers

	// panicked holds the first panic of a worker, re-raised by the caller
	// of Gemm so that it can be recovered there.
	mu       sync.Mutex
	panicked any

	// A shared call (sharedGemm): claim holds the call's generation in its
	// high 32 bits, its number of blocks in the next 16 and the next
	// unclaimed block in the low 16; done counts the blocks computed. A
	// helper may arrive after the call has ended and the job serves
	// another: it finds another generation and leaves, having read nothing
	// but claim.
	gen    uint32
	claim  atomic.Uint64
	done   atomic.Int32
	byCols bool
	ctx    *gemmContext
}

var jobPool scratch.List[gemmJob]

// buffers returns the packing buffers of blocks 0..n-1, allocated on first
// use; the caller calls it before any block runs.
func (job *gemmJob) buffers(n int) []*gemmBuffers {
	for len(job.bufs) < n {
		job.bufs = append(job.bufs, new(gemmBuffers))
	}
	return job.bufs[:n]
}

// gemmTask is one block of a Gemm call, or, when upd is set, one chunk of an
// optimizer update, run by a worker.
type gemmTask struct {
	ctx            *gemmContext // the GEMM of the call
	job            *gemmJob
	i0, i1, j0, j1 int
	upd            *updateJob // the update whose elements [i0, i1) to update
	part           int        // the block's index (its buffers), or the chunk's (its result in upd.ok)
	// help: claim blocks of the shared call job of generation gen.
	help bool
	gen  uint32
}

// workerPool is the set of persistent worker goroutines, grown on demand
// and never shrunk; each waits on its own channel.
var workerPool struct {
	mu      sync.Mutex
	workers []chan gemmTask
}

func worker(ch chan gemmTask) {
	for {
		t, ok := receive(ch)
		if !ok {
			return
		}
		if t.upd != nil {
			t.upd.ok[t.part] = t.upd.chunk(t.i0, t.i1)
			t.upd.left.Add(-1)
			t.upd.wg.Done()
			continue
		}
		if t.help {
			t.job.claimBlocks(t.gen)
			continue
		}
		runTask(t)
	}
}

// spinWait is how long a worker polls its channel after a task, and a
// caller its job's counter, before parking: a parked goroutine's thread
// sleeps, and waking it (a futex, and in a virtual machine the wake-up of
// an idle vCPU) takes tens to hundreds of microseconds, the time of a
// whole layer's GEMM. Back-to-back calls, as in training, find the workers
// awake; OpenMP runtimes spin in the same way (GOMP_SPINCOUNT).
const spinWait = 200 * time.Microsecond

// spinUntil polls done for up to spinWait, yielding the processor to any
// other runnable goroutine between polls (with fewer Ps than threads, or a
// busy program, spinning must not hold up the work it waits for).
func spinUntil(done func() bool) {
	start := time.Now()
	for i := 1; !done(); i++ {
		runtime.Gosched()
		if i&15 == 0 && time.Since(start) > spinWait {
			return
		}
	}
}

// receive returns the next task of ch, polling it for up to spinWait
// before blocking.
func receive(ch chan gemmTask) (gemmTask, bool) {
	select {
	case t, ok := <-ch:
		return t, ok
	default:
	}
	var t gemmTask
	var ok, got bool
	spinUntil(func() bool {
		select {
		case t, ok = <-ch:
			got = true
		default:
		}
		return got
	})
	if !got {
		t, ok = <-ch
	}
	return t, ok
}

// runTask computes one block and records a panic instead of letting it end
// the process.
func runTask(t gemmTask) {
	defer t.job.wg.Done()
	defer t.job.left.Add(-1)
	defer t.job.catch()
	t.ctx.run(&t.job.g, t.job.bufs[t.part], t.i0, t.i1, t.j0, t.j1)
}

// catch, deferred by the goroutine computing a block, records the first
// panic of the call for its caller (rethrow).
func (job *gemmJob) catch() {
	if r := recover(); r != nil {
		job.mu.Lock()
		if job.panicked == nil {
			job.panicked = r
		}
		job.mu.Unlock()
	}
}

// rethrow re-raises, in the caller of Gemm, a panic recorded by catch.
func (job *gemmJob) rethrow() {
	if r := job.panicked; r != nil {
		job.panicked = nil
		panic(r)
	}
}

// workers returns n worker channels, starting goroutines as needed.
func workers(n int) []chan gemmTask {
	workerPool.mu.Lock()
	defer workerPool.mu.Unlock()
	for len(workerPool.workers) < n {
		ch := make(chan gemmTask, 4)
		go worker(ch)
		workerPool.workers = append(workerPool.workers, ch)
	}
	return workerPool.workers[:n]
}

// split returns the boundaries of t nearly equal parts of [0, n) on
// multiples of grain, in b when it is large enough.
func split(b []int, n, t, grain int) []int {
	units := (n + grain - 1) / grain
	if cap(b) < t+1 {
		b = make([]int, t+1)
	}
	b = b[:t+1]
	for i := 1; i <= t; i++ {
		b[i] = min(n, (units*i/t)*grain)
	}
	b[t] = n
	return b
}

// block returns the rows [i0, i1) and columns [j0, j1) of C in part p of
// the call job.g split at the bounds b of its columns (byCols) or rows.
func (job *gemmJob) block(b []int, p int, byCols bool) (i0, i1, j0, j1 int) {
	if byCols {
		return 0, job.g.m, b[p], b[p+1]
	}
	return b[p], b[p+1], 0, job.g.n
}

// parallelGemm runs the call job.g on im, split into blocks of C over up to
// Threads() goroutines (the caller's included); the context computing the
// blocks is the one im chooses for the call's shape.
func parallelGemm(im *impl, job *gemmJob) {
	g := &job.g
	ctx := im.gemm.forCall(g)
	// Split the larger dimension on multiples of the register tile, so that
	// no block adds an edge tile.
	byCols := g.n >= g.m
	n, grain := g.m, ctx.mr
	if byCols {
		n, grain = g.n, ctx.nr
	}
	units := (n + grain - 1) / grain
	flops := 2 * float64(g.m) * float64(g.n) * float64(g.k)
	t := min(Threads(), units, max(1, int(flops/minFlopsPerThread)))
	if flops < 2*minFlopsPerThread {
		t = 1
		if Threads() == 1 || flops < minSharedFlops || units == 1 {
			ctx.run(g, job.buffers(1)[0], 0, g.m, 0, g.n)
			return
		}
		// Workers are awake within spinWait of the last call that used
		// them or could have.
		defer func() { lastGemm.Store(time.Now().UnixNano()) }()
		if time.Now().UnixNano()-lastGemm.Load() < int64(spinWait) {
			sharedGemm(ctx, job, min(Threads(), units), byCols, n, grain)
			return
		}
	}
	if t <= 1 {
		ctx.run(g, job.buffers(1)[0], 0, g.m, 0, g.n)
		return
	}
	defer func() { lastGemm.Store(time.Now().UnixNano()) }()
	b := split(job.bounds, n, t, grain)
	job.bounds = b
	bufs := job.buffers(t)
	wg := &job.wg
	ws := workers(t - 1)
	for p := 1; p < t; p++ {
		task := gemmTask{ctx: ctx, job: job, part: p}
		task.i0, task.i1, task.j0, task.j1 = job.block(b, p, byCols)
		if task.i0 == task.i1 || task.j0 == task.j1 {
			continue
		}
		wg.Add(1)
		job.left.Add(1)
		ws[p-1] <- task
	}
	if b[1] > 0 {
		i0, i1, j0, j1 := job.block(b, 0, byCols)
		ctx.run(g, bufs[0], i0, i1, j0, j1)
	}
	spinUntil(func() bool { return job.left.Load() == 0 })
	wg.Wait()
	job.rethrow()
}

// sharedGemm runs a product too small to wait for a worker on the caller,
// with help from t-1 workers that are awake: the call is cut into blocks of
// C (of the n rows or columns, on multiples of grain), each taken by
// whoever claims it first, so a worker that is parked, and takes longer to
// wake than the call to finish, costs the call nothing but the message to
// it. The blocks are those of a split over threads, so the result is
// bitwise that of one thread. There is one block per goroutine: a helper
// that wakes late finds its block taken by the caller, which then computes
// the whole product, as on one thread. More, smaller blocks would let a
// late helper take part of the rest, but every block packs its own B
// panels: on Zen 4, 128×512×10 on 2 threads ran at 93.7 GFLOP/s with 2
// blocks per goroutine and 112.5 with 1, and an MNIST training step
// (BenchmarkTrainStep, 2 threads) 1.196 → 1.164 s/epoch (5 alternated
// runs).
func sharedGemm(ctx *gemmContext, job *gemmJob, t int, byCols bool, n, grain int) {
	parts := min(t, (n+grain-1)/grain, 1<<15)
	job.bounds = split(job.bounds, n, parts, grain)
	job.buffers(parts)
	job.byCols, job.ctx = byCols, ctx
	job.gen++
	job.done.Store(0)
	job.claim.Store(uint64(job.gen)<<32 | uint64(parts)<<16)
	for _, w := range workers(t - 1) {
		select {
		case w <- gemmTask{job: job, help: true, gen: job.gen}:
		default: // busy: the caller takes its share
		}
	}
	job.claimBlocks(job.gen)
	spinUntil(func() bool { return job.done.Load() == int32(parts) })
	for job.done.Load() != int32(parts) { // a block a helper claimed, in progress
		runtime.Gosched()
	}
	job.ctx = nil
	job.rethrow()
}

// claimBlocks computes blocks of the shared call of generation gen until
// none is left, or returns at once if the job is in another call.
func (job *gemmJob) claimBlocks(gen uint32) {
	for {
		s := job.claim.Load()
		if uint32(s>>32) != gen || uint16(s) >= uint16(s>>16) {
			return
		}
		if !job.claim.CompareAndSwap(s, s+1) {
			continue
		}
		// Claimed: the call cannot end before this block is done, so the
		// job's fields are the call's.
		job.runBlock(int(uint16(s)))
	}
}

// runBlock computes block i of a shared call, recording a panic for the
// caller.
func (job *gemmJob) runBlock(i int) {
	defer job.done.Add(1)
	defer job.catch()
	i0, i1, j0, j1 := job.block(job.bounds, i, job.byCols)
	job.ctx.run(&job.g, job.bufs[i], i0, i1, j0, j1)
}

// minUpdateChunk is the least number of elements of an optimizer update
// worth handing to another goroutine (about 10 µs of one core's memory
// bandwidth), and maxUpdateParts the most chunks an update is split into.
const (
	minUpdateChunk = 1 << 15
	maxUpdateParts = 64
)

// updateGrain is the multiple of elements on which update chunks start: 256
// bytes, whole cache lines and whole vectors.
const updateGrain = 64

// updateParts returns the number of goroutines an update of n elements runs
// on.
func updateParts(n int) int { return min(Threads(), n/minUpdateChunk, maxUpdateParts) }

// run applies the update j split into parts contiguous chunks, the first on
// the calling goroutine and the others on workers, returns j to the pool and
// reports whether the weights of every chunk are finite.
func (j *updateJob) run(parts int) bool {
	b := split(j.bounds, len(j.w), parts, updateGrain)
	j.bounds = b
	ws := workers(parts - 1)
	j.wg.Add(parts - 1)
	j.left.Store(int32(parts - 1))
	for p := 1; p < parts; p++ {
		ws[p-1] <- gemmTask{upd: j, i0: b[p], i1: b[p+1], part: p}
	}
	ok := j.chunk(0, b[1])
	spinUntil(func() bool { return j.left.Load() == 0 })
	j.wg.Wait()
	for p := 1; p < parts; p++ {
		ok = ok && j.ok[p]
	}
	j.w, j.m, j.v, j.g = nil, nil, nil, nil // drop the references to the caller's slices
	updateJobs.Put(j)
	return ok
}
