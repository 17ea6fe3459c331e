//go:build !race

package nn

// raceEnabled reports whether the race detector is on.
const raceEnabled = false
