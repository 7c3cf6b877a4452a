// Package bench holds the measurements behind `make bench` (scripts/bench.sh): the
// benchmarks of the crypto kernels of decrypt/ against the standard library (measured
// by decrypt/speed, which `iosbackup speed` shares), and the small tools the
// whole-process workloads need (cache dropping, a random-read driver, timing of a key
// unlock, putting a chosen file into an encrypted backup).
//
// Every speed figure comes with a correctness check first: a fast kernel that returns
// the wrong bytes must fail loudly, not print a good number.
//
// Nothing here runs in `make test` except quick tests of the helpers; the numbers come
// from `go test -bench` (bench_test.go), cmd/benchtool and scripts/bench.sh.
package bench
