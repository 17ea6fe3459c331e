package nn

import "hash/crc32"

// Helpers of the internal tests used by the external ones (package nn_test),
// which may import packages that import nn, such as nn/dataset.
var (
	MNISTModel    = mnistModel
	MNISTTraining = mnistTraining
)

// ParamsCRC returns the CRC-32C of the parameters of m, as stored in a
// checkpoint (little-endian, layer by layer, weights before biases).
func ParamsCRC(m *Model) uint32 { return crc32.Checksum(paramsBytes(m), crcTable) }
