module github.com/actfuse/actfuse/gen

go 1.26.0

require github.com/mmcloughlin/avo v0.6.0

require (
	github.com/actfuse/actfuse v0.0.0
	golang.org/x/mod v0.42.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/tools v0.52.0 // indirect; avo v0.6.0 asks for v0.16.1, which does not build with Go 1.26
)

replace github.com/actfuse/actfuse => ../
