//go:build amd64 && !purego

package aescbc

import "golang.org/x/sys/cpu"

// The assembly routines take the decryption round keys, the round count
// (10, 12 or 14), dst, src, the number of 16-byte blocks n (> 0) and the
// chaining block iv. Within each batch they read every ciphertext block they
// need before storing any plaintext, and keep the batch's last ciphertext
// block in a register for the next one, so dst may equal src.

// decryptAESNI decrypts n blocks, eight at a time with AES-NI on xmm
// registers, then one at a time.
//
//go:noescape
func decryptAESNI(rk *byte, rounds int, dst, src *byte, n int, iv *byte)

// decryptVAES256 decrypts n blocks, n a multiple of 16, sixteen at a time
// with VAES on ymm registers (two blocks per register).
//
//go:noescape
func decryptVAES256(rk *byte, rounds int, dst, src *byte, n int, iv *byte)

// decryptVAES512 decrypts n blocks, n a multiple of 32, thirty-two at a
// time with VAES on zmm registers (four blocks per register).
//
//go:noescape
func decryptVAES512(rk *byte, rounds int, dst, src *byte, n int, iv *byte)

// cpuid executes the CPUID instruction. x/sys/cpu reports VAES only
// together with AVX-512, but the VEX-encoded ymm form needs only AVX2 (Zen 3
// and Alder Lake have VAES without AVX-512), so the 256-bit path asks the
// CPU directly.
func cpuid(leaf, subleaf uint32) (eax, ebx, ecx, edx uint32)

func hasVAES() bool {
	if !cpu.X86.HasAVX2 { // also means the OS saves ymm registers
		return false
	}
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, ecx, _ := cpuid(7, 0)
	return ecx&(1<<9) != 0
}

// implementations lists the paths this CPU may run, fastest first.
var implementations = []implementation{
	{name: "vaes512", available: cpu.X86.HasAES && cpu.X86.HasAVX512F && cpu.X86.HasAVX512VAES,
		decrypt: wideThenAESNI(32, decryptVAES512)},
	{name: "vaes256", available: cpu.X86.HasAES && hasVAES(),
		decrypt: wideThenAESNI(16, decryptVAES256)},
	{name: "aesni", available: cpu.X86.HasAES, decrypt: decryptWithAESNI},
	genericImpl,
}

func decryptWithAESNI(d *Decrypter, dst, src, iv []byte) {
	decryptAESNI(&d.dec[0], d.rounds, &dst[0], &src[0], len(src)/BlockSize, &iv[0])
}

// wideThenAESNI returns a decrypt function that runs wide, which handles
// only multiples of batch blocks, over as much of src as it can and
// finishes the remaining blocks with AES-NI.
func wideThenAESNI(batch int, wide func(rk *byte, rounds int, dst, src *byte, n int, iv *byte)) func(d *Decrypter, dst, src, iv []byte) {
	return func(d *Decrypter, dst, src, iv []byte) {
		n := len(src) / BlockSize
		bulk := n - n%batch
		if bulk > 0 {
			// Keep the last bulk ciphertext block before an in-place
			// decryption overwrites it: it chains into the remainder.
			var chain [BlockSize]byte
			copy(chain[:], src[bulk*BlockSize-BlockSize:bulk*BlockSize])
			wide(&d.dec[0], d.rounds, &dst[0], &src[0], bulk, &iv[0])
			iv = chain[:]
		}
		if bulk < n {
			decryptAESNI(&d.dec[0], d.rounds, &dst[bulk*BlockSize], &src[bulk*BlockSize], n-bulk, &iv[0])
		}
	}
}
