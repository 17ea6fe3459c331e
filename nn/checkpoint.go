package nn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/actfuse/actfuse/kernels"
)

// Checkpoint file format, all integers little-endian:
//
//	magic    [8]byte  "AFNNCKPT"
//	version  uint32   CheckpointVersion
//	length   uint64   length of the payload
//	payload  [length]byte
//	crc      uint32   CRC-32C (Castagnoli) of every preceding byte
//
// The payload holds the model configuration and parameters, then a flag
// byte, and, when the flag is 1, the training configuration, the progress and
// the optimizer state.

// CheckpointVersion is the version of the checkpoint format this package
// writes. It reads it and version 1, whose layers have no Gain and Slope
// (they came with version 2).
const CheckpointVersion = 2

const (
	ckptMagic     = "AFNNCKPT"
	ckptHeader    = 8 + 4 + 8
	ckptTrailer   = 4
	maxCheckpoint = 1 << 36 // refuse larger files outright
)

// ErrCorruptCheckpoint is wrapped by the errors returned for a checkpoint
// file that is truncated, damaged or not a checkpoint at all.
var ErrCorruptCheckpoint = errors.New("corrupt checkpoint")

// ErrCheckpointMismatch is wrapped by the errors returned when a valid
// checkpoint does not fit the model or trainer it is restored into.
var ErrCheckpointMismatch = errors.New("checkpoint does not match")

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Save writes the model alone to path, atomically.
func (m *Model) Save(path string) error {
	return writeAtomic(path, m.encode(nil, nil))
}

// Save writes the model, the optimizer state and the training progress to
// path, atomically (a temporary file in the same directory renamed over
// path), so that a crash leaves either the old file or the new one.
func (t *Trainer) Save(path string) error {
	return writeAtomic(path, t.m.encode(nil, t))
}

// Load reads a model from a file written by Model.Save or Trainer.Save.
func Load(path string) (*Model, error) {
	payload, version, err := readCheckpoint(path)
	if err != nil {
		return nil, err
	}
	d := &decoder{b: payload, version: version}
	m, err := decodeModel(d)
	if err != nil {
		return nil, fmt.Errorf("nn: checkpoint %s: %w", path, err)
	}
	return m, nil
}

// Restore loads the model parameters, the optimizer state and the progress
// saved by Trainer.Save into t. The file must come from a trainer with the
// same model shape and training configuration (learning-rate schedule,
// callbacks and checkpoint settings aside); Fit then continues exactly where
// the saved run was. On error t is unchanged.
func (t *Trainer) Restore(path string) error {
	payload, version, err := readCheckpoint(path)
	if err != nil {
		return err
	}
	d := &decoder{b: payload, version: version}
	m, err := decodeModel(d)
	if err == nil {
		err = sameShape(m, t.m)
	}
	if err != nil {
		return fmt.Errorf("nn: checkpoint %s: %w", path, err)
	}
	saved := newRestore(t, m)
	if err := saved.decodeTrainer(d); err != nil {
		return fmt.Errorf("nn: checkpoint %s: %w", path, err)
	}
	if len(d.b) != 0 {
		return fmt.Errorf("nn: checkpoint %s: %d unexpected bytes after the training state: %w", path, len(d.b), ErrCorruptCheckpoint)
	}
	saved.commit()
	return nil
}

func writeAtomic(path string, data []byte) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return fmt.Errorf("nn: writing checkpoint: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			err = fmt.Errorf("nn: writing checkpoint %s: %w", path, err)
		}
	}()
	// CreateTemp makes the file 0600; a checkpoint gets the usual 0644.
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	// Make the rename itself durable; not every platform can sync a
	// directory, so a failure here is not an error.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// readCheckpoint reads path and returns the verified payload and its
// format version.
func readCheckpoint(path string) ([]byte, uint32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("nn: reading checkpoint: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("nn: reading checkpoint: %w", err)
	}
	size := fi.Size()
	if size > maxCheckpoint {
		return nil, 0, fmt.Errorf("nn: checkpoint %s: %d bytes is larger than the %d-byte limit: %w", path, size, int64(maxCheckpoint), ErrCorruptCheckpoint)
	}
	if size < ckptHeader+ckptTrailer {
		return nil, 0, fmt.Errorf("nn: checkpoint %s: %d bytes is too short for a checkpoint: %w", path, size, ErrCorruptCheckpoint)
	}
	buf := make([]byte, size)
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, 0, fmt.Errorf("nn: reading checkpoint %s: %w", path, err)
	}
	return parseCheckpoint(path, buf)
}

// parseCheckpoint checks the framing of a checkpoint file held in buf and
// returns its payload and format version.
func parseCheckpoint(path string, buf []byte) ([]byte, uint32, error) {
	if len(buf) < ckptHeader+ckptTrailer {
		return nil, 0, fmt.Errorf("nn: checkpoint %s: %d bytes is too short for a checkpoint: %w", path, len(buf), ErrCorruptCheckpoint)
	}
	if string(buf[:8]) != ckptMagic {
		return nil, 0, fmt.Errorf("nn: %s is not a checkpoint (magic %q, want %q): %w", path, buf[:8], ckptMagic, ErrCorruptCheckpoint)
	}
	v := binary.LittleEndian.Uint32(buf[8:])
	if v < 1 || v > CheckpointVersion {
		return nil, 0, fmt.Errorf("nn: checkpoint %s has format version %d, this package reads versions 1 to %d: %w", path, v, CheckpointVersion, ErrCheckpointMismatch)
	}
	n := binary.LittleEndian.Uint64(buf[12:])
	if have := uint64(len(buf) - ckptHeader - ckptTrailer); n != have {
		if n > have {
			return nil, 0, fmt.Errorf("nn: checkpoint %s is truncated: header announces %d payload bytes, file holds %d: %w", path, n, have, ErrCorruptCheckpoint)
		}
		return nil, 0, fmt.Errorf("nn: checkpoint %s: header announces %d payload bytes, file holds %d: %w", path, n, have, ErrCorruptCheckpoint)
	}
	body := buf[:len(buf)-ckptTrailer]
	want := binary.LittleEndian.Uint32(buf[len(buf)-ckptTrailer:])
	if got := crc32.Checksum(body, crcTable); got != want {
		return nil, 0, fmt.Errorf("nn: checkpoint %s: checksum %08x, file says %08x (damaged file): %w", path, got, want, ErrCorruptCheckpoint)
	}
	return body[ckptHeader:], v, nil
}

// encode serialises the model and, if t is not nil, the trainer state.
func (m *Model) encode(b []byte, t *Trainer) []byte {
	b = append(b, ckptMagic...)
	b = binary.LittleEndian.AppendUint32(b, CheckpointVersion)
	b = binary.LittleEndian.AppendUint64(b, 0) // length, patched below
	c := &m.cfg
	b = le32(b, uint32(c.Inputs))
	b = le32(b, uint32(c.Outputs))
	b = append(b, byte(c.Head), byte(c.Init))
	b = lef32(b, c.BiasInit)
	b = binary.LittleEndian.AppendUint64(b, c.Seed)
	b = le32(b, uint32(len(c.Hidden)))
	for _, l := range c.Hidden {
		b = le32(b, uint32(l.Units))
		b = append(b, byte(l.Act.Func))
		b = lef32(b, l.Act.Alpha)
		b = lef32(b, l.Act.Gain)
		b = lef32(b, l.Act.Slope)
		b = le32(b, uint32(l.Pieces))
	}
	for _, l := range m.layers {
		b = lef32s(b, l.w)
		b = lef32s(b, l.b)
	}
	if t == nil {
		b = append(b, 0)
	} else {
		b = append(b, 1)
		b = t.encode(b)
	}
	binary.LittleEndian.PutUint64(b[12:], uint64(len(b)-ckptHeader))
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
}

// encode appends the training configuration, progress and optimizer state.
func (t *Trainer) encode(b []byte) []byte {
	c := &t.cfg
	o := &c.Optimizer
	b = le32(b, uint32(c.BatchSize))
	b = append(b, byte(o.Method), b2u(o.Nesterov), b2u(c.NoShuffle))
	for _, v := range []float32{o.LR, o.Momentum, o.Beta1, o.Beta2, o.Epsilon, c.WeightDecay, c.InputNoise} {
		b = lef32(b, v)
	}
	b = binary.LittleEndian.AppendUint64(b, c.Seed)
	b = le32(b, uint32(t.epoch))
	b = le32(b, uint32(t.stepInEpoch))
	b = binary.LittleEndian.AppendUint64(b, uint64(t.step))
	b = lef32(b, t.lr)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(t.epochLoss))
	b = binary.LittleEndian.AppendUint64(b, uint64(t.epochCorrect))
	b = binary.LittleEndian.AppendUint64(b, uint64(t.epochN))
	b = binary.LittleEndian.AppendUint64(b, uint64(t.gradSteps))
	for _, ss := range t.gradSS {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(ss))
	}
	for i := range t.m.layers {
		b = lef32s(b, t.s1w[i])
		b = lef32s(b, t.s1b[i])
		if o.Method == Adam {
			b = lef32s(b, t.s2w[i])
			b = lef32s(b, t.s2b[i])
		}
	}
	return b
}

func le32(b []byte, v uint32) []byte   { return binary.LittleEndian.AppendUint32(b, v) }
func lef32(b []byte, v float32) []byte { return le32(b, math.Float32bits(v)) }
func lef32s(b []byte, s []float32) []byte {
	for _, v := range s {
		b = lef32(b, v)
	}
	return b
}
func b2u(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// decoder reads little-endian values from a verified payload; the first
// short read sets err and makes every later read return zero.
type decoder struct {
	b   []byte
	err error
	// version is the format version of the payload; 0 stands for
	// CheckpointVersion.
	version uint32
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.err = fmt.Errorf("payload ends %d bytes early: %w", n-len(d.b), ErrCorruptCheckpoint)
		return nil
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}

func (d *decoder) u8() byte {
	if s := d.take(1); s != nil {
		return s[0]
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if s := d.take(4); s != nil {
		return binary.LittleEndian.Uint32(s)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if s := d.take(8); s != nil {
		return binary.LittleEndian.Uint64(s)
	}
	return 0
}

func (d *decoder) f32() float32 { return math.Float32frombits(d.u32()) }

// f32s fills dst.
func (d *decoder) f32s(dst []float32) {
	s := d.take(4 * len(dst))
	if s == nil {
		return
	}
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(s[4*i:]))
	}
}

// decodeModel reads the model section, checking every size against the
// bytes that remain before allocating.
func decodeModel(d *decoder) (*Model, error) {
	var c Config
	c.Inputs = int(d.u32())
	c.Outputs = int(d.u32())
	c.Head = Head(d.u8())
	c.Init = Init(d.u8())
	c.BiasInit = d.f32()
	c.Seed = d.u64()
	nh := d.u32()
	if d.err != nil {
		return nil, d.err
	}
	perLayer := uint64(21) // units, function, alpha, gain, slope, pieces
	if d.version == 1 {
		perLayer = 13
	}
	if uint64(nh)*perLayer > uint64(len(d.b)) {
		return nil, fmt.Errorf("%d hidden layers do not fit in the remaining %d bytes: %w", nh, len(d.b), ErrCorruptCheckpoint)
	}
	c.Hidden = make([]Layer, nh)
	for i := range c.Hidden {
		l := &c.Hidden[i]
		l.Units = int(d.u32())
		l.Act.Func = kernels.Func(d.u8())
		l.Act.Alpha = d.f32()
		if d.version != 1 {
			l.Act.Gain = d.f32()
			l.Act.Slope = d.f32()
		}
		l.Pieces = int(d.u32())
	}
	if d.err != nil {
		return nil, d.err
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("invalid model configuration (%v): %w", err, ErrCorruptCheckpoint)
	}
	// Count the parameters before allocating them.
	var params uint64
	in := uint64(c.Inputs)
	for _, l := range append(append([]Layer(nil), c.Hidden...), Layer{Units: c.Outputs}) {
		w := uint64(l.Units) * uint64(max(l.Pieces, 1))
		params += in*w + w
		in = uint64(l.Units)
		if params > uint64(len(d.b))/4 {
			return nil, fmt.Errorf("model of %d inputs and layers %v needs more than the remaining %d bytes: %w", c.Inputs, c.Hidden, len(d.b), ErrCorruptCheckpoint)
		}
	}
	m, err := newShape(c)
	if err != nil {
		return nil, fmt.Errorf("%v: %w", err, ErrCorruptCheckpoint)
	}
	for _, l := range m.layers {
		d.f32s(l.w)
		d.f32s(l.b)
	}
	hasTrainer := d.u8()
	if d.err != nil {
		return nil, d.err
	}
	if hasTrainer > 1 {
		return nil, fmt.Errorf("bad section flag %d: %w", hasTrainer, ErrCorruptCheckpoint)
	}
	if hasTrainer == 0 && len(d.b) != 0 {
		return nil, fmt.Errorf("%d unexpected bytes after the model: %w", len(d.b), ErrCorruptCheckpoint)
	}
	if hasTrainer == 0 {
		d.b = nil
		d.err = errNoTrainer
	}
	return m, nil
}

var errNoTrainer = fmt.Errorf("the file holds a model without training state: %w", ErrCheckpointMismatch)

// sameShape reports whether the saved model s has the architecture of m.
func sameShape(s, m *Model) error {
	a, b := &s.cfg, &m.cfg
	if a.Inputs != b.Inputs || a.Outputs != b.Outputs || a.Head != b.Head || len(a.Hidden) != len(b.Hidden) {
		return fmt.Errorf("saved model %d→%v→%d %v, this one %d→%v→%d %v: %w",
			a.Inputs, a.Hidden, a.Outputs, a.Head, b.Inputs, b.Hidden, b.Outputs, b.Head, ErrCheckpointMismatch)
	}
	for i := range a.Hidden {
		if a.Hidden[i] != b.Hidden[i] {
			return fmt.Errorf("hidden layer %d is %v in the file, %v in this model: %w", i, a.Hidden[i], b.Hidden[i], ErrCheckpointMismatch)
		}
	}
	return nil
}

// restore is a trainer state read from a file, not yet applied.
type restore struct {
	t                    *Trainer
	m                    *Model
	epoch, stepInEpoch   int
	step                 int64
	lr                   float32
	epochLoss            float64
	epochCorrect, epochN int64
	gradSteps            int64
	gradSS               []float64
	s1w, s1b, s2w, s2b   [][]float32
}

func newRestore(t *Trainer, m *Model) *restore { return &restore{t: t, m: m} }

func (r *restore) decodeTrainer(d *decoder) error {
	if d.err != nil {
		return d.err
	}
	c := &r.t.cfg
	o := &c.Optimizer
	batch := int(d.u32())
	method, nesterov, noShuffle := Method(d.u8()), d.u8() != 0, d.u8() != 0
	var f [7]float32
	for i := range f {
		f[i] = d.f32()
	}
	seed := d.u64()
	if d.err != nil {
		return d.err
	}
	type field struct {
		name        string
		saved, want any
	}
	for _, x := range []field{
		{"batch size", batch, c.BatchSize}, {"optimizer", method, o.Method}, {"Nesterov", nesterov, o.Nesterov},
		{"NoShuffle", noShuffle, c.NoShuffle}, {"learning rate", f[0], o.LR}, {"momentum", f[1], o.Momentum},
		{"Beta1", f[2], o.Beta1}, {"Beta2", f[3], o.Beta2}, {"Epsilon", f[4], o.Epsilon},
		{"weight decay", f[5], c.WeightDecay}, {"input noise", f[6], c.InputNoise}, {"seed", seed, c.Seed},
	} {
		if x.saved != x.want {
			return fmt.Errorf("saved run has %s %v, this trainer %v: %w", x.name, x.saved, x.want, ErrCheckpointMismatch)
		}
	}
	r.epoch = int(d.u32())
	r.stepInEpoch = int(d.u32())
	r.step = int64(d.u64())
	r.lr = d.f32()
	r.epochLoss = math.Float64frombits(d.u64())
	r.epochCorrect = int64(d.u64())
	r.epochN = int64(d.u64())
	r.gradSteps = int64(d.u64())
	if d.err != nil {
		return d.err
	}
	if r.step < 0 || r.epochN < 0 || r.epochCorrect < 0 || r.gradSteps < 0 || r.epoch < 0 || r.stepInEpoch < 0 {
		return fmt.Errorf("negative progress counters: %w", ErrCorruptCheckpoint)
	}
	r.gradSS = make([]float64, len(r.m.layers))
	for i := range r.gradSS {
		r.gradSS[i] = math.Float64frombits(d.u64())
	}
	// The optimizer state has the size of the parameters (twice for Adam),
	// which decodeModel has already checked against the file.
	for _, l := range r.m.layers {
		r.s1w = append(r.s1w, make([]float32, len(l.w)))
		r.s1b = append(r.s1b, make([]float32, len(l.b)))
		d.f32s(r.s1w[len(r.s1w)-1])
		d.f32s(r.s1b[len(r.s1b)-1])
		if method == Adam {
			r.s2w = append(r.s2w, make([]float32, len(l.w)))
			r.s2b = append(r.s2b, make([]float32, len(l.b)))
			d.f32s(r.s2w[len(r.s2w)-1])
			d.f32s(r.s2b[len(r.s2b)-1])
		}
		if d.err != nil {
			return d.err
		}
	}
	return nil
}

// commit copies the restored state into the trainer.
func (r *restore) commit() {
	t := r.t
	for i, l := range t.m.layers {
		copy(l.w, r.m.layers[i].w)
		copy(l.b, r.m.layers[i].b)
		copy(t.s1w[i], r.s1w[i])
		copy(t.s1b[i], r.s1b[i])
		if r.s2w != nil {
			copy(t.s2w[i], r.s2w[i])
			copy(t.s2b[i], r.s2b[i])
		}
	}
	t.epoch, t.stepInEpoch, t.step, t.lr = r.epoch, r.stepInEpoch, r.step, r.lr
	t.epochLoss, t.epochCorrect, t.epochN = r.epochLoss, r.epochCorrect, r.epochN
	t.gradSteps = r.gradSteps
	copy(t.gradSS, r.gradSS)
	t.permEpoch = -1
}
