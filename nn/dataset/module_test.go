package dataset

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
)

func TestMNISTModuleRef(t *testing.T) {
	def := moduleRef{path: MNISTModule, version: MNISTModuleVersion}
	other := &debug.Module{Path: "example.com/other", Version: "v1.0.0"}
	for _, c := range []struct {
		name string
		bi   *debug.BuildInfo
		want moduleRef
	}{
		{"no build information", nil, def},
		{"not a dependency", &debug.BuildInfo{Deps: []*debug.Module{other}}, def},
		{"required version", &debug.BuildInfo{Deps: []*debug.Module{other, {Path: MNISTModule, Version: "v0.0.0-20990101000000-abcdefabcdef"}}},
			moduleRef{path: MNISTModule, version: "v0.0.0-20990101000000-abcdefabcdef"}},
		{"replaced by a module", &debug.BuildInfo{Deps: []*debug.Module{{Path: MNISTModule, Version: "v1.0.0",
			Replace: &debug.Module{Path: "example.com/fork/GoMNIST", Version: "v1.1.0"}}}},
			moduleRef{path: "example.com/fork/GoMNIST", version: "v1.1.0"}},
		{"replaced by a directory", &debug.BuildInfo{Deps: []*debug.Module{{Path: MNISTModule, Version: "v1.0.0",
			Replace: &debug.Module{Path: "/src/GoMNIST"}}}}, moduleRef{dir: "/src/GoMNIST"}},
	} {
		if got := mnistModule(c.bi); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestModuleCaches(t *testing.T) {
	sep := string(filepath.ListSeparator)
	for _, c := range []struct {
		env  map[string]string
		home string
		want []string
	}{
		{map[string]string{"GOMODCACHE": "/c", "GOPATH": "/p" + sep + "/q"}, "/h",
			[]string{"/c", filepath.Join("/p", "pkg", "mod"), filepath.Join("/h", "go", "pkg", "mod")}},
		{map[string]string{}, "/h", []string{filepath.Join("/h", "go", "pkg", "mod")}},
		// The default GOPATH given explicitly is listed once.
		{map[string]string{"GOPATH": filepath.Join("/h", "go")}, "/h", []string{filepath.Join("/h", "go", "pkg", "mod")}},
		{map[string]string{}, "", nil},
	} {
		got := moduleCaches(func(k string) string { return c.env[k] }, c.home)
		if !slices.Equal(got, c.want) {
			t.Errorf("env %v, home %q: %q, want %q", c.env, c.home, got, c.want)
		}
	}
}

// fakeModule creates in cache the data directory of mod holding an (empty)
// training image file, and returns the directory.
func fakeModule(t *testing.T, cache string, mod moduleRef) string {
	t.Helper()
	dir := filepath.Join(cache, filepath.FromSlash(escapeModulePath(mod.path)+"@"+mod.version), "data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, mnistFiles[0]+".gz"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLocateMNIST(t *testing.T) {
	mod := moduleRef{path: MNISTModule, version: MNISTModuleVersion}
	empty, full, viaGo := t.TempDir(), t.TempDir(), t.TempDir()
	want := fakeModule(t, full, mod)
	// Another version in the first cache does not count.
	fakeModule(t, empty, moduleRef{path: MNISTModule, version: "v9.9.9"})
	asked := false
	noGo := func() string { asked = true; return "" }

	got, err := locateMNIST(mod, []string{empty, full}, noGo)
	if err != nil || got != want {
		t.Errorf("second cache: %q, %v; want %q", got, err, want)
	}
	if asked {
		t.Error("ran `go env GOMODCACHE` although a listed cache holds the module")
	}

	goDir := fakeModule(t, viaGo, mod)
	got, err = locateMNIST(mod, []string{empty}, func() string { return viaGo })
	if err != nil || got != goDir {
		t.Errorf("the go command's cache: %q, %v; want %q", got, err, goDir)
	}

	// Nowhere: the error names the caches, the module and the way out.
	_, err = locateMNIST(mod, []string{empty}, func() string { return viaGo + "-missing" })
	if err == nil {
		t.Fatal("no error for a module found nowhere")
	}
	for _, s := range []string{"MNIST files not found in the module cache", empty, viaGo + "-missing",
		"go mod download " + MNISTModule + "@" + MNISTModuleVersion, "or pass the directory"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}

	// A directory replacement is used as it is, and must hold the files.
	repl := t.TempDir()
	if _, err := locateMNIST(moduleRef{dir: repl}, nil, noGo); err == nil || !strings.Contains(err.Error(), "replaces "+MNISTModule) {
		t.Errorf("empty replacement directory: %v", err)
	}
	os.Mkdir(filepath.Join(repl, "data"), 0o755)
	os.WriteFile(filepath.Join(repl, "data", mnistFiles[0]), nil, 0o644)
	if got, err := locateMNIST(moduleRef{dir: repl}, nil, noGo); err != nil || got != filepath.Join(repl, "data") {
		t.Errorf("replacement directory: %q, %v", got, err)
	}
}

func TestMNISTModule(t *testing.T) {
	// The version LoadMNIST looks for must be the one go.mod requires.
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Skip("go.mod not found:", err)
	}
	if !strings.Contains(string(mod), MNISTModule+" "+MNISTModuleVersion) {
		t.Errorf("go.mod does not require %s %s", MNISTModule, MNISTModuleVersion)
	}
	if escapeModulePath(MNISTModule) != "github.com/petar/!go!m!n!i!s!t" {
		t.Errorf("escaped path %s", escapeModulePath(MNISTModule))
	}
	if testing.Short() {
		t.Skip("reading MNIST in -short mode")
	}
	dir, err := MNISTDir()
	if err != nil {
		t.Skip(err) // module not downloaded
	}
	train, test, err := LoadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 60000 || test.Len() != 10000 || train.In != 784 {
		t.Fatalf("MNIST has %d training and %d test examples of %d pixels", train.Len(), test.Len(), train.In)
	}
	var counts [10]int
	for _, l := range test.Labels {
		counts[l]++
	}
	// The published class counts of the MNIST test set.
	if counts != [10]int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009} {
		t.Errorf("test class counts %v", counts)
	}
}
