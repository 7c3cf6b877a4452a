//go:build amd64 && !purego

#include "textflag.h"

// AES-CBC decryption with interleaved AES instructions.
//
// Each AESDEC has a latency of several cycles while the CPU can issue one
// or two per cycle, so a single block leaves the AES units mostly idle.
// CBC decryption of different blocks is independent, so every routine here
// runs one round over a whole batch of blocks before the next round.
//
// The round keys rk are those of the equivalent inverse cipher (see
// expandDecryptionKey): rk[0] is XORed in first, rk[1..rounds-1] feed
// AESDEC and rk[rounds] feeds AESDECLAST.
//
// CBC XOR folded into the last round: AESDECLAST ends by XORing its key
// into the state, so giving it rk[rounds] XOR C[i-1] as the key yields the
// plaintext block directly.
//
// In-place safety: within a batch all ciphertext loads (state and chaining
// blocks) happen before the first store, and the batch's last ciphertext
// block is kept in a register as the next batch's chaining value.
//
// Common register use:
//   AX  round keys          R8  rounds (10, 12 or 14)
//   DI  dst                 SI  src
//   CX  blocks remaining    R9  rounds*16 (offset of the last round key)

// func decryptAESNI(rk *byte, rounds int, dst, src *byte, n int, iv *byte)
//
//   X0-X7  eight blocks of state      X8   round key of the current round
//   X9     chaining value C[i-1]      X10-X13 scratch
//   X14    last round key rk[rounds]  X15  first round key rk[0]
TEXT ·decryptAESNI(SB), NOSPLIT, $0-48
	MOVQ rk+0(FP), AX
	MOVQ rounds+8(FP), R8
	MOVQ dst+16(FP), DI
	MOVQ src+24(FP), SI
	MOVQ n+32(FP), CX
	MOVQ iv+40(FP), DX

	MOVOU (DX), X9
	MOVOU (AX), X15
	MOVQ  R8, R9
	SHLQ  $4, R9
	MOVOU (AX)(R9*1), X14

// AESDEC8 runs the round whose key is at off(AX) on all eight blocks.
#define AESDEC8(off) \
	MOVOU  off(AX), X8; \
	AESDEC X8, X0; \
	AESDEC X8, X1; \
	AESDEC X8, X2; \
	AESDEC X8, X3; \
	AESDEC X8, X4; \
	AESDEC X8, X5; \
	AESDEC X8, X6; \
	AESDEC X8, X7

aesni_loop8:
	CMPQ CX, $8
	JB   aesni_tail

	MOVOU 0(SI), X0
	MOVOU 16(SI), X1
	MOVOU 32(SI), X2
	MOVOU 48(SI), X3
	MOVOU 64(SI), X4
	MOVOU 80(SI), X5
	MOVOU 96(SI), X6
	MOVOU 112(SI), X7
	PXOR  X15, X0
	PXOR  X15, X1
	PXOR  X15, X2
	PXOR  X15, X3
	PXOR  X15, X4
	PXOR  X15, X5
	PXOR  X15, X6
	PXOR  X15, X7

	// Rounds 1-9 are common to all key sizes.
	AESDEC8(16)
	AESDEC8(32)
	AESDEC8(48)
	AESDEC8(64)
	AESDEC8(80)
	AESDEC8(96)
	AESDEC8(112)
	AESDEC8(128)
	AESDEC8(144)
	CMPQ R8, $10
	JEQ  aesni_last8
	AESDEC8(160)
	AESDEC8(176)
	CMPQ R8, $12
	JEQ  aesni_last8
	AESDEC8(192)
	AESDEC8(208)

aesni_last8:
	// Last round, key XOR previous ciphertext block (see top of file).
	MOVOU      X14, X10
	PXOR       X9, X10
	AESDECLAST X10, X0
	MOVOU      0(SI), X11
	PXOR       X14, X11
	AESDECLAST X11, X1
	MOVOU      16(SI), X12
	PXOR       X14, X12
	AESDECLAST X12, X2
	MOVOU      32(SI), X13
	PXOR       X14, X13
	AESDECLAST X13, X3
	MOVOU      48(SI), X10
	PXOR       X14, X10
	AESDECLAST X10, X4
	MOVOU      64(SI), X11
	PXOR       X14, X11
	AESDECLAST X11, X5
	MOVOU      80(SI), X12
	PXOR       X14, X12
	AESDECLAST X12, X6
	MOVOU      96(SI), X13
	PXOR       X14, X13
	AESDECLAST X13, X7
	MOVOU      112(SI), X9 // chaining value for the next batch

	MOVOU X0, 0(DI)
	MOVOU X1, 16(DI)
	MOVOU X2, 32(DI)
	MOVOU X3, 48(DI)
	MOVOU X4, 64(DI)
	MOVOU X5, 80(DI)
	MOVOU X6, 96(DI)
	MOVOU X7, 112(DI)

	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $8, CX
	JMP  aesni_loop8

aesni_tail:
	// Fewer than eight blocks remain: one at a time.
	TESTQ CX, CX
	JZ    aesni_done

aesni_one:
	MOVOU (SI), X0
	MOVOU X0, X10 // this block's ciphertext chains into the next
	PXOR  X15, X0
	LEAQ  16(AX), R10
	LEAQ  -1(R8), R11

aesni_one_round:
	MOVOU  (R10), X8
	AESDEC X8, X0
	ADDQ   $16, R10
	DECQ   R11
	JNZ    aesni_one_round

	MOVOU      X14, X8
	PXOR       X9, X8
	AESDECLAST X8, X0
	MOVOU      X0, (DI)
	MOVOU      X10, X9
	ADDQ       $16, SI
	ADDQ       $16, DI
	DECQ       CX
	JNZ        aesni_one

aesni_done:
	RET

// func decryptVAES256(rk *byte, rounds int, dst, src *byte, n int, iv *byte)
//
// Sixteen blocks per iteration, two per ymm register. n is a non-zero
// multiple of 16.
//
//   Y0-Y7  sixteen blocks of state    Y8   round key, broadcast to both lanes
//   X9     chaining value C[i-1]      Y10-Y13 scratch
//   Y14    last round key (both lanes)  Y15 first round key (both lanes)
//
// The chaining blocks for the register holding C[2k], C[2k+1] are C[2k-1],
// C[2k]: one unaligned 32-byte load at src+32k-16, except for k=0 whose low
// half is the chaining value kept from the previous batch.
TEXT ·decryptVAES256(SB), NOSPLIT, $0-48
	MOVQ rk+0(FP), AX
	MOVQ rounds+8(FP), R8
	MOVQ dst+16(FP), DI
	MOVQ src+24(FP), SI
	MOVQ n+32(FP), CX
	MOVQ iv+40(FP), DX

	VMOVDQU        (DX), X9
	VBROADCASTI128 (AX), Y15
	MOVQ           R8, R9
	SHLQ           $4, R9
	VBROADCASTI128 (AX)(R9*1), Y14

#define VAESDEC256(off) \
	VBROADCASTI128 off(AX), Y8; \
	VAESDEC        Y8, Y0, Y0; \
	VAESDEC        Y8, Y1, Y1; \
	VAESDEC        Y8, Y2, Y2; \
	VAESDEC        Y8, Y3, Y3; \
	VAESDEC        Y8, Y4, Y4; \
	VAESDEC        Y8, Y5, Y5; \
	VAESDEC        Y8, Y6, Y6; \
	VAESDEC        Y8, Y7, Y7

vaes256_loop:
	VPXOR 0(SI), Y15, Y0
	VPXOR 32(SI), Y15, Y1
	VPXOR 64(SI), Y15, Y2
	VPXOR 96(SI), Y15, Y3
	VPXOR 128(SI), Y15, Y4
	VPXOR 160(SI), Y15, Y5
	VPXOR 192(SI), Y15, Y6
	VPXOR 224(SI), Y15, Y7

	VAESDEC256(16)
	VAESDEC256(32)
	VAESDEC256(48)
	VAESDEC256(64)
	VAESDEC256(80)
	VAESDEC256(96)
	VAESDEC256(112)
	VAESDEC256(128)
	VAESDEC256(144)
	CMPQ R8, $10
	JEQ  vaes256_last
	VAESDEC256(160)
	VAESDEC256(176)
	CMPQ R8, $12
	JEQ  vaes256_last
	VAESDEC256(192)
	VAESDEC256(208)

vaes256_last:
	VINSERTI128 $1, 0(SI), Y9, Y10 // low lane C[-1] (kept), high lane C[0]
	VPXOR       Y14, Y10, Y10
	VAESDECLAST Y10, Y0, Y0
	VPXOR       16(SI), Y14, Y11
	VAESDECLAST Y11, Y1, Y1
	VPXOR       48(SI), Y14, Y12
	VAESDECLAST Y12, Y2, Y2
	VPXOR       80(SI), Y14, Y13
	VAESDECLAST Y13, Y3, Y3
	VPXOR       112(SI), Y14, Y10
	VAESDECLAST Y10, Y4, Y4
	VPXOR       144(SI), Y14, Y11
	VAESDECLAST Y11, Y5, Y5
	VPXOR       176(SI), Y14, Y12
	VAESDECLAST Y12, Y6, Y6
	VPXOR       208(SI), Y14, Y13
	VAESDECLAST Y13, Y7, Y7
	VMOVDQU     240(SI), X9 // chaining value for the next batch

	VMOVDQU Y0, 0(DI)
	VMOVDQU Y1, 32(DI)
	VMOVDQU Y2, 64(DI)
	VMOVDQU Y3, 96(DI)
	VMOVDQU Y4, 128(DI)
	VMOVDQU Y5, 160(DI)
	VMOVDQU Y6, 192(DI)
	VMOVDQU Y7, 224(DI)

	ADDQ $256, SI
	ADDQ $256, DI
	SUBQ $16, CX
	JNZ  vaes256_loop

	VZEROUPPER
	RET

// func decryptVAES512(rk *byte, rounds int, dst, src *byte, n int, iv *byte)
//
// Thirty-two blocks per iteration, four per zmm register. n is a non-zero
// multiple of 32.
//
//   Z0-Z7  thirty-two blocks of state  Z8   round key, broadcast to 4 lanes
//   Z9     lane 3 holds the chaining value C[i-1]   Z10-Z13 scratch
//   Z14    last round key (4 lanes)    Z15  first round key (4 lanes)
//
// The chaining blocks for the register holding C[4k..4k+3] are
// C[4k-1..4k+2]: one unaligned 64-byte load at src+64k-16, except for k=0
// which is built with VALIGNQ from the kept chaining value and C[0..2].
TEXT ·decryptVAES512(SB), NOSPLIT, $0-48
	MOVQ rk+0(FP), AX
	MOVQ rounds+8(FP), R8
	MOVQ dst+16(FP), DI
	MOVQ src+24(FP), SI
	MOVQ n+32(FP), CX
	MOVQ iv+40(FP), DX

	VBROADCASTI32X4 (DX), Z9 // the chaining value must be in lane 3
	VBROADCASTI32X4 (AX), Z15
	MOVQ            R8, R9
	SHLQ            $4, R9
	VBROADCASTI32X4 (AX)(R9*1), Z14

#define VAESDEC512(off) \
	VBROADCASTI32X4 off(AX), Z8; \
	VAESDEC         Z8, Z0, Z0; \
	VAESDEC         Z8, Z1, Z1; \
	VAESDEC         Z8, Z2, Z2; \
	VAESDEC         Z8, Z3, Z3; \
	VAESDEC         Z8, Z4, Z4; \
	VAESDEC         Z8, Z5, Z5; \
	VAESDEC         Z8, Z6, Z6; \
	VAESDEC         Z8, Z7, Z7

vaes512_loop:
	VPXORQ 0(SI), Z15, Z0
	VPXORQ 64(SI), Z15, Z1
	VPXORQ 128(SI), Z15, Z2
	VPXORQ 192(SI), Z15, Z3
	VPXORQ 256(SI), Z15, Z4
	VPXORQ 320(SI), Z15, Z5
	VPXORQ 384(SI), Z15, Z6
	VPXORQ 448(SI), Z15, Z7

	VAESDEC512(16)
	VAESDEC512(32)
	VAESDEC512(48)
	VAESDEC512(64)
	VAESDEC512(80)
	VAESDEC512(96)
	VAESDEC512(112)
	VAESDEC512(128)
	VAESDEC512(144)
	CMPQ R8, $10
	JEQ  vaes512_last
	VAESDEC512(160)
	VAESDEC512(176)
	CMPQ R8, $12
	JEQ  vaes512_last
	VAESDEC512(192)
	VAESDEC512(208)

vaes512_last:
	// Z10 = C[-1], C[0], C[1], C[2]: the top two qwords of Z9 followed by
	// the low six qwords of C[0..3].
	VMOVDQU64   0(SI), Z10
	VALIGNQ     $6, Z9, Z10, Z10
	VPXORQ      Z14, Z10, Z10
	VAESDECLAST Z10, Z0, Z0
	VPXORQ      48(SI), Z14, Z11
	VAESDECLAST Z11, Z1, Z1
	VPXORQ      112(SI), Z14, Z12
	VAESDECLAST Z12, Z2, Z2
	VPXORQ      176(SI), Z14, Z13
	VAESDECLAST Z13, Z3, Z3
	VPXORQ      240(SI), Z14, Z10
	VAESDECLAST Z10, Z4, Z4
	VPXORQ      304(SI), Z14, Z11
	VAESDECLAST Z11, Z5, Z5
	VPXORQ      368(SI), Z14, Z12
	VAESDECLAST Z12, Z6, Z6
	VPXORQ      432(SI), Z14, Z13
	VAESDECLAST Z13, Z7, Z7
	VMOVDQU64   448(SI), Z9 // lane 3 is C[31], the next chaining value

	VMOVDQU64 Z0, 0(DI)
	VMOVDQU64 Z1, 64(DI)
	VMOVDQU64 Z2, 128(DI)
	VMOVDQU64 Z3, 192(DI)
	VMOVDQU64 Z4, 256(DI)
	VMOVDQU64 Z5, 320(DI)
	VMOVDQU64 Z6, 384(DI)
	VMOVDQU64 Z7, 448(DI)

	ADDQ $512, SI
	ADDQ $512, DI
	SUBQ $32, CX
	JNZ  vaes512_loop

	VZEROUPPER
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
