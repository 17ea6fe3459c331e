package kernels

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestDispatchTable(t *testing.T) {
	names := Implementations()
	if len(names) == 0 || names[len(names)-1] != "generic" {
		t.Fatalf("Implementations() = %v, want generic last", names)
	}
	if !slices.Contains(names, ISA()) {
		t.Fatalf("ISA() = %q not in Implementations() = %v", ISA(), names)
	}
	defer Use(ISA())
	for _, n := range names {
		if err := Use(n); err != nil {
			t.Fatalf("Use(%q): %v", n, err)
		}
		if ISA() != n {
			t.Fatalf("after Use(%q), ISA() = %q", n, ISA())
		}
	}
	err := Use("avx512-imaginary")
	if err == nil || !strings.Contains(err.Error(), "avx512-imaginary") {
		t.Fatalf("Use(unknown) error = %v, want one naming the implementation", err)
	}
	ForceGeneric()
	if ISA() != "generic" {
		t.Fatalf("after ForceGeneric, ISA() = %q", ISA())
	}
}

// TestGenericEnv runs this test binary again with ACTFUSE_GENERIC=1 and checks
// that the child starts on the generic implementation.
func TestGenericEnv(t *testing.T) {
	if os.Getenv("ACTFUSE_REPORT_ISA") == "1" {
		os.Stdout.WriteString("isa=" + ISA() + "\n")
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skipf("cannot find the test binary: %v", err)
	}
	cmd := exec.Command(exe, "-test.run=^TestGenericEnv$", "-test.count=1")
	cmd.Env = append(os.Environ(), "ACTFUSE_REPORT_ISA=1", GenericEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		// Under an emulator the binary may not be directly executable.
		t.Skipf("cannot re-run the test binary: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "isa=generic\n") {
		t.Fatalf("with %s=1 the child reported:\n%s", GenericEnv, out)
	}
}
