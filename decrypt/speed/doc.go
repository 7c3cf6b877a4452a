// Package speed measures, on one core, the two computations that set iosbackup's speed
// on encrypted backups, ours against Go's standard library: AES-256-CBC decryption of
// file contents (decrypt/aescbc) and the iOS 10.2+ password KDF (decrypt/pbkdf2).
// `iosbackup speed` prints them; `make bench` (internal/bench) uses the same code.
//
// It lives beside decrypt/ and not in internal/bench because the shipped binary uses
// it: it imports only decrypt/ and the standard library, never the generator of
// synthetic backups that the benchmarks need.
//
// Every figure comes with a correctness check first (CheckCBC, CheckKDF): a fast kernel
// that returns the wrong bytes must fail loudly, not print a good number.
package speed
