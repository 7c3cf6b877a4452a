package manifest

import (
	"fmt"
	"sort"
	"strings"
)

// A Place is what a path argument of the command line (ls, cat, extract) names in a
// backup. The argument takes the forms the mount shows:
//
//	HomeDomain                       a domain (its root folder), as under domains/
//	HomeDomain/Library/SMS/sms.db    a path in a domain
//	/var/mobile/Library/SMS/sms.db   a device path, as under device/ (/private/var too)
//
// A device path may be where several domains meet (/var/mobile holds HomeDomain,
// MediaDomain, CameraRollDomain...), or a folder that only leads to domains placed
// deeper (/var/mobile/Containers). The domains' places come from DevicePath, as the
// device/ view's do, and the same entry wins a name: a directory over a file, then the
// domain placed deepest, then the domain whose name sorts first.
type Place struct {
	// Arg is the argument, cleaned of doubled and trailing slashes.
	Arg string
	// Device is the device path when the argument was one ("" for DOMAIN[/PATH]).
	Device string
	// Entries are the entries at this path, the winner first. Only directories when
	// the winner is one (they are merged); one for a DOMAIN[/PATH]. Empty for a device
	// folder that only leads to domains placed below it.
	Entries []int32
	// Below are the domains placed strictly below Device: the folder holds them whole.
	Below []string
}

// IsDir reports whether the place is a folder: a directory entry, or a device folder
// leading to domains.
func (p *Place) IsDir(ix *Index) bool {
	return len(p.Entries) == 0 || ix.Entry(p.Entries[0]).Kind == KindDir || len(p.Below) > 0
}

// Roots are the entries whose subtrees make up the place: what extracting it copies.
// For a device folder that is every merged directory and the roots of the domains
// placed below it; otherwise the winning entry alone.
func (p *Place) Roots(ix *Index) []int32 {
	if !p.IsDir(ix) {
		return p.Entries[:1]
	}
	roots := append([]int32(nil), p.Entries...)
	for _, d := range p.Below {
		if r, ok := ix.DomainRoot(d); ok {
			roots = append(roots, r)
		}
	}
	return roots
}

// NotFoundError says that an argument names nothing in the backup, with the closest
// thing that exists when there is one.
type NotFoundError struct {
	Arg        string
	Domain     string // set when the domain itself is unknown
	Suggestion string // "" when nothing is close
}

func (e *NotFoundError) Error() string {
	var msg string
	if e.Domain != "" {
		msg = fmt.Sprintf("%s: no domain %q in the backup", e.Arg, e.Domain)
	} else {
		msg = fmt.Sprintf("%s: no such file or folder in the backup", e.Arg)
	}
	if e.Suggestion != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", e.Suggestion)
	} else if e.Domain != "" {
		msg += " ('iosbackup ls BACKUP' lists the domains)"
	}
	return msg
}

// Resolve finds what arg names (see Place). A name that is not there gives a
// *NotFoundError, suggesting the closest name at the level where the path went astray.
func (ix *Index) Resolve(arg string) (*Place, error) {
	comps := splitArg(arg)
	if len(comps) == 0 && strings.HasPrefix(arg, "/") {
		return ix.resolveDevice(arg, comps) // the device's /: where every domain is
	}
	if len(comps) == 0 {
		return nil, fmt.Errorf("%q: an empty path (give DOMAIN, DOMAIN/PATH or a device path)", arg)
	}
	if _, ok := ix.DomainRoot(comps[0]); ok {
		return ix.resolveInDomain(arg, comps)
	}
	if strings.HasPrefix(arg, "/") || comps[0] == "var" || comps[0] == "private" {
		return ix.resolveDevice(arg, comps)
	}
	return nil, &NotFoundError{Arg: arg, Domain: comps[0], Suggestion: ix.suggestDomainPath(comps)}
}

func splitArg(arg string) []string {
	var comps []string
	for _, c := range strings.Split(arg, "/") {
		if c != "" && c != "." {
			comps = append(comps, c)
		}
	}
	return comps
}

func (ix *Index) resolveInDomain(arg string, comps []string) (*Place, error) {
	clean := strings.Join(comps, "/")
	if i, ok := ix.Lookup(comps[0], strings.Join(comps[1:], "/")); ok {
		return &Place{Arg: clean, Entries: []int32{i}}, nil
	}
	root, _ := ix.DomainRoot(comps[0])
	return nil, &NotFoundError{Arg: arg, Suggestion: ix.suggestBelow(comps[0], root, comps[1:])}
}

// suggestDomainPath suggests for an argument whose first component is no domain: the
// closest domain, followed by as much of the rest as fits there.
func (ix *Index) suggestDomainPath(comps []string) string {
	d := Closest(comps[0], ix.Domains())
	if d == "" {
		return ""
	}
	root, _ := ix.DomainRoot(d)
	if len(comps) == 1 {
		return d
	}
	if _, ok := ix.Lookup(d, strings.Join(comps[1:], "/")); ok {
		return strings.Join(append([]string{d}, comps[1:]...), "/")
	}
	if s := ix.suggestBelow(d, root, comps[1:]); s != "" {
		return s
	}
	return d
}

// suggestBelow walks comps down from directory dir (shown as prefix) and, at the first
// component that is not there, swaps in the closest name of that folder; the rest is
// kept when it then exists.
func (ix *Index) suggestBelow(prefix string, dir int32, comps []string) string {
	for k, c := range comps {
		if i, ok := ix.LookupChild(dir, c); ok {
			prefix += "/" + c
			dir = i
			continue
		}
		var names []string
		for _, kid := range ix.Children(dir) {
			names = append(names, ix.Name(kid))
		}
		best := Closest(c, names)
		if best == "" {
			return ""
		}
		fixed, _ := ix.LookupChild(dir, best)
		if rest := comps[k+1:]; len(rest) > 0 {
			e := ix.Entry(fixed)
			if _, ok := ix.Lookup(e.Domain, e.Path+"/"+strings.Join(rest, "/")); ok {
				return prefix + "/" + best + "/" + strings.Join(rest, "/")
			}
		}
		return prefix + "/" + best
	}
	return ""
}

// devicePlacement is a domain placed at or above a device path.
type devicePlacement struct {
	at     string // the domain's device folder
	domain string
}

// resolveDevice finds a device path: /private/var is /var, as on the device.
func (ix *Index) resolveDevice(arg string, comps []string) (*Place, error) {
	if len(comps) > 0 && comps[0] == "private" {
		comps = comps[1:]
	}
	dev := "/" + strings.Join(comps, "/")
	p := ix.deviceAt(dev, ix.Domains())
	if len(p.Entries) > 0 || len(p.Below) > 0 {
		p.Arg = strings.Join(splitArg(arg), "/")
		if strings.HasPrefix(arg, "/") {
			p.Arg = "/" + p.Arg
		}
		return p, nil
	}
	// Walk down from / to the first component that is not there.
	parent := ix.deviceAt("/", ix.Domains())
	for k, c := range comps {
		kids := ix.deviceChildren(parent)
		if child, ok := kids[c]; ok {
			parent = child
			continue
		}
		names := make([]string, 0, len(kids))
		for n := range kids {
			names = append(names, n)
		}
		sort.Strings(names) // Closest takes the first of equals: the same one every time
		sug := ""
		if best := Closest(c, names); best != "" {
			sug = "/" + strings.Join(append(append([]string{}, comps[:k]...), best), "/")
			if rest := comps[k+1:]; len(rest) > 0 {
				whole := sug + "/" + strings.Join(rest, "/")
				if q := ix.deviceAt(whole, ix.Domains()); len(q.Entries) > 0 || len(q.Below) > 0 {
					sug = whole
				}
			}
		}
		return nil, &NotFoundError{Arg: arg, Suggestion: sug}
	}
	return nil, &NotFoundError{Arg: arg}
}

// deviceAt is the place at device path dev, looking only at the given domains (the
// ones that can reach it).
func (ix *Index) deviceAt(dev string, domains []string) *Place {
	var above []devicePlacement
	p := &Place{Device: dev}
	for _, d := range domains {
		at, ok := DevicePath(d)
		if !ok {
			continue
		}
		switch {
		case at == dev || isBelow(dev, at):
			above = append(above, devicePlacement{at, d})
		case dev == "/" || isBelow(at, dev):
			p.Below = append(p.Below, d)
		}
	}
	// The deepest placement first, then by domain name: the device/ view's order.
	sort.SliceStable(above, func(a, b int) bool {
		if len(above[a].at) != len(above[b].at) {
			return len(above[a].at) > len(above[b].at)
		}
		return above[a].domain < above[b].domain
	})
	var dirs, others []int32
	for _, pl := range above {
		rel := strings.TrimPrefix(strings.TrimPrefix(dev, pl.at), "/")
		i, ok := ix.Lookup(pl.domain, rel)
		if !ok {
			continue
		}
		if ix.Entry(i).Kind == KindDir {
			dirs = append(dirs, i)
		} else {
			others = append(others, i)
		}
	}
	if len(dirs) > 0 || len(p.Below) > 0 {
		// A folder: a file of the same name in another domain stays hidden, as in device/.
		p.Entries = dirs
	} else {
		p.Entries = others
	}
	return p
}

// deviceChildren are the places inside device folder p, by name.
func (ix *Index) deviceChildren(p *Place) map[string]*Place {
	// Only the domains that make up p can reach below it.
	seen := map[string]bool{}
	var domains []string
	add := func(d string) {
		if !seen[d] {
			seen[d] = true
			domains = append(domains, d)
		}
	}
	names := map[string]bool{}
	for _, i := range p.Entries {
		e := ix.Entry(i)
		if e.Kind != KindDir {
			continue
		}
		add(e.Domain)
		for _, c := range ix.Children(i) {
			names[ix.Name(c)] = true
		}
	}
	base := strings.TrimSuffix(p.Device, "/")
	for _, d := range p.Below {
		add(d)
		at, _ := DevicePath(d)
		names[firstComponent(strings.TrimPrefix(at, base+"/"))] = true
	}
	sort.Strings(domains)
	out := make(map[string]*Place, len(names))
	for n := range names {
		c := ix.deviceAt(base+"/"+n, domains)
		if len(c.Entries) > 0 || len(c.Below) > 0 {
			out[n] = c
		}
	}
	return out
}

// List returns the places inside folder p, in name order, each named by its path
// below p's argument.
func (ix *Index) List(p *Place) []*Place {
	if p.Device == "" {
		if len(p.Entries) == 0 {
			return nil
		}
		kids := ix.Children(p.Entries[0])
		out := make([]*Place, 0, len(kids))
		for _, c := range kids {
			out = append(out, &Place{Arg: p.Arg + "/" + ix.Name(c), Entries: []int32{c}})
		}
		return out
	}
	kids := ix.deviceChildren(p)
	names := make([]string, 0, len(kids))
	for n := range kids {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]*Place, 0, len(names))
	for _, n := range names {
		c := kids[n]
		c.Arg = strings.TrimSuffix(p.Arg, "/") + "/" + n
		out = append(out, c)
	}
	return out
}
