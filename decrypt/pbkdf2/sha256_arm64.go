//go:build arm64 && !purego

package pbkdf2

import (
	"runtime"

	"golang.org/x/sys/cpu"
)

// blockAsm is the compression function with the ARMv8 SHA-256
// instructions.
//
//go:noescape
func blockAsm(h *[8]uint32, m *[16]uint32)

// iterateAsm runs n >= 1 PBKDF2 iterations entirely in assembly with the
// ARMv8 SHA-256 instructions (see iterateGeneric for the meaning) and stores
// T in *t.
//
//go:noescape
func iterateAsm(inner, outer, u *[8]uint32, n int, t *[8]uint32)

// useAsm reports whether blockAsm and iterateAsm may run on this CPU. Every
// Apple silicon CPU has the SHA-256 instructions, and x/sys/cpu cannot read
// the feature registers there.
var useAsm = cpu.ARM64.HasSHA2 || runtime.GOOS == "darwin" || runtime.GOOS == "ios"

// asmName names the assembly path in tests and benchmarks.
const asmName = "armv8-sha2"
