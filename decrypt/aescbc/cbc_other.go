//go:build (!amd64 && !arm64) || purego

package aescbc

// implementations lists the paths this build may run: only crypto/aes,
// because this architecture has no assembly here or the purego tag asked
// for none.
var implementations = []implementation{genericImpl}
