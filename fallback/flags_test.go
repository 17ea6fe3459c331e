package fallback_test

import "flag"

// exhaustive enables the sweeps over all 2^32 float32 inputs:
//
//	go test ./fallback -run Exhaustive -exhaustive -timeout 3h
var exhaustive = flag.Bool("exhaustive", false, "run the accuracy sweeps over all 2^32 float32 inputs (minutes per function)")

// sweepStride is the stride of the default sweeps: a prime, so every exponent
// is visited with varied mantissas (4.3 million inputs per function).
const sweepStride = 1009
