package main

import "iosbackup/backup"

// The --json shapes of verify and diff, in the naming of json_out.go: snake_case,
// path for a backup folder, *_bytes, *_seconds.

// problemJSON is one problem of `verify --json`: an entry's (domain, path, file_id) or
// a backup-level file's (file).
type problemJSON struct {
	Check  string `json:"check"`
	Domain string `json:"domain,omitempty"`
	Path   string `json:"path,omitempty"`
	FileID string `json:"file_id,omitempty"`
	File   string `json:"file,omitempty"`
	Detail string `json:"detail"`
}

// verifyJSON is the report of `verify --json`.
type verifyJSON struct {
	Path           string        `json:"path"`
	Sound          bool          `json:"sound"`
	Format         string        `json:"format"`
	Encrypted      bool          `json:"encrypted"`
	Quick          bool          `json:"quick"`
	Files          int           `json:"files"`
	Dirs           int           `json:"dirs"`
	Symlinks       int           `json:"symlinks"`
	Databases      int           `json:"databases_checked"`
	Digests        int           `json:"digests_checked"`
	ReadBytes      int64         `json:"read_bytes"`
	ElapsedSeconds float64       `json:"elapsed_seconds"`
	Problems       []problemJSON `json:"problems"`
}

func verifyToJSON(r *backup.VerifyReport) verifyJSON {
	out := verifyJSON{
		Path: r.Dir, Sound: r.Sound(), Format: r.Format, Encrypted: r.Encrypted, Quick: r.Quick,
		Files: r.Files, Dirs: r.Dirs, Symlinks: r.Symlinks, Databases: r.Databases, Digests: r.Digests,
		ReadBytes: r.Bytes, ElapsedSeconds: seconds(r.Elapsed), Problems: []problemJSON{},
	}
	for _, p := range r.Problems {
		out.Problems = append(out.Problems, problemJSON{
			Check: string(p.Check), Domain: p.Domain, Path: p.Path, FileID: p.FileID, File: p.File, Detail: p.Detail,
		})
	}
	return out
}

// differenceJSON is one entry of `diff --json`.
type differenceJSON struct {
	Kind      string   `json:"kind"`
	Domain    string   `json:"domain"`
	Path      string   `json:"path"`
	Type      string   `json:"type"`
	Fields    []string `json:"fields,omitempty"`
	Undecided bool     `json:"undecided,omitempty"`
}

// diffJSON is `diff --json`.
type diffJSON struct {
	Same            bool             `json:"same"`
	EntriesCompared int              `json:"entries_compared"`
	ContentCompared int              `json:"contents_compared"`
	Differences     []differenceJSON `json:"differences"`
}

func diffToJSON(r *backup.DiffResult) diffJSON {
	out := diffJSON{Same: r.Same(), EntriesCompared: r.Entries, ContentCompared: r.Compared, Differences: []differenceJSON{}}
	for _, d := range r.Differences {
		out.Differences = append(out.Differences, differenceJSON{
			Kind: string(d.Kind), Domain: d.Domain, Path: d.Path, Type: d.Type, Fields: d.Fields, Undecided: d.Undecided,
		})
	}
	return out
}

// diffStatJSON is `diff --stat --json`: counts per domain.
type diffStatJSON struct {
	Same    bool            `json:"same"`
	Domains []domainDiffRow `json:"domains"`
}

type domainDiffRow struct {
	Domain  string `json:"domain"`
	Added   int    `json:"added"`
	Removed int    `json:"removed"`
	Changed int    `json:"changed"`
	Attrs   int    `json:"attrs"`
}

func diffStatToJSON(r *backup.DiffResult) diffStatJSON {
	out := diffStatJSON{Same: r.Same(), Domains: []domainDiffRow{}}
	for _, s := range r.Stat() {
		out.Domains = append(out.Domains, domainDiffRow{s.Domain, s.Added, s.Removed, s.Changed, s.Attrs})
	}
	return out
}
