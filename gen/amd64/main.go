// Command amd64 generates the AVX2+FMA kernels of package
// github.com/actfuse/actfuse/kernels/asm with avo.
//
// One run writes one assembly file and its Go declarations; -kernels chooses
// which group:
//
//	go -C gen run ./amd64 -kernels act -out ../kernels/asm/act_amd64.s -stubs ../kernels/asm/act_amd64.go -pkg asm
//
// The go:generate lines in kernels/asm/doc.go run every group.
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"

	. "github.com/mmcloughlin/avo/build"
)

// groups maps a -kernels name to the function that emits its kernels.
var groups = map[string]func(){}

func main() {
	which := flag.String("kernels", "", "kernel group to generate")
	names := make([]string, 0, len(groups))
	for n := range groups {
		names = append(names, n)
	}
	sort.Strings(names)
	emit, ok := groups[*parseKernelsFlag(which)]
	if !ok {
		fmt.Fprintf(os.Stderr, "amd64: -kernels must be one of %v\n", names)
		os.Exit(2)
	}
	ConstraintExpr("!purego")
	emit()
	Generate()
}

// parseKernelsFlag reads -kernels before avo's own flag parsing in Generate,
// which parses the same command line again.
func parseKernelsFlag(which *string) *string {
	fs := flag.NewFlagSet("amd64", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	fs.StringVar(which, "kernels", "", "kernel group to generate")
	// avo's flags, accepted here and parsed by Generate.
	for _, n := range []string{"out", "stubs", "pkg", "log", "cpuprofile"} {
		fs.String(n, "", "")
	}
	fs.Bool("e", false, "")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	return which
}
