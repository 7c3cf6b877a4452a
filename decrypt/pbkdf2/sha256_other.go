//go:build (!amd64 && !arm64) || purego

package pbkdf2

// useAsm is false: this build has no SHA-256 assembly, and Key256 uses
// crypto/pbkdf2 instead.
const useAsm = false

// asmName names the (absent) assembly path.
const asmName = "none"

// blockAsm is never called when useAsm is false; it exists so tests
// compile everywhere.
func blockAsm(h *[8]uint32, m *[16]uint32) { blockGeneric(h, m) }

// iterateAsm is never called when useAsm is false.
func iterateAsm(inner, outer, u *[8]uint32, n int, t *[8]uint32) {
	*t = iterateGeneric(inner, outer, u, n, blockGeneric)
}
