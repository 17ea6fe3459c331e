// Package scratch keeps reusable objects, such as packing buffers, for
// callers that may run on many goroutines at once.
//
// Unlike sync.Pool, a List never drops what it holds at a garbage
// collection, so a program in a steady state (the same calls, the same
// concurrency) allocates nothing: the list grows to the largest number of
// objects ever in use at once and stays there.
package scratch

import "sync"

// List is a free list of *T. The zero value is ready to use.
type List[T any] struct {
	mu   sync.Mutex
	free []*T
}

// Get returns an object from the list, or a new zero T if it is empty.
func (l *List[T]) Get() *T {
	l.mu.Lock()
	if n := len(l.free); n > 0 {
		x := l.free[n-1]
		l.free[n-1] = nil
		l.free = l.free[:n-1]
		l.mu.Unlock()
		return x
	}
	l.mu.Unlock()
	return new(T)
}

// Put returns x to the list for a later Get.
func (l *List[T]) Put(x *T) {
	l.mu.Lock()
	l.free = append(l.free, x)
	l.mu.Unlock()
}
