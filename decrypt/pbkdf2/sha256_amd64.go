//go:build amd64 && !purego

package pbkdf2

import "golang.org/x/sys/cpu"

// blockAsm is the compression function with the x86 SHA extensions.
//
//go:noescape
func blockAsm(h *[8]uint32, m *[16]uint32)

// iterateAsm runs n >= 1 PBKDF2 iterations entirely in assembly with the
// x86 SHA extensions (see iterateGeneric for the meaning) and stores T in *t.
//
//go:noescape
func iterateAsm(inner, outer, u *[8]uint32, n int, t *[8]uint32)

// cpuid executes the CPUID instruction: x/sys/cpu does not report the x86
// SHA extensions.
func cpuid(leaf, subleaf uint32) (eax, ebx, ecx, edx uint32)

// hasSHANI reports the SHA extensions (CPUID leaf 7, EBX bit 29) and the
// SSSE3/SSE4.1 shuffles the assembly uses around them.
func hasSHANI() bool {
	if !cpu.X86.HasSSSE3 || !cpu.X86.HasSSE41 {
		return false
	}
	if maxLeaf, _, _, _ := cpuid(0, 0); maxLeaf < 7 {
		return false
	}
	_, ebx, _, _ := cpuid(7, 0)
	return ebx&(1<<29) != 0
}

// useAsm reports whether blockAsm and iterateAsm may run on this CPU.
var useAsm = hasSHANI()

// asmName names the assembly path in tests and benchmarks.
const asmName = "shani"
