//go:build !windows

package manifest

// oddFolderName holds every character a SQLite file: URI treats specially.
const oddFolderName = "odd ?#% name"
