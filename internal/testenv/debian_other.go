//go:build !windows

package testenv

// debianTools: make deps installs the tools of scripts/deps.list here.
const debianTools = true
