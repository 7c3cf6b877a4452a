package testenv

// debianTools: the tools of scripts/deps.list are Debian packages, which a Windows
// test binary (make windows-test runs them under Wine) has no way to run; the tests
// that drive them run in the Linux pass of the same `make test`.
const debianTools = false
