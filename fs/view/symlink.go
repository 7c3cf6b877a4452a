package view

import (
	"path"
	"strings"

	"iosbackup/manifest"
)

// linkTarget is what readlink returns for a symlink entry shown at viewPath: by default
// a relative path to the target inside this backup's device/ view, whatever view the
// link is in, so following it never leaves the mount.
func (t *tree) linkTarget(e *manifest.Entry, viewPath string) string {
	if t.c.opt.RawSymlinks {
		return e.Target()
	}
	return relativePath(path.Dir(viewPath), "device"+strings.TrimSuffix(t.deviceTarget(e), "/"))
}

// deviceTarget is the absolute device path a symlink points at. A relative target is
// resolved from the link's own device folder; ".." never climbs above the device root.
func (t *tree) deviceTarget(e *manifest.Entry) string {
	target := e.Target()
	if i := strings.IndexByte(target, 0); i >= 0 {
		target = target[:i]
	}
	if !strings.HasPrefix(target, "/") {
		base, ok := t.mountPath[e.Domain]
		if !ok {
			base = "" // unplaced domain: resolve as if it sat at the device root
		}
		target = path.Dir(base+"/"+e.Path) + "/" + target
	}
	return path.Clean(target)
}

// relativePath returns the path from folder from to to, both relative to the same root.
func relativePath(from, to string) string {
	f := splitPath(from)
	g := splitPath(to)
	i := 0
	for i < len(f) && i < len(g) && f[i] == g[i] {
		i++
	}
	var b strings.Builder
	for range f[i:] {
		b.WriteString("../")
	}
	b.WriteString(strings.Join(g[i:], "/"))
	s := strings.TrimSuffix(b.String(), "/")
	if s == "" {
		return "."
	}
	return s
}

func splitPath(p string) []string {
	if p == "" || p == "." {
		return nil
	}
	return strings.Split(p, "/")
}
