package nn

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFitCancel checks that a cancelled context stops Fit between two steps
// with an error wrapping ctx.Err(), that the checkpoint keeps the state of
// its last save, and that Fit then continues the run to the bits of an
// uninterrupted one.
func TestFitCancel(t *testing.T) {
	train := blobs(5, 250, 8, 4) // 8 steps per epoch
	opt := Optimizer{Method: SGD, LR: 0.03, Momentum: 0.9}
	full, _ := New(smallConfig())
	ft, _ := NewTrainer(full, smallTrain(opt))
	if err := ft.Fit(train, nil); err != nil {
		t.Fatal(err)
	}

	// Cancelled by the step callback after step 11, with a checkpoint every
	// 5 steps (and at the end of epoch 1, step 8): the last save is step 10.
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "ck")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tc := smallTrain(opt)
	tc.Checkpoint, tc.CheckpointEvery = ckpt, 5
	var saved []byte
	tc.OnStep = func(p Progress) {
		if p.Step == 11 {
			saved, _ = os.ReadFile(ckpt)
			cancel()
		}
	}
	m, _ := New(smallConfig())
	tr, _ := NewTrainer(m, tc)
	err := tr.FitContext(ctx, train, nil)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "stopped after step 11") {
		t.Fatalf("cancelled Fit returned %v, want context.Canceled after step 11", err)
	}
	if tr.Steps() != 11 {
		t.Errorf("cancelled after step 11, the trainer is at step %d", tr.Steps())
	}
	after, err := os.ReadFile(ckpt)
	if err != nil || saved == nil || !bytes.Equal(after, saved) {
		t.Errorf("the checkpoint changed after the cancel (%v)", err)
	}
	rt, _ := NewTrainer(mustNew(t, smallConfig()), smallTrain(opt))
	if err := rt.Restore(ckpt); err != nil || rt.Steps() != 10 {
		t.Errorf("the checkpoint restores to step %d (%v), want the last save, step 10", rt.Steps(), err)
	}

	// Fit again, not cancelled: the run ends as the uninterrupted one.
	tr.cfg.OnStep = nil
	if err := tr.Fit(train, nil); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(paramsBytes(m), paramsBytes(full)) || !bytes.Equal(tr.encode(nil), ft.encode(nil)) {
		t.Error("after a cancel and a second Fit, the run differs from an uninterrupted one")
	}

	// A context done before Fit: no step, its error, and FitSteps alike.
	m0, _ := New(smallConfig())
	before := paramsBytes(m0)
	t0, _ := NewTrainer(m0, smallTrain(opt))
	past, cancelPast := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancelPast()
	if err := t0.FitStepsContext(past, train, nil, 3); !errors.Is(err, context.DeadlineExceeded) || t0.Steps() != 0 {
		t.Errorf("expired context: %v after %d steps", err, t0.Steps())
	}
	if !bytes.Equal(paramsBytes(m0), before) {
		t.Error("an expired context let Fit change the model")
	}
}

func mustNew(t *testing.T, c Config) *Model {
	t.Helper()
	m, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
