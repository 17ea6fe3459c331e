package neon

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gnuTool finds a binutils program for aarch64, or skips the test.
func gnuTool(t *testing.T, name string) string {
	for _, prefix := range []string{"aarch64-linux-gnu-", "aarch64-none-elf-", "aarch64-elf-"} {
		if p, err := exec.LookPath(prefix + name); err == nil {
			return p
		}
	}
	t.Skipf("aarch64 %s not found: install binutils-aarch64-linux-gnu (Debian) to check the WORD encodings against GNU as", name)
	return ""
}

// TestEncodingsMatchGNUAs assembles every sample of every WORD form with GNU
// as and compares the bytes with the emitter's encoding.
func TestEncodingsMatchGNUAs(t *testing.T) {
	as := gnuTool(t, "as")
	objcopy := gnuTool(t, "objcopy")
	dir := t.TempDir()
	var src strings.Builder
	src.WriteString("\t.text\n")
	var insts []Inst
	var names []string
	for _, f := range Forms() {
		samples := f.Samples()
		if len(samples) == 0 {
			t.Errorf("form %s has no samples", f.Name)
		}
		for _, in := range samples {
			insts = append(insts, in)
			names = append(names, f.Name)
			fmt.Fprintf(&src, "\t%s\n", in.GNU)
		}
	}
	srcPath := filepath.Join(dir, "forms.s")
	objPath := filepath.Join(dir, "forms.o")
	binPath := filepath.Join(dir, "forms.bin")
	if err := os.WriteFile(srcPath, []byte(src.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(as, "-o", objPath, srcPath).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", as, err, out)
	}
	if out, err := exec.Command(objcopy, "-O", "binary", "-j", ".text", objPath, binPath).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", objcopy, err, out)
	}
	bin, err := os.ReadFile(binPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(bin) != 4*len(insts) {
		t.Fatalf("GNU as produced %d bytes for %d instructions", len(bin), len(insts))
	}
	bad := 0
	for i, in := range insts {
		got := binary.LittleEndian.Uint32(bin[4*i:])
		if got != in.Enc {
			bad++
			t.Errorf("%s: %q: emitter 0x%08x, GNU as 0x%08x", names[i], in.GNU, in.Enc, got)
		}
	}
	t.Logf("checked %d instances of %d WORD forms against %s", len(insts), len(Forms()), as)
}

// TestFormsNamesUnique checks that Forms lists each form once.
func TestFormsNamesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Forms() {
		if seen[f.Name] {
			t.Errorf("form %s listed twice", f.Name)
		}
		seen[f.Name] = true
	}
}
