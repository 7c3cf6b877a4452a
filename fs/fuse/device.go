package fuse

import (
	"sort"
	"strings"

	"iosbackup/manifest"
)

// domainDevicePath returns the absolute device folder of a domain (manifest.DevicePath:
// container folders are named by bundle or group ID), or false for a domain of unknown
// placement or one whose folder could not be shown.
func domainDevicePath(domain string) (string, bool) {
	p, ok := manifest.DevicePath(domain)
	if !ok || !strings.HasPrefix(p, "/") {
		return "", false
	}
	for _, c := range strings.Split(p[1:], "/") {
		if !validName(c) {
			return "", false
		}
	}
	return p, true
}

// validName reports whether s can be shown as one directory entry.
func validName(s string) bool {
	return s != "" && s != "." && s != ".." && len(s) <= maxNameLen &&
		!strings.ContainsAny(s, "/\x00")
}

// maxNameLen is NAME_MAX: longer names cannot be looked up, so they are not listed.
const maxNameLen = 255

// mountNode is one folder of the device tree that is, or leads to, the folder of a
// domain. The device/ view walks it to find which domains contribute to a path.
type mountNode struct {
	name   string
	kids   []*mountNode // sorted by name
	mounts []int32      // domain roots placed exactly here, sorted by domain name
}

func (m *mountNode) child(name string) *mountNode {
	if m == nil {
		return nil
	}
	k := sort.Search(len(m.kids), func(i int) bool { return m.kids[i].name >= name })
	if k < len(m.kids) && m.kids[k].name == name {
		return m.kids[k]
	}
	return nil
}

// add places a domain root at an absolute device path. Domains arrive in name order, so
// mounts stay sorted by domain name.
func (m *mountNode) add(devPath string, root int32) {
	n := m
	for _, c := range strings.Split(strings.TrimPrefix(devPath, "/"), "/") {
		next := n.child(c)
		if next == nil {
			next = &mountNode{name: c}
			k := sort.Search(len(n.kids), func(i int) bool { return n.kids[i].name >= c })
			n.kids = append(n.kids, nil)
			copy(n.kids[k+1:], n.kids[k:])
			n.kids[k] = next
		}
		n = next
	}
	n.mounts = append(n.mounts, root)
}
