/*
 * bcryptprimitives.dll for Wine 8 (Debian bookworm), which lacks it: Go 1.24+ Windows
 * binaries draw their random numbers from its ProcessPrng and refuse to start without
 * it ("fatal error: bcryptprimitives.dll not found"). ProcessPrng is what Windows 10+
 * implements, and is defined as never failing; here it asks the system RNG through
 * BCryptGenRandom, which Wine has. Only for running tests under Wine (make windows-test):
 * it is never shipped.
 *
 * x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll bcryptprimitives.c -lbcrypt
 */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
