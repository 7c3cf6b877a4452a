//go:build amd64 && !purego

#include "textflag.h"

// SHA-256 compression with the x86 SHA extensions (SHA-NI).
//
// SHA256RNDS2 runs two rounds. It keeps the eight working variables in two
// registers, in the order the instruction wants:
//   STATE0 (X1) lanes 3..0 = A, B, E, F
//   STATE1 (X2) lanes 3..0 = C, D, G, H
// and takes the two message-plus-constant words of its rounds from the low
// lanes of X0 (an implicit operand). Each call writes the new A,B,E,F over
// the register holding the old C,D,G,H, so the two registers swap roles on
// every call; after an even number of calls they are back in place.
//
// Message words are passed as uint32 values (big-endian words of the
// block), so no byte swapping is needed: lane i of a message register is
// word i of its group of four.
//
// Registers shared by both functions:
//   X0      message + round constants for the current four rounds
//   X1, X2  STATE0, STATE1
//   X3-X6   the message schedule: four groups of four words, rotating
//   X7      scratch
//   R8      address of the round-constant table

// Round constants K[0..63], FIPS 180-4 section 4.2.2.
DATA shaniK<>+0x00(SB)/4, $0x428a2f98
DATA shaniK<>+0x04(SB)/4, $0x71374491
DATA shaniK<>+0x08(SB)/4, $0xb5c0fbcf
DATA shaniK<>+0x0c(SB)/4, $0xe9b5dba5
DATA shaniK<>+0x10(SB)/4, $0x3956c25b
DATA shaniK<>+0x14(SB)/4, $0x59f111f1
DATA shaniK<>+0x18(SB)/4, $0x923f82a4
DATA shaniK<>+0x1c(SB)/4, $0xab1c5ed5
DATA shaniK<>+0x20(SB)/4, $0xd807aa98
DATA shaniK<>+0x24(SB)/4, $0x12835b01
DATA shaniK<>+0x28(SB)/4, $0x243185be
DATA shaniK<>+0x2c(SB)/4, $0x550c7dc3
DATA shaniK<>+0x30(SB)/4, $0x72be5d74
DATA shaniK<>+0x34(SB)/4, $0x80deb1fe
DATA shaniK<>+0x38(SB)/4, $0x9bdc06a7
DATA shaniK<>+0x3c(SB)/4, $0xc19bf174
DATA shaniK<>+0x40(SB)/4, $0xe49b69c1
DATA shaniK<>+0x44(SB)/4, $0xefbe4786
DATA shaniK<>+0x48(SB)/4, $0x0fc19dc6
DATA shaniK<>+0x4c(SB)/4, $0x240ca1cc
DATA shaniK<>+0x50(SB)/4, $0x2de92c6f
DATA shaniK<>+0x54(SB)/4, $0x4a7484aa
DATA shaniK<>+0x58(SB)/4, $0x5cb0a9dc
DATA shaniK<>+0x5c(SB)/4, $0x76f988da
DATA shaniK<>+0x60(SB)/4, $0x983e5152
DATA shaniK<>+0x64(SB)/4, $0xa831c66d
DATA shaniK<>+0x68(SB)/4, $0xb00327c8
DATA shaniK<>+0x6c(SB)/4, $0xbf597fc7
DATA shaniK<>+0x70(SB)/4, $0xc6e00bf3
DATA shaniK<>+0x74(SB)/4, $0xd5a79147
DATA shaniK<>+0x78(SB)/4, $0x06ca6351
DATA shaniK<>+0x7c(SB)/4, $0x14292967
DATA shaniK<>+0x80(SB)/4, $0x27b70a85
DATA shaniK<>+0x84(SB)/4, $0x2e1b2138
DATA shaniK<>+0x88(SB)/4, $0x4d2c6dfc
DATA shaniK<>+0x8c(SB)/4, $0x53380d13
DATA shaniK<>+0x90(SB)/4, $0x650a7354
DATA shaniK<>+0x94(SB)/4, $0x766a0abb
DATA shaniK<>+0x98(SB)/4, $0x81c2c92e
DATA shaniK<>+0x9c(SB)/4, $0x92722c85
DATA shaniK<>+0xa0(SB)/4, $0xa2bfe8a1
DATA shaniK<>+0xa4(SB)/4, $0xa81a664b
DATA shaniK<>+0xa8(SB)/4, $0xc24b8b70
DATA shaniK<>+0xac(SB)/4, $0xc76c51a3
DATA shaniK<>+0xb0(SB)/4, $0xd192e819
DATA shaniK<>+0xb4(SB)/4, $0xd6990624
DATA shaniK<>+0xb8(SB)/4, $0xf40e3585
DATA shaniK<>+0xbc(SB)/4, $0x106aa070
DATA shaniK<>+0xc0(SB)/4, $0x19a4c116
DATA shaniK<>+0xc4(SB)/4, $0x1e376c08
DATA shaniK<>+0xc8(SB)/4, $0x2748774c
DATA shaniK<>+0xcc(SB)/4, $0x34b0bcb5
DATA shaniK<>+0xd0(SB)/4, $0x391c0cb3
DATA shaniK<>+0xd4(SB)/4, $0x4ed8aa4a
DATA shaniK<>+0xd8(SB)/4, $0x5b9cca4f
DATA shaniK<>+0xdc(SB)/4, $0x682e6ff3
DATA shaniK<>+0xe0(SB)/4, $0x748f82ee
DATA shaniK<>+0xe4(SB)/4, $0x78a5636f
DATA shaniK<>+0xe8(SB)/4, $0x84c87814
DATA shaniK<>+0xec(SB)/4, $0x8cc70208
DATA shaniK<>+0xf0(SB)/4, $0x90befffa
DATA shaniK<>+0xf4(SB)/4, $0xa4506ceb
DATA shaniK<>+0xf8(SB)/4, $0xbef9a3f7
DATA shaniK<>+0xfc(SB)/4, $0xc67178f2
GLOBL shaniK<>(SB), RODATA|NOPTR, $256

// The last two message groups of every PBKDF2 block (see paddedDigestBlock
// in pbkdf2.go): words 8-11 = 0x80000000, 0, 0, 0 and words 12-15 = 0, 0,
// 0, (64+32)*8.
DATA shaniPad<>+0x00(SB)/4, $0x80000000
DATA shaniPad<>+0x04(SB)/4, $0
DATA shaniPad<>+0x08(SB)/4, $0
DATA shaniPad<>+0x0c(SB)/4, $0
DATA shaniPad<>+0x10(SB)/4, $0
DATA shaniPad<>+0x14(SB)/4, $0
DATA shaniPad<>+0x18(SB)/4, $0
DATA shaniPad<>+0x1c(SB)/4, $768
GLOBL shaniPad<>(SB), RODATA|NOPTR, $32

// ROUNDS4 runs four rounds with message group M and constants K[i..i+3]
// at byte offset koff of the table.
#define ROUNDS4(M, koff) \
	MOVOU       koff(R8), X0; \
	PADDD       M, X0; \
	SHA256RNDS2 X0, X1, X2; \
	PSHUFD      $0x0e, X0, X0; \
	SHA256RNDS2 X0, X2, X1

// SCHEDULE turns M4 (holding words W[i-16..i-13]) into W[i..i+3], given
// M3 = W[i-12..i-9], M2 = W[i-8..i-5] and M1 = W[i-4..i-1]:
// W[i] = sigma1(W[i-2]) + W[i-7] + sigma0(W[i-15]) + W[i-16].
#define SCHEDULE(M4, M3, M2, M1) \
	SHA256MSG1 M3, M4; \
	MOVOU      M1, X7; \
	PALIGNR    $4, M2, X7; \
	PADDD      X7, M4; \
	SHA256MSG2 M1, M4

// COMPRESS64 runs the 64 rounds on X1, X2 with the message in X3-X6
// (words 0-3, 4-7, 8-11, 12-15). The caller adds the input state after.
#define COMPRESS64 \
	ROUNDS4(X3, 0x00); \
	ROUNDS4(X4, 0x10); \
	ROUNDS4(X5, 0x20); \
	ROUNDS4(X6, 0x30); \
	SCHEDULE(X3, X4, X5, X6); \
	ROUNDS4(X3, 0x40); \
	SCHEDULE(X4, X5, X6, X3); \
	ROUNDS4(X4, 0x50); \
	SCHEDULE(X5, X6, X3, X4); \
	ROUNDS4(X5, 0x60); \
	SCHEDULE(X6, X3, X4, X5); \
	ROUNDS4(X6, 0x70); \
	SCHEDULE(X3, X4, X5, X6); \
	ROUNDS4(X3, 0x80); \
	SCHEDULE(X4, X5, X6, X3); \
	ROUNDS4(X4, 0x90); \
	SCHEDULE(X5, X6, X3, X4); \
	ROUNDS4(X5, 0xa0); \
	SCHEDULE(X6, X3, X4, X5); \
	ROUNDS4(X6, 0xb0); \
	SCHEDULE(X3, X4, X5, X6); \
	ROUNDS4(X3, 0xc0); \
	SCHEDULE(X4, X5, X6, X3); \
	ROUNDS4(X4, 0xd0); \
	SCHEDULE(X5, X6, X3, X4); \
	ROUNDS4(X5, 0xe0); \
	SCHEDULE(X6, X3, X4, X5); \
	ROUNDS4(X6, 0xf0)

// TO_STATE converts LO = (A,B,C,D) and HI = (E,F,G,H), lane 0 first, into
// LO = STATE0 (F,E,B,A) and HI = STATE1 (H,G,D,C), using X7.
#define TO_STATE(LO, HI) \
	PSHUFD  $0xb1, LO, LO; \
	PSHUFD  $0x1b, HI, HI; \
	MOVOU   LO, X7; \
	PALIGNR $8, HI, LO; \
	PBLENDW $0xf0, X7, HI

// STATE_TO_WORDS writes the eight words held in S0 = STATE0, S1 = STATE1
// into LO = (A,B,C,D) and HI = (E,F,G,H), lane 0 first, using X7.
#define STATE_TO_WORDS(S0, S1, LO, HI) \
	PSHUFD     $0x1b, S0, X7; \
	PSHUFD     $0x1b, S1, HI; \
	MOVOU      X7, LO; \
	PUNPCKLQDQ HI, LO; \
	PUNPCKHQDQ HI, X7; \
	MOVOU      X7, HI

// func blockAsm(h *[8]uint32, m *[16]uint32)
TEXT ·blockAsm(SB), NOSPLIT, $0-16
	MOVQ h+0(FP), AX
	MOVQ m+8(FP), BX
	LEAQ shaniK<>(SB), R8

	MOVOU 0(AX), X1
	MOVOU 16(AX), X2
	TO_STATE(X1, X2)
	MOVOU X1, X8 // input state, added back at the end
	MOVOU X2, X9

	MOVOU 0(BX), X3
	MOVOU 16(BX), X4
	MOVOU 32(BX), X5
	MOVOU 48(BX), X6
	COMPRESS64
	PADDD X8, X1
	PADDD X9, X2

	STATE_TO_WORDS(X1, X2, X3, X4)
	MOVOU X3, 0(AX)
	MOVOU X4, 16(AX)
	RET

// func iterateAsm(inner, outer, u *[8]uint32, n int, t *[8]uint32)
//
// Runs n >= 1 PBKDF2-HMAC-SHA256 iterations from U = *u and stores
// T = U XOR U_2 XOR ... XOR U_(n+1) in *t. Everything stays in registers:
//   X8, X9    inner HMAC state (STATE0/STATE1 form)
//   X10, X11  outer HMAC state
//   X12, X13  T, also in STATE0/STATE1 form (XOR is lane-wise, so the
//             order of the words does not matter until the end)
//   X14, X15  the constant message words 8-15
//   X1, X2    U (each compression leaves its output there)
//   CX        iterations left
TEXT ·iterateAsm(SB), NOSPLIT, $0-40
	MOVQ inner+0(FP), AX
	MOVQ outer+8(FP), BX
	MOVQ u+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ t+32(FP), DI
	LEAQ shaniK<>(SB), R8

	MOVOU 0(AX), X8
	MOVOU 16(AX), X9
	TO_STATE(X8, X9)
	MOVOU 0(BX), X10
	MOVOU 16(BX), X11
	TO_STATE(X10, X11)
	MOVOU shaniPad<>+0(SB), X14
	MOVOU shaniPad<>+16(SB), X15

	MOVOU 0(DX), X1
	MOVOU 16(DX), X2
	TO_STATE(X1, X2)
	MOVOU X1, X12
	MOVOU X2, X13

iterate_loop:
	// Inner hash: H(K^ipad || U), message = U and padding.
	STATE_TO_WORDS(X1, X2, X3, X4)
	MOVOU X14, X5
	MOVOU X15, X6
	MOVOU X8, X1
	MOVOU X9, X2
	COMPRESS64
	PADDD X8, X1
	PADDD X9, X2

	// Outer hash: H(K^opad || inner), message = inner digest and padding.
	STATE_TO_WORDS(X1, X2, X3, X4)
	MOVOU X14, X5
	MOVOU X15, X6
	MOVOU X10, X1
	MOVOU X11, X2
	COMPRESS64
	PADDD X10, X1
	PADDD X11, X2

	// X1, X2 now hold U_next.
	PXOR X1, X12
	PXOR X2, X13
	DECQ CX
	JNZ  iterate_loop

	STATE_TO_WORDS(X12, X13, X3, X4)
	MOVOU X3, 0(DI)
	MOVOU X4, 16(DI)
	RET

// func cpuid(leaf, subleaf uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL subleaf+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET
