// Package nn is a small multilayer-perceptron trainer built on the fused
// kernels of package kernels.
//
// A Model is a stack of fully connected layers, each either a dense layer with
// an activation (ReLU, LeakyReLU, ELU, sigmoid, tanh, the scaled sigmoid and
// tanh, or identity) or a maxout
// layer of k pieces, followed by an output layer and a loss head (softmax with
// cross-entropy, linear with mean squared error, or sigmoid with binary
// cross-entropy).
//
// Every layer's forward pass is one kernels.Gemm call with the bias and the
// activation in its epilogue (a maxout layer adds kernels.MaxoutForward). The
// backward pass of a layer is two Gemm calls and a bias reduction: dW = Xᵀ·dZ,
// db = Σ_rows dZ, and dX = dZ·Wᵀ, the last one applying the previous layer's
// activation derivative in its epilogue from that layer's saved output, so
// that it yields the previous layer's dZ directly. Each layer is updated by
// the optimizer as soon as the pass no longer needs its weights; with
// classical momentum the dW Gemm accumulates straight into the velocity
// (which holds μ·v between steps), leaving one pass over the weights and the
// velocity. Model.Gradients runs the same forward and backward passes on one
// batch and returns every layer's weight and bias gradients without
// updating anything, for measurements on the gradients themselves.
//
// A Trainer runs mini-batch SGD (with momentum, optionally Nesterov) or Adam
// with L2 weight decay, Gaussian input noise, a learning-rate Schedule and
// shuffling. Runs are reproducible bit for bit from their seeds: the kernels
// are deterministic for every thread count, and every random stream (weight
// initialisation, the permutation of each epoch, the noise of each step) is
// derived from a seed and a position, never from history. Once its buffers
// exist a training step makes no allocation of its own.
//
// Training can be checkpointed (model, optimizer state and progress, in a
// versioned file with a checksum, written atomically) and resumed: the resumed
// run ends bitwise identical to an uninterrupted one. FitContext stops
// between two steps when its context is done, returning an error that wraps
// the context's, with the last checkpoint intact; Fit then continues the run. A NaN or infinity in the
// loss or the weights stops training with a *DivergenceError naming the layer
// and the step, and leaves the last good checkpoint in place.
//
// Per-epoch statistics (loss and accuracy on the training and test sets, and,
// per layer, the fraction of dead and saturated units and of outputs in the
// activation's linear region, the activation mean and spread and the
// gradient norm) are delivered to a callback.
//
// Data comes through the Dataset interface; InMemory holds a dataset in
// memory. Package nn/dataset reads datasets from files: the MNIST IDX files,
// with a validating IDX reader, into InMemory values.
//
// The reference run (784→512→512→10 ReLU, batch 128, SGD with momentum 0.9,
// learning rate 0.1 with cosine decay, 5 epochs) and the training-step
// benchmark, with every kernel implementation and 1 and 2 threads:
//
//	go test ./nn -run TestMNIST -mnist -v [-mnist.threads 2]
//	go test ./nn -run '^$' -bench TrainStep -benchtime 50x
package nn
