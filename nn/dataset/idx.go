package dataset

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// IDX is the content of an IDX file (the format of the MNIST files): an
// n-dimensional array of elements of one type, stored big-endian.
type IDX struct {
	// Type is the element type code: 0x08 uint8, 0x09 int8, 0x0B int16,
	// 0x0C int32, 0x0D float32, 0x0E float64.
	Type byte
	// Dims are the sizes of the dimensions, outermost first.
	Dims []int
	// Data holds the elements as stored in the file (big-endian),
	// len(Data) = product of Dims × element size.
	Data []byte
}

// ErrBadIDX is wrapped by every error ReadIDX returns for malformed input.
var ErrBadIDX = errors.New("malformed IDX data")

// idxElemSize maps the IDX type codes to their element sizes.
func idxElemSize(t byte) int {
	switch t {
	case 0x08, 0x09:
		return 1
	case 0x0B:
		return 2
	case 0x0C, 0x0D:
		return 4
	case 0x0E:
		return 8
	}
	return 0
}

// DefaultIDXLimit is the largest data size, in bytes, ReadIDX accepts when
// called with a limit of 0.
const DefaultIDXLimit = 1 << 30

// ReadIDX reads one IDX array from r, uncompressing it first if it starts
// with the gzip magic number. It validates the magic number, the type code
// and the dimensions, refuses arrays of more than limit bytes (0 means
// DefaultIDXLimit), and returns an error wrapping ErrBadIDX for a bad,
// truncated or overlong stream. Memory is allocated as data actually
// arrives, never from the sizes the header announces.
func ReadIDX(r io.Reader, limit int64) (*IDX, error) {
	if limit <= 0 {
		limit = DefaultIDXLimit
	}
	br := bufio.NewReader(r)
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("dataset: IDX: gzip header: %v: %w", err, ErrBadIDX)
		}
		defer zr.Close()
		return readIDX(zr, limit)
	}
	return readIDX(br, limit)
}

func readIDX(r io.Reader, limit int64) (*IDX, error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, fmt.Errorf("dataset: IDX: reading the magic number: %v: %w", err, ErrBadIDX)
	}
	if head[0] != 0 || head[1] != 0 {
		return nil, fmt.Errorf("dataset: IDX: magic number %02x%02x%02x%02x does not start with two zero bytes: %w", head[0], head[1], head[2], head[3], ErrBadIDX)
	}
	size := idxElemSize(head[2])
	if size == 0 {
		return nil, fmt.Errorf("dataset: IDX: unknown element type 0x%02x: %w", head[2], ErrBadIDX)
	}
	nd := int(head[3])
	if nd == 0 {
		return nil, fmt.Errorf("dataset: IDX: zero dimensions: %w", ErrBadIDX)
	}
	var dimBytes [4 * 255]byte
	if _, err := io.ReadFull(r, dimBytes[:4*nd]); err != nil {
		return nil, fmt.Errorf("dataset: IDX: reading %d dimensions: %v: %w", nd, err, ErrBadIDX)
	}
	dims := make([]int, nd)
	for i := range dims {
		dims[i] = int(binary.BigEndian.Uint32(dimBytes[4*i:]))
	}
	total := int64(size)
	for _, d := range dims {
		if d == 0 {
			total = 0
			break
		}
		if total > limit/int64(d) {
			return nil, fmt.Errorf("dataset: IDX: %v array of %d-byte elements exceeds the %d-byte limit: %w", dims, size, limit, ErrBadIDX)
		}
		total *= int64(d)
	}
	// Read at most one byte more than announced: io.ReadAll grows its
	// buffer with the data actually read.
	data, err := io.ReadAll(io.LimitReader(r, total+1))
	if err != nil {
		return nil, fmt.Errorf("dataset: IDX: reading %v array of type 0x%02x: %v: %w", dims, head[2], err, ErrBadIDX)
	}
	if int64(len(data)) < total {
		return nil, fmt.Errorf("dataset: IDX: truncated: %v array of type 0x%02x needs %d data bytes, got %d: %w", dims, head[2], total, len(data), ErrBadIDX)
	}
	if int64(len(data)) > total {
		return nil, fmt.Errorf("dataset: IDX: trailing data after the %d bytes of a %v array: %w", total, dims, ErrBadIDX)
	}
	return &IDX{Type: head[2], Dims: dims, Data: data}, nil
}

// ReadIDXFile reads an IDX file, gzip-compressed or not (see ReadIDX),
// streaming it so that no more than limit data bytes are ever held.
func ReadIDXFile(path string, limit int64) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	defer f.Close()
	x, err := ReadIDX(f, limit)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return x, nil
}
