package backup

import (
	"fmt"

	"iosbackup/manifest"
)

// The property lists of a backup folder, read through its confined opener (a symlinked
// or piped plist is refused, naming it) and parsed by package manifest. A missing file
// gives an error for which errors.Is(err, fs.ErrNotExist) holds.

func readInfo(f *folder) (*manifest.Info, error) {
	data, err := f.readBounded("Info.plist", manifest.MaxInfoPlistSize)
	if err != nil {
		return nil, err
	}
	info, err := manifest.ParseInfo(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.dir, err)
	}
	return info, nil
}

func readStatus(f *folder) (*manifest.Status, error) {
	data, err := f.readBounded("Status.plist", manifest.MaxStatusPlistSize)
	if err != nil {
		return nil, err
	}
	st, err := manifest.ParseStatus(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.dir, err)
	}
	return st, nil
}

func readManifestPlist(f *folder) (*manifest.ManifestPlist, error) {
	data, err := f.readBounded("Manifest.plist", manifest.MaxManifestPlistSize)
	if err != nil {
		return nil, err
	}
	m, err := manifest.ParseManifestPlist(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.dir, err)
	}
	return m, nil
}
