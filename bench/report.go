package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Report is the result of one actbench run: the machine and one table per
// measurement. Its JSON form is the documented machine-readable output:
//
//	{
//	  "machine": {Machine fields},
//	  "tables": [
//	    {
//	      "name":    "Forward",                      // benchmark name prefix
//	      "title":   "activation forward, ns per element",
//	      "columns": [{"name": "act", "label": true},
//	                  {"name": "ns/elem", "unit": "ns/elem"}, ...],
//	      "rows":    [["sigmoid", 0.41, ...], ...],  // one value per column:
//	                                                  // string for labels; number,
//	                                                  // null (not measured) or
//	                                                  // "Inf" for metrics
//	      "notes":   ["..."]
//	    }
//	  ]
//	}
type Report struct {
	Machine Machine  `json:"machine"` // what ran: CPU, ISA, caches, emulation
	Tables  []*Table `json:"tables"`  // the results, one table per measurement
}

// Table is one table of results. Label columns identify a row (activation,
// implementation, size); metric columns hold measured numbers.
type Table struct {
	Name    string   `json:"name"`            // short identifier, e.g. "forward"
	Title   string   `json:"title"`           // one-line description for people
	Columns []Column `json:"columns"`         // label columns, then metric columns
	Rows    [][]Cell `json:"rows"`            // one cell per column
	Notes   []string `json:"notes,omitempty"` // printed under the table
	// Pivot names a label column whose values the text form spreads across
	// column groups (one group of metric columns per value), to keep tables
	// for people short; JSON and the benchmark format keep one row per value.
	Pivot string `json:"pivot,omitempty"`
}

// Column describes one column of a Table.
type Column struct {
	Name string `json:"name"`
	// Unit is the unit of a metric column, as written in the Go benchmark
	// format (no spaces); "" for a label column.
	Unit string `json:"unit,omitempty"`
	// Label marks a column that identifies the row rather than measures it.
	Label bool `json:"label,omitempty"`
	// NoBench keeps a column out of the Go benchmark format: derived metrics
	// such as ratios that benchstat would misread as measurements, and
	// labels that describe a result rather than name it.
	NoBench bool `json:"-"`
	// Prec is the number of decimals printed in tables; 0 prints three
	// significant digits.
	Prec int `json:"-"`
	// Int prints the values as integers (counts).
	Int bool `json:"-"`
}

// Cell is one value of a Table: a string for label columns, a number (or
// missing) for metric columns.
type Cell struct {
	S     string  // label text
	Bench string  // label text in Go benchmark names, if different from S
	F     float64 // metric value
	Num   bool    // F holds a value
	// Samples holds the individual measurements F summarises (F is their
	// median); the Go benchmark format writes one line per sample so that
	// benchstat sees the spread. Not part of JSON.
	Samples []float64
}

// Str returns a label cell.
func Str(s string) Cell { return Cell{S: s} }

// Num returns a metric cell; NaN and ±Inf give a missing value.
func Num(f float64) Cell {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Cell{}
	}
	return Cell{F: f, Num: true}
}

// NumSamples returns a metric cell holding the median f of samples.
func NumSamples(f float64, samples []float64) Cell {
	c := Num(f)
	if c.Num {
		c.Samples = samples
	}
	return c
}

// Missing returns an empty metric cell.
func Missing() Cell { return Cell{} }

// MarshalJSON writes labels as strings, metrics as numbers and missing
// metrics as null.
func (c Cell) MarshalJSON() ([]byte, error) {
	switch {
	case c.Num:
		return []byte(strconv.FormatFloat(c.F, 'g', -1, 64)), nil
	case c.S != "":
		return json.Marshal(c.S)
	}
	return []byte("null"), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (c *Cell) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("bench: decoding cell: %w", err)
	}
	switch v := v.(type) {
	case nil:
		*c = Cell{}
	case float64:
		*c = Cell{F: v, Num: true}
	case string:
		*c = Cell{S: v}
	default:
		return fmt.Errorf("bench: decoding cell: unexpected %T", v)
	}
	return nil
}

// Col returns the index of the column called name, or -1.
func (t *Table) Col(name string) int {
	for i, c := range t.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// Add appends a row; it panics unless the row has one cell per column.
func (t *Table) Add(row ...Cell) {
	if len(row) != len(t.Columns) {
		panic(fmt.Sprintf("bench: table %s: row of %d cells for %d columns", t.Name, len(row), len(t.Columns)))
	}
	t.Rows = append(t.Rows, row)
}

func (c Cell) text(col Column) string {
	if !c.Num {
		if c.S == "" {
			return "-"
		}
		return c.S
	}
	if col.Int {
		return strconv.FormatFloat(c.F, 'f', 0, 64)
	}
	if col.Prec > 0 {
		return strconv.FormatFloat(c.F, 'f', col.Prec, 64)
	}
	return sig3(c.F)
}

// sig3 formats f with three significant digits, without exponent for the
// magnitudes tables show.
func sig3(f float64) string {
	a := math.Abs(f)
	switch {
	case a == 0:
		return "0"
	case a >= 1e6 || a < 1e-4:
		return strconv.FormatFloat(f, 'g', 3, 64)
	case a >= 100:
		return strconv.FormatFloat(f, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(f, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(f, 'f', 2, 64)
	}
	d := 2 - int(math.Floor(math.Log10(a)))
	return strconv.FormatFloat(f, 'f', d, 64)
}

// WriteText writes the machine header and the tables aligned for people.
func (r *Report) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	writeMachine(ew, r.Machine)
	for _, t := range r.Tables {
		fmt.Fprintf(ew, "\n%s\n", t.Title)
		header, rows := t.textGrid()
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
		for _, line := range append([][]string{header}, rows...) {
			fmt.Fprint(tw, strings.Join(line, "\t")+"\t\n")
		}
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("bench: writing table %s: %w", t.Name, err)
		}
		for _, n := range t.Notes {
			fmt.Fprintf(ew, "  note: %s\n", n)
		}
	}
	return ew.err
}

// textGrid returns the header and the cells of t as text, pivoted when
// t.Pivot is set. The samples column is left out of pivoted tables.
func (t *Table) textGrid() (header []string, rows [][]string) {
	colName := func(c Column) string { return c.Name }
	p := t.Col(t.Pivot)
	if p < 0 || !t.Columns[p].Label {
		for _, c := range t.Columns {
			header = append(header, colName(c))
		}
		for _, row := range t.Rows {
			line := make([]string, len(row))
			for i, c := range row {
				line[i] = c.text(t.Columns[i])
			}
			rows = append(rows, line)
		}
		return header, rows
	}
	var keys, metrics []int
	for i, c := range t.Columns {
		switch {
		case i == p:
		case c.Label:
			keys = append(keys, i)
		case c.Name != "samples":
			metrics = append(metrics, i)
		}
	}
	var pvals []string
	seen := map[string]bool{}
	for _, row := range t.Rows {
		if v := row[p].S; !seen[v] {
			seen[v] = true
			pvals = append(pvals, v)
		}
	}
	for _, k := range keys {
		header = append(header, colName(t.Columns[k]))
	}
	for _, v := range pvals {
		for _, m := range metrics {
			header = append(header, v+" "+colName(t.Columns[m]))
		}
	}
	index := map[string]int{}
	for _, row := range t.Rows {
		var key strings.Builder
		for _, k := range keys {
			key.WriteString(row[k].S + "\x00")
		}
		r, ok := index[key.String()]
		if !ok {
			r = len(rows)
			index[key.String()] = r
			line := make([]string, len(keys)+len(pvals)*len(metrics))
			for i := range line {
				line[i] = "-"
			}
			for i, k := range keys {
				line[i] = row[k].S
			}
			rows = append(rows, line)
		}
		g := slices.Index(pvals, row[p].S)
		for j, m := range metrics {
			rows[r][len(keys)+g*len(metrics)+j] = row[m].text(t.Columns[m])
		}
	}
	return header, rows
}

func writeMachine(w io.Writer, m Machine) {
	cpu := m.CPU
	if cpu == "" {
		cpu = "unknown CPU"
	}
	fmt.Fprintf(w, "actbench  %s/%s  %s  %s\n", m.GOOS, m.GOARCH, m.GoVersion, cpu)
	fmt.Fprintf(w, "kernels   active %s; available %s; GOMAXPROCS %d of %d CPUs\n",
		m.ISA, strings.Join(m.Implementations, ", "), m.GOMAXPROCS, m.NumCPU)
	fmt.Fprintf(w, "caches    L1d %s, L2 %s, L3 %s (%s)\n", bytesText(m.L1D), bytesText(m.L2), bytesText(m.L3), m.CacheSource)
	if m.Hypervisor {
		fmt.Fprintln(w, "note      running in a virtual machine")
	}
	if m.Emulated {
		fmt.Fprintf(w, "WARNING   emulated: %s.\n          Every speed below is the emulator's, meaningless for this CPU.\n", m.EmulationReason)
	}
}

func bytesText(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// WriteJSON writes the report as indented JSON (see Report for the schema).
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("bench: writing JSON: %w", err)
	}
	return nil
}

// WriteBench writes the report in the Go benchmark format, so that benchstat
// compares two runs or two machines. Each row becomes one line named
// Benchmark<table>/<label>=<value>/...; implementation labels are written by
// role (native, generic, naive) so that an avx2 row and a neon row compare.
// Rows whose metrics carry their samples give one line per sample (as
// 'go test -count' prints), so that benchstat computes the spread; other
// rows give one line, whose iteration count is the number of samples.
func (r *Report) WriteBench(w io.Writer) error {
	ew := &errWriter{w: w}
	m := r.Machine
	fmt.Fprintf(ew, "goos: %s\ngoarch: %s\npkg: github.com/actfuse/actfuse/bench\n", m.GOOS, m.GOARCH)
	if m.CPU != "" {
		fmt.Fprintf(ew, "cpu: %s\n", m.CPU)
	}
	fmt.Fprintf(ew, "isa: %s\n", m.ISA)
	if m.Emulated {
		fmt.Fprintf(ew, "emulated: true\n")
	}
	for _, t := range r.Tables {
		samples := t.Col("samples")
		for _, row := range t.Rows {
			var name strings.Builder
			name.WriteString("Benchmark" + t.Name)
			var metrics []int
			lines := 1
			for i, c := range t.Columns {
				cell := row[i]
				switch {
				case c.Label && c.NoBench:
				case c.Label:
					v := cell.S
					if cell.Bench != "" {
						v = cell.Bench
					}
					fmt.Fprintf(&name, "/%s=%s", benchToken(c.Name), benchToken(v))
				case i == samples || c.NoBench || !cell.Num:
				default:
					metrics = append(metrics, i)
					if len(cell.Samples) > 1 {
						lines = len(cell.Samples)
					}
				}
			}
			if len(metrics) == 0 {
				continue
			}
			n := 1
			if samples >= 0 && row[samples].Num && lines == 1 {
				n = max(1, int(row[samples].F))
			}
			// One line per sample when the metrics carry their samples
			// (as 'go test -count' would print), else one line.
			for l := range lines {
				fmt.Fprintf(ew, "%s %d", name.String(), n)
				for _, i := range metrics {
					v := row[i].F
					if len(row[i].Samples) == lines && lines > 1 {
						v = row[i].Samples[l]
					}
					fmt.Fprintf(ew, " %s %s", strconv.FormatFloat(v, 'g', 6, 64), benchToken(t.Columns[i].Unit))
				}
				fmt.Fprintln(ew)
			}
		}
	}
	return ew.err
}

// benchToken makes s usable inside a benchmark name or unit.
func benchToken(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' {
			return '_'
		}
		return r
	}, s)
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = fmt.Errorf("bench: writing report: %w", err)
	}
	return n, err
}
