//go:build arm64 && !purego

#include "textflag.h"

// SHA-256 compression with the ARMv8 SHA-256 instructions.
//
// SHA256H and SHA256H2 each run four rounds on half of the state, which
// they keep in natural word order: ABCD (lane 0 = A) and EFGH (lane 0 = E).
// SHA256H computes the new ABCD from ABCD, EFGH and four message-plus-
// constant words; SHA256H2 computes the new EFGH and needs the ABCD from
// before SHA256H, hence the copy in V2. Message words are passed as uint32
// values in natural order too, so no shuffling or byte swapping is needed
// anywhere.
//
// Registers shared by both functions:
//   V0, V1    ABCD, EFGH being compressed
//   V2        ABCD before the current SHA256H
//   V3        message + round constants for the current four rounds
//   V4-V7     the message schedule: four groups of four words, rotating
//   V16-V31   the 64 round constants, four per register

// Round constants K[0..63], FIPS 180-4 section 4.2.2.
DATA shaK<>+0x00(SB)/4, $0x428a2f98
DATA shaK<>+0x04(SB)/4, $0x71374491
DATA shaK<>+0x08(SB)/4, $0xb5c0fbcf
DATA shaK<>+0x0c(SB)/4, $0xe9b5dba5
DATA shaK<>+0x10(SB)/4, $0x3956c25b
DATA shaK<>+0x14(SB)/4, $0x59f111f1
DATA shaK<>+0x18(SB)/4, $0x923f82a4
DATA shaK<>+0x1c(SB)/4, $0xab1c5ed5
DATA shaK<>+0x20(SB)/4, $0xd807aa98
DATA shaK<>+0x24(SB)/4, $0x12835b01
DATA shaK<>+0x28(SB)/4, $0x243185be
DATA shaK<>+0x2c(SB)/4, $0x550c7dc3
DATA shaK<>+0x30(SB)/4, $0x72be5d74
DATA shaK<>+0x34(SB)/4, $0x80deb1fe
DATA shaK<>+0x38(SB)/4, $0x9bdc06a7
DATA shaK<>+0x3c(SB)/4, $0xc19bf174
DATA shaK<>+0x40(SB)/4, $0xe49b69c1
DATA shaK<>+0x44(SB)/4, $0xefbe4786
DATA shaK<>+0x48(SB)/4, $0x0fc19dc6
DATA shaK<>+0x4c(SB)/4, $0x240ca1cc
DATA shaK<>+0x50(SB)/4, $0x2de92c6f
DATA shaK<>+0x54(SB)/4, $0x4a7484aa
DATA shaK<>+0x58(SB)/4, $0x5cb0a9dc
DATA shaK<>+0x5c(SB)/4, $0x76f988da
DATA shaK<>+0x60(SB)/4, $0x983e5152
DATA shaK<>+0x64(SB)/4, $0xa831c66d
DATA shaK<>+0x68(SB)/4, $0xb00327c8
DATA shaK<>+0x6c(SB)/4, $0xbf597fc7
DATA shaK<>+0x70(SB)/4, $0xc6e00bf3
DATA shaK<>+0x74(SB)/4, $0xd5a79147
DATA shaK<>+0x78(SB)/4, $0x06ca6351
DATA shaK<>+0x7c(SB)/4, $0x14292967
DATA shaK<>+0x80(SB)/4, $0x27b70a85
DATA shaK<>+0x84(SB)/4, $0x2e1b2138
DATA shaK<>+0x88(SB)/4, $0x4d2c6dfc
DATA shaK<>+0x8c(SB)/4, $0x53380d13
DATA shaK<>+0x90(SB)/4, $0x650a7354
DATA shaK<>+0x94(SB)/4, $0x766a0abb
DATA shaK<>+0x98(SB)/4, $0x81c2c92e
DATA shaK<>+0x9c(SB)/4, $0x92722c85
DATA shaK<>+0xa0(SB)/4, $0xa2bfe8a1
DATA shaK<>+0xa4(SB)/4, $0xa81a664b
DATA shaK<>+0xa8(SB)/4, $0xc24b8b70
DATA shaK<>+0xac(SB)/4, $0xc76c51a3
DATA shaK<>+0xb0(SB)/4, $0xd192e819
DATA shaK<>+0xb4(SB)/4, $0xd6990624
DATA shaK<>+0xb8(SB)/4, $0xf40e3585
DATA shaK<>+0xbc(SB)/4, $0x106aa070
DATA shaK<>+0xc0(SB)/4, $0x19a4c116
DATA shaK<>+0xc4(SB)/4, $0x1e376c08
DATA shaK<>+0xc8(SB)/4, $0x2748774c
DATA shaK<>+0xcc(SB)/4, $0x34b0bcb5
DATA shaK<>+0xd0(SB)/4, $0x391c0cb3
DATA shaK<>+0xd4(SB)/4, $0x4ed8aa4a
DATA shaK<>+0xd8(SB)/4, $0x5b9cca4f
DATA shaK<>+0xdc(SB)/4, $0x682e6ff3
DATA shaK<>+0xe0(SB)/4, $0x748f82ee
DATA shaK<>+0xe4(SB)/4, $0x78a5636f
DATA shaK<>+0xe8(SB)/4, $0x84c87814
DATA shaK<>+0xec(SB)/4, $0x8cc70208
DATA shaK<>+0xf0(SB)/4, $0x90befffa
DATA shaK<>+0xf4(SB)/4, $0xa4506ceb
DATA shaK<>+0xf8(SB)/4, $0xbef9a3f7
DATA shaK<>+0xfc(SB)/4, $0xc67178f2
GLOBL shaK<>(SB), RODATA|NOPTR, $256

// The last two message groups of every PBKDF2 block (see paddedDigestBlock
// in pbkdf2.go): words 8-11 = 0x80000000, 0, 0, 0 and words 12-15 = 0, 0,
// 0, (64+32)*8.
DATA shaPad<>+0x00(SB)/4, $0x80000000
DATA shaPad<>+0x04(SB)/4, $0
DATA shaPad<>+0x08(SB)/4, $0
DATA shaPad<>+0x0c(SB)/4, $0
DATA shaPad<>+0x10(SB)/4, $0
DATA shaPad<>+0x14(SB)/4, $0
DATA shaPad<>+0x18(SB)/4, $0
DATA shaPad<>+0x1c(SB)/4, $768
GLOBL shaPad<>(SB), RODATA|NOPTR, $32

// LOAD_K loads the round constants into V16-V31, using R9.
#define LOAD_K \
	MOVD   $shaK<>(SB), R9; \
	VLD1.P 64(R9), [V16.S4, V17.S4, V18.S4, V19.S4]; \
	VLD1.P 64(R9), [V20.S4, V21.S4, V22.S4, V23.S4]; \
	VLD1.P 64(R9), [V24.S4, V25.S4, V26.S4, V27.S4]; \
	VLD1   (R9), [V28.S4, V29.S4, V30.S4, V31.S4]

// ROUNDS4 runs four rounds with message group M and constants K.
#define ROUNDS4(M, K) \
	VADD     K.S4, M.S4, V3.S4; \
	VMOV     V0.B16, V2.B16; \
	SHA256H  V3.S4, V1, V0; \
	SHA256H2 V3.S4, V2, V1

// SCHEDULE turns M4 (holding words W[i-16..i-13]) into W[i..i+3], given
// M3 = W[i-12..i-9], M2 = W[i-8..i-5] and M1 = W[i-4..i-1].
#define SCHEDULE(M4, M3, M2, M1) \
	SHA256SU0 M3.S4, M4.S4; \
	SHA256SU1 M1.S4, M2.S4, M4.S4

// COMPRESS64 runs the 64 rounds on V0, V1 with the message in V4-V7
// (words 0-3, 4-7, 8-11, 12-15). The caller adds the input state after.
#define COMPRESS64 \
	ROUNDS4(V4, V16); \
	ROUNDS4(V5, V17); \
	ROUNDS4(V6, V18); \
	ROUNDS4(V7, V19); \
	SCHEDULE(V4, V5, V6, V7); \
	ROUNDS4(V4, V20); \
	SCHEDULE(V5, V6, V7, V4); \
	ROUNDS4(V5, V21); \
	SCHEDULE(V6, V7, V4, V5); \
	ROUNDS4(V6, V22); \
	SCHEDULE(V7, V4, V5, V6); \
	ROUNDS4(V7, V23); \
	SCHEDULE(V4, V5, V6, V7); \
	ROUNDS4(V4, V24); \
	SCHEDULE(V5, V6, V7, V4); \
	ROUNDS4(V5, V25); \
	SCHEDULE(V6, V7, V4, V5); \
	ROUNDS4(V6, V26); \
	SCHEDULE(V7, V4, V5, V6); \
	ROUNDS4(V7, V27); \
	SCHEDULE(V4, V5, V6, V7); \
	ROUNDS4(V4, V28); \
	SCHEDULE(V5, V6, V7, V4); \
	ROUNDS4(V5, V29); \
	SCHEDULE(V6, V7, V4, V5); \
	ROUNDS4(V6, V30); \
	SCHEDULE(V7, V4, V5, V6); \
	ROUNDS4(V7, V31)

// func blockAsm(h *[8]uint32, m *[16]uint32)
TEXT ·blockAsm(SB), NOSPLIT, $0-16
	MOVD h+0(FP), R0
	MOVD m+8(FP), R1
	LOAD_K

	VLD1 (R0), [V0.S4, V1.S4]
	VLD1 (R1), [V4.S4, V5.S4, V6.S4, V7.S4]
	VMOV V0.B16, V8.B16 // input state, added back at the end
	VMOV V1.B16, V9.B16
	COMPRESS64
	VADD V8.S4, V0.S4, V0.S4
	VADD V9.S4, V1.S4, V1.S4
	VST1 [V0.S4, V1.S4], (R0)
	RET

// func iterateAsm(inner, outer, u *[8]uint32, n int, t *[8]uint32)
//
// Runs n >= 1 PBKDF2-HMAC-SHA256 iterations from U = *u and stores
// T = U XOR U_2 XOR ... XOR U_(n+1) in *t. Everything stays in registers:
//   V8, V9    inner HMAC state
//   V10, V11  outer HMAC state
//   V12, V13  T
//   V14, V15  the constant message words 8-15
//   V0, V1    U (each compression leaves its output there)
//   R3        iterations left
TEXT ·iterateAsm(SB), NOSPLIT, $0-40
	MOVD inner+0(FP), R0
	MOVD outer+8(FP), R1
	MOVD u+16(FP), R2
	MOVD n+24(FP), R3
	MOVD t+32(FP), R4
	LOAD_K

	VLD1 (R0), [V8.S4, V9.S4]
	VLD1 (R1), [V10.S4, V11.S4]
	MOVD $shaPad<>(SB), R9
	VLD1 (R9), [V14.S4, V15.S4]
	VLD1 (R2), [V0.S4, V1.S4]
	VMOV V0.B16, V12.B16
	VMOV V1.B16, V13.B16

loop:
	// Inner hash: H(K^ipad || U), message = U and padding.
	VMOV V0.B16, V4.B16
	VMOV V1.B16, V5.B16
	VMOV V14.B16, V6.B16
	VMOV V15.B16, V7.B16
	VMOV V8.B16, V0.B16
	VMOV V9.B16, V1.B16
	COMPRESS64
	VADD V8.S4, V0.S4, V0.S4
	VADD V9.S4, V1.S4, V1.S4

	// Outer hash: H(K^opad || inner), message = inner digest and padding.
	VMOV V0.B16, V4.B16
	VMOV V1.B16, V5.B16
	VMOV V14.B16, V6.B16
	VMOV V15.B16, V7.B16
	VMOV V10.B16, V0.B16
	VMOV V11.B16, V1.B16
	COMPRESS64
	VADD V10.S4, V0.S4, V0.S4
	VADD V11.S4, V1.S4, V1.S4

	// V0, V1 now hold U_next.
	VEOR V0.B16, V12.B16, V12.B16
	VEOR V1.B16, V13.B16, V13.B16
	SUBS $1, R3, R3
	BNE  loop

	VST1 [V12.S4, V13.S4], (R4)
	RET
