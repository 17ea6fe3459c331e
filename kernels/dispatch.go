package kernels

import (
	"fmt"
	"os"
	"sync/atomic"

	"github.com/actfuse/actfuse/fallback"
)

// impl is one implementation of every kernel. Each field handles whole
// slices or matrices, so a call through the table costs one indirect call per
// kernel invocation, never one per element. The arguments have been checked.
type impl struct {
	name     string
	forward  func(a Activation, dst, x []float32)
	backward func(a Activation, dx, dy, y []float32)
	// backwardBias is BackwardBias over the whole matrix; nil means
	// fallback.BackwardBias.
	backwardBias func(a Activation, m, n int, dy []float32, lddy int, y []float32, ldy int, dz []float32, lddz int, db []float32)
	// maxoutForward and maxoutBackward are the maxout kernels; nil means
	// package fallback's.
	maxoutForward  func(k int, dst []float32, argmax []int32, x []float32)
	maxoutBackward func(k int, dx, dy []float32, argmax []int32)
	// momentumUpdate, sgdUpdate and adamUpdate are the optimizer updates;
	// nil means package fallback's.
	momentumUpdate func(w, v []float32, lr, mu, wd float32) bool
	sgdUpdate      func(w, v, g []float32, lr, mu, wd float32, nesterov bool) bool
	adamUpdate     func(w, m, v, g []float32, lr, beta1, beta2, eps, wd float32) bool
	// gemm is the implementation's GEMM: its micro-kernels and blocking.
	gemm *gemmContext
	// peak is its FMA peak probe (none for generic).
	peak probe
}

// genericImpl runs package fallback.
var genericImpl = &impl{
	name:     "generic",
	forward:  fallback.Forward,
	backward: fallback.Backward,
	gemm:     genericContext,
}

// impls lists the implementations this machine can run, best first, at
// most the one MaxISAEnv names; the generic one is always last.
var impls = capped(append(archImpls(), genericImpl), os.Getenv(MaxISAEnv))

// MaxISAEnv is the environment variable that caps the implementations at
// start-up, as ONEDNN_MAX_CPU_ISA caps oneDNN's: set to an implementation's
// name ("avx2"), it removes the better ones from Implementations (so that
// Use refuses them) and makes that one the default. An unknown name is
// reported on standard error and ignored.
const MaxISAEnv = "ACTFUSE_MAX_ISA"

// capped returns ims without the implementations before the one called
// max; all of them if max is empty or unknown.
func capped(ims []*impl, max string) []*impl {
	if max == "" {
		return ims
	}
	for i, im := range ims {
		if im.name == max {
			return ims[i:]
		}
	}
	names := make([]string, len(ims))
	for i, im := range ims {
		names[i] = im.name
	}
	fmt.Fprintf(os.Stderr, "actfuse: %s=%q is none of %v: ignored\n", MaxISAEnv, max, names)
	return ims
}

// active is the implementation in use.
var active atomic.Pointer[impl]

// GenericEnv is the environment variable that, set to 1 at start-up, forces
// the generic implementation.
const GenericEnv = "ACTFUSE_GENERIC"

func init() {
	active.Store(impls[0])
	if os.Getenv(GenericEnv) == "1" {
		active.Store(genericImpl)
	}
}

// ISA returns the name of the implementation in use: "avx512", "avx2",
// "neon" or "generic".
func ISA() string { return active.Load().name }

// Implementations returns the names of the implementations this machine can
// run, best first; "generic" is always among them, last.
func Implementations() []string {
	names := make([]string, len(impls))
	for i, im := range impls {
		names[i] = im.name
	}
	return names
}

// Use switches every kernel to the implementation called name, one of
// Implementations. It is meant for start-up, tests and benchmarks: calls
// already running finish on the implementation they started with.
func Use(name string) error {
	for _, im := range impls {
		if im.name == name {
			active.Store(im)
			return nil
		}
	}
	return fmt.Errorf("actfuse: implementation %q is not available on this machine (have %v)", name, Implementations())
}

// ForceGeneric switches every kernel to the pure-Go implementation, the same
// as Use("generic") or ACTFUSE_GENERIC=1.
func ForceGeneric() { active.Store(genericImpl) }
