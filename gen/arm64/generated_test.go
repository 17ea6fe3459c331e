package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/actfuse/actfuse/gen/arm64/neon"
)

var wordLine = regexp.MustCompile(`^\s*WORD \$0x([0-9a-f]{8}) // (.*)$`)

// TestGeneratedWordsMatchGNUAs assembles the mnemonic in the comment of
// every WORD in the generated kernels/asm/*_arm64.s with GNU as and checks
// that it encodes to the WORD.
func TestGeneratedWordsMatchGNUAs(t *testing.T) {
	as, err := exec.LookPath("aarch64-linux-gnu-as")
	if err != nil {
		t.Skip("aarch64-linux-gnu-as not found: install binutils-aarch64-linux-gnu (Debian) to check the WORD encodings against GNU as")
	}
	objcopy, err := exec.LookPath("aarch64-linux-gnu-objcopy")
	if err != nil {
		t.Skip("aarch64-linux-gnu-objcopy not found")
	}
	files, _ := filepath.Glob("../../kernels/asm/*_arm64.s")
	if len(files) == 0 {
		t.Fatal("no kernels/asm/*_arm64.s files")
	}
	seen := map[string]uint32{}
	var src strings.Builder
	var order []string
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(text), "\n") {
			m := wordLine.FindStringSubmatch(line)
			if m == nil {
				if strings.Contains(line, "WORD") {
					t.Errorf("%s: WORD without a mnemonic comment: %q", f, line)
				}
				continue
			}
			enc, _ := strconv.ParseUint(m[1], 16, 32)
			if prev, ok := seen[m[2]]; ok {
				if prev != uint32(enc) {
					t.Errorf("%q emitted as both 0x%08x and 0x%08x", m[2], prev, enc)
				}
				continue
			}
			seen[m[2]] = uint32(enc)
			order = append(order, m[2])
			src.WriteString("\t" + m[2] + "\n")
		}
	}
	dir := t.TempDir()
	s, o, b := filepath.Join(dir, "w.s"), filepath.Join(dir, "w.o"), filepath.Join(dir, "w.bin")
	if err := os.WriteFile(s, []byte(src.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(as, "-o", o, s).CombinedOutput(); err != nil {
		t.Fatalf("as: %v\n%s", err, out)
	}
	if out, err := exec.Command(objcopy, "-O", "binary", "-j", ".text", o, b).CombinedOutput(); err != nil {
		t.Fatalf("objcopy: %v\n%s", err, out)
	}
	bin, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(bin) != 4*len(order) {
		t.Fatalf("GNU as produced %d bytes for %d instructions", len(bin), len(order))
	}
	for i, mn := range order {
		if got := binary.LittleEndian.Uint32(bin[4*i:]); got != seen[mn] {
			t.Errorf("%q: generated 0x%08x, GNU as 0x%08x", mn, seen[mn], got)
		}
	}
	t.Logf("%d distinct WORD instructions in %d files match GNU as", len(order), len(files))
}

// TestGeneratedFilesUpToDate regenerates every group into a temporary
// directory and compares with kernels/asm.
func TestGeneratedFilesUpToDate(t *testing.T) {
	dir := t.TempDir()
	for _, g := range groups {
		neon.Reset()
		g.emit()
		s := filepath.Join(dir, g.name+"_arm64.s")
		d := filepath.Join(dir, g.name+"_arm64.go")
		if err := neon.Generate(s, d, "asm", command); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{s, d} {
			got, _ := os.ReadFile(p)
			want, err := os.ReadFile(filepath.Join("../../kernels/asm", filepath.Base(p)))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("kernels/asm/%s is not what gen/arm64 writes: run go generate ./kernels/asm", filepath.Base(p))
			}
		}
	}
}
