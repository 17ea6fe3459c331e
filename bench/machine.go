package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/cpuid/v2"

	"github.com/actfuse/actfuse/kernels"
)

// Cache sizes assumed when neither cpuid nor the operating system reports
// them (cpuid reports none on arm64).
const (
	DefaultL1D = 32 << 10
	DefaultL2  = 512 << 10
	DefaultL3  = 8 << 20
)

// Machine describes the computer and the build a report was measured on.
type Machine struct {
	GOOS            string   `json:"goos"`
	GOARCH          string   `json:"goarch"`
	GoVersion       string   `json:"go_version"`
	CPU             string   `json:"cpu"`              // brand string, "" when unknown
	Vendor          string   `json:"vendor"`           // cpuid vendor string, "" when unknown
	NumCPU          int      `json:"num_cpu"`          // logical CPUs usable by the process
	GOMAXPROCS      int      `json:"gomaxprocs"`       // GOMAXPROCS at detection time
	ISA             string   `json:"isa"`              // the dispatched implementation (kernels.ISA)
	Implementations []string `json:"implementations"`  // kernels.Implementations
	L1D             int      `json:"l1d_bytes"`        // per-core L1 data cache
	L2              int      `json:"l2_bytes"`         // per-core L2 cache
	L3              int      `json:"l3_bytes"`         // last-level cache
	CacheSource     string   `json:"cache_source"`     // "cpuid", "sysfs" or "default"
	Hypervisor      bool     `json:"hypervisor"`       // running in a virtual machine (speeds are still real)
	Emulated        bool     `json:"emulated"`         // running under an instruction-set emulator (speeds are meaningless)
	EmulationReason string   `json:"emulation_reason"` // why Emulated was set
	Time            string   `json:"time"`             // UTC time of detection, RFC 3339
}

// DetectMachine reports the machine this process runs on.
func DetectMachine() Machine {
	c := &cpuid.CPU
	m := Machine{
		GOOS:            runtime.GOOS,
		GOARCH:          runtime.GOARCH,
		GoVersion:       runtime.Version(),
		CPU:             strings.TrimSpace(c.BrandName),
		NumCPU:          runtime.NumCPU(),
		GOMAXPROCS:      runtime.GOMAXPROCS(0),
		ISA:             kernels.ISA(),
		Implementations: kernels.Implementations(),
		Hypervisor:      c.VM(),
		Time:            time.Now().UTC().Format(time.RFC3339),
	}
	if c.VendorString != "" {
		m.Vendor = c.VendorString
	}
	m.L1D, m.L2, m.L3, m.CacheSource = detectCaches()
	info := readCPUInfo()
	m.Emulated, m.EmulationReason = detectEmulation(runtime.GOARCH, info)
	if m.CPU == "" && !m.Emulated {
		m.CPU = cpuinfoField(info, "model name", "Model", "Hardware")
	}
	return m
}

// Sizes returns the element counts of float32 arrays for the three memory
// levels: two arrays of the L1 size fill the L1 data cache, two of the L2
// size fill half the L2 cache, and each array of the DRAM size is at least
// as large as the last-level cache (at least 4 Mi elements), so that a pass
// over two of them streams from memory.
func (m Machine) Sizes() (l1, l2, dram int) {
	l1 = roundDown(m.L1D/8, 256)
	l2 = max(roundDown(m.L2/16, 1024), 4*l1)
	dram = max((m.L3/4+(1<<20)-1)>>20<<20, 4<<20, 8*l2)
	return l1, l2, dram
}

func roundDown(n, to int) int { return max(n/to*to, to) }

func detectCaches() (l1, l2, l3 int, source string) {
	c := cpuid.CPU.Cache
	if c.L1D > 0 && c.L2 > 0 {
		l3 = c.L3
		if l3 <= 0 {
			l3 = c.L2
		}
		return c.L1D, c.L2, l3, "cpuid"
	}
	if l1, l2, l3, ok := sysfsCaches(); ok {
		return l1, l2, l3, "sysfs"
	}
	return DefaultL1D, DefaultL2, DefaultL3, "default"
}

// sysfsCaches reads the cache sizes of CPU 0 from Linux sysfs.
func sysfsCaches() (l1, l2, l3 int, ok bool) {
	dirs, _ := filepath.Glob("/sys/devices/system/cpu/cpu0/cache/index*")
	for _, d := range dirs {
		level := readTrim(filepath.Join(d, "level"))
		typ := readTrim(filepath.Join(d, "type"))
		size := parseSize(readTrim(filepath.Join(d, "size")))
		if size <= 0 {
			continue
		}
		switch {
		case level == "1" && typ == "Data":
			l1 = size
		case level == "2":
			l2 = size
		case level == "3":
			l3 = size
		}
	}
	if l1 <= 0 || l2 <= 0 {
		return 0, 0, 0, false
	}
	if l3 <= 0 {
		l3 = l2
	}
	return l1, l2, l3, true
}

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// parseSize parses sysfs cache sizes such as "32K" or "8M".
func parseSize(s string) int {
	mult := 1
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0
	}
	return n * mult
}

func readCPUInfo() []byte {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return b
}

// cpuinfoField returns the value of the first of keys found in /proc/cpuinfo.
func cpuinfoField(info []byte, keys ...string) string {
	for _, key := range keys {
		sc := bufio.NewScanner(bytes.NewReader(info))
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if ok && strings.TrimSpace(k) == key {
				return strings.TrimSpace(v)
			}
		}
	}
	return ""
}

// detectEmulation decides whether the process runs under a user-mode
// instruction-set emulator such as qemu-user. Such an emulator passes the
// host's /proc/cpuinfo through, so a cpuinfo that describes another
// architecture than the one the binary was built for gives it away.
func detectEmulation(goarch string, info []byte) (bool, string) {
	if len(info) == 0 {
		return false, ""
	}
	x86 := cpuinfoField(info, "vendor_id") != "" || strings.Contains(cpuinfoField(info, "flags"), "sse2")
	arm := cpuinfoField(info, "CPU implementer") != "" || cpuinfoField(info, "CPU architecture") != ""
	switch goarch {
	case "amd64", "386":
		if arm {
			return true, fmt.Sprintf("%s binary, but /proc/cpuinfo describes an ARM CPU", goarch)
		}
	case "arm64", "arm":
		if x86 {
			return true, fmt.Sprintf("%s binary, but /proc/cpuinfo describes an x86 CPU (%s)", goarch, cpuinfoField(info, "model name"))
		}
	default:
		if x86 || arm {
			return true, fmt.Sprintf("%s binary, but /proc/cpuinfo describes another architecture", goarch)
		}
	}
	return false, ""
}
