//go:build arm64 && !purego

#include "textflag.h"

// AES-CBC decryption with interleaved ARMv8 AES instructions.
//
// One decryption round of the equivalent inverse cipher is AESD (XOR the
// round key, InvShiftRows, InvSubBytes) followed by AESIMC (InvMixColumns).
// The rounds of one block form a dependency chain, so eight independent
// blocks are decrypted together, round by round. AESD and AESIMC on the same
// register are kept adjacent: many cores fuse the pair.
//
// The round keys are those of expandDecryptionKey: dk[0..rounds-1] feed
// AESD and dk[rounds] is XORed at the end, together with the previous
// ciphertext block (the CBC step).
//
// Round keys live in registers for the whole call, right-aligned so that
// dk[rounds] is always V30: AES-256 uses V16-V30, AES-192 V18-V30 and
// AES-128 V20-V30. The round sequence is written once for AES-256, and
// shorter keys enter it further down.
//
// In-place safety: within a batch all ciphertext loads happen before the
// first store, and the batch's last ciphertext block is kept in V31.
//
// Registers:
//   R0 round keys   R1 rounds   R2 dst   R3 src   R4 blocks remaining
//   R5 iv           R6 second src cursor
//   V0-V7 state of eight blocks     V8-V15 their ciphertext (for chaining)
//   V16-V30 round keys              V31 chaining value C[i-1]

// AESROUND8 runs a full round (AESD then AESIMC) with key K on V0-V7.
#define AESROUND8(K) \
	AESD   K.B16, V0.B16; \
	AESIMC V0.B16, V0.B16; \
	AESD   K.B16, V1.B16; \
	AESIMC V1.B16, V1.B16; \
	AESD   K.B16, V2.B16; \
	AESIMC V2.B16, V2.B16; \
	AESD   K.B16, V3.B16; \
	AESIMC V3.B16, V3.B16; \
	AESD   K.B16, V4.B16; \
	AESIMC V4.B16, V4.B16; \
	AESD   K.B16, V5.B16; \
	AESIMC V5.B16, V5.B16; \
	AESD   K.B16, V6.B16; \
	AESIMC V6.B16, V6.B16; \
	AESD   K.B16, V7.B16; \
	AESIMC V7.B16, V7.B16

// AESROUND1 runs a full round with key K on V0 alone.
#define AESROUND1(K) \
	AESD   K.B16, V0.B16; \
	AESIMC V0.B16, V0.B16

// func decryptARMv8(rk *byte, rounds int, dst, src *byte, n int, iv *byte)
TEXT ·decryptARMv8(SB), NOSPLIT, $0-48
	MOVD rk+0(FP), R0
	MOVD rounds+8(FP), R1
	MOVD dst+16(FP), R2
	MOVD src+24(FP), R3
	MOVD n+32(FP), R4
	MOVD iv+40(FP), R5

	VLD1 (R5), [V31.B16]

	// Load dk[0..rounds] so that dk[rounds] lands in V30.
	CMP $12, R1
	BEQ load12
	BLT load10
	VLD1.P 32(R0), [V16.B16, V17.B16]

load12:
	VLD1.P 32(R0), [V18.B16, V19.B16]

load10:
	VLD1.P 64(R0), [V20.B16, V21.B16, V22.B16, V23.B16]
	VLD1.P 64(R0), [V24.B16, V25.B16, V26.B16, V27.B16]
	VLD1   (R0), [V28.B16, V29.B16, V30.B16]

loop8:
	CMP $8, R4
	BLT tail

	// Ciphertext twice: V0-V7 become the state, V8-V15 stay as the
	// chaining blocks of the next block in line.
	MOVD   R3, R6
	VLD1.P 64(R6), [V0.B16, V1.B16, V2.B16, V3.B16]
	VLD1.P 64(R6), [V4.B16, V5.B16, V6.B16, V7.B16]
	VLD1.P 64(R3), [V8.B16, V9.B16, V10.B16, V11.B16]
	VLD1.P 64(R3), [V12.B16, V13.B16, V14.B16, V15.B16]

	CMP $12, R1
	BEQ rounds12_8
	BLT rounds10_8
	AESROUND8(V16)
	AESROUND8(V17)

rounds12_8:
	AESROUND8(V18)
	AESROUND8(V19)

rounds10_8:
	AESROUND8(V20)
	AESROUND8(V21)
	AESROUND8(V22)
	AESROUND8(V23)
	AESROUND8(V24)
	AESROUND8(V25)
	AESROUND8(V26)
	AESROUND8(V27)
	AESROUND8(V28)

	// Last round: AESD without AESIMC, then XOR the last round key and
	// the previous ciphertext block.
	AESD V29.B16, V0.B16
	AESD V29.B16, V1.B16
	AESD V29.B16, V2.B16
	AESD V29.B16, V3.B16
	AESD V29.B16, V4.B16
	AESD V29.B16, V5.B16
	AESD V29.B16, V6.B16
	AESD V29.B16, V7.B16
	VEOR V30.B16, V0.B16, V0.B16
	VEOR V30.B16, V1.B16, V1.B16
	VEOR V30.B16, V2.B16, V2.B16
	VEOR V30.B16, V3.B16, V3.B16
	VEOR V30.B16, V4.B16, V4.B16
	VEOR V30.B16, V5.B16, V5.B16
	VEOR V30.B16, V6.B16, V6.B16
	VEOR V30.B16, V7.B16, V7.B16
	VEOR V31.B16, V0.B16, V0.B16
	VEOR V8.B16, V1.B16, V1.B16
	VEOR V9.B16, V2.B16, V2.B16
	VEOR V10.B16, V3.B16, V3.B16
	VEOR V11.B16, V4.B16, V4.B16
	VEOR V12.B16, V5.B16, V5.B16
	VEOR V13.B16, V6.B16, V6.B16
	VEOR V14.B16, V7.B16, V7.B16
	VMOV V15.B16, V31.B16 // chaining value for the next batch

	VST1.P [V0.B16, V1.B16, V2.B16, V3.B16], 64(R2)
	VST1.P [V4.B16, V5.B16, V6.B16, V7.B16], 64(R2)
	SUB    $8, R4
	B      loop8

tail:
	// Fewer than eight blocks remain: one at a time.
	CBZ R4, done

one:
	VLD1.P 16(R3), [V0.B16]
	VMOV   V0.B16, V8.B16 // this block's ciphertext chains into the next

	CMP $12, R1
	BEQ rounds12_1
	BLT rounds10_1
	AESROUND1(V16)
	AESROUND1(V17)

rounds12_1:
	AESROUND1(V18)
	AESROUND1(V19)

rounds10_1:
	AESROUND1(V20)
	AESROUND1(V21)
	AESROUND1(V22)
	AESROUND1(V23)
	AESROUND1(V24)
	AESROUND1(V25)
	AESROUND1(V26)
	AESROUND1(V27)
	AESROUND1(V28)
	AESD   V29.B16, V0.B16
	VEOR   V30.B16, V0.B16, V0.B16
	VEOR   V31.B16, V0.B16, V0.B16
	VMOV   V8.B16, V31.B16
	VST1.P [V0.B16], 16(R2)
	SUBS   $1, R4, R4
	BNE    one

done:
	RET
