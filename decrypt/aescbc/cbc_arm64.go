//go:build arm64 && !purego

package aescbc

import (
	"runtime"

	"golang.org/x/sys/cpu"
)

// decryptARMv8 decrypts n blocks (n > 0), eight at a time and then one at a
// time, with the ARMv8 AES instructions. Within each batch it reads every
// ciphertext block it needs before storing any plaintext, so dst may equal
// src.
//
//go:noescape
func decryptARMv8(rk *byte, rounds int, dst, src *byte, n int, iv *byte)

// hasAES reports the ARMv8 AES extension. Every Apple silicon CPU has it,
// and x/sys/cpu cannot read the feature registers there.
func hasAES() bool {
	return cpu.ARM64.HasAES || runtime.GOOS == "darwin" || runtime.GOOS == "ios"
}

// implementations lists the paths this CPU may run, fastest first.
var implementations = []implementation{
	{name: "armv8", available: hasAES(), decrypt: decryptWithARMv8},
	genericImpl,
}

func decryptWithARMv8(d *Decrypter, dst, src, iv []byte) {
	decryptARMv8(&d.dec[0], d.rounds, &dst[0], &src[0], len(src)/BlockSize, &iv[0])
}
