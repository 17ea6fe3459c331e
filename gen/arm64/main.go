// Command arm64 generates the NEON kernels of package
// github.com/actfuse/actfuse/kernels/asm with the emitter of package
// gen/arm64/neon. Each kernel group is written to <group>_arm64.s with its Go
// declarations in <group>_arm64.go, in the directory given by -dir:
//
//	go -C gen run ./arm64 -dir ../kernels/asm
//
// The go:generate line in kernels/asm/doc.go runs it. The output depends
// only on this program, so regenerating is deterministic.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/actfuse/actfuse/gen/arm64/neon"
)

// command is the go:generate line (kernels/asm/doc.go) that runs this
// program, as the generated files name it.
const command = "go -C ../../gen run ./arm64 -dir ../kernels/asm"

// group is one output file pair and the function that emits its kernels.
type group struct {
	name string
	emit func()
}

// groups lists the kernel groups in output order; each registers itself from
// an init function in its own file.
var groups []group

func main() {
	dir := flag.String("dir", ".", "output directory (kernels/asm)")
	pkg := flag.String("pkg", "asm", "package name of the Go declarations")
	flag.Parse()
	for _, g := range groups {
		neon.Reset()
		g.emit()
		s := filepath.Join(*dir, g.name+"_arm64.s")
		d := filepath.Join(*dir, g.name+"_arm64.go")
		if err := neon.Generate(s, d, *pkg, command); err != nil {
			fmt.Fprintf(os.Stderr, "arm64: group %s: %v\n", g.name, err)
			os.Exit(1)
		}
	}
}
