package view

import (
	"sort"
	"strings"
)

// apps/<App name>/data/, groups/<id>/, plugins/<id>/: each app's AppDomain-, and the
// AppDomainGroup- and AppDomainPlugin- domains it owns.

// appFolder is one folder of the apps/ view.
type appFolder struct {
	name    string // folder name, unique in apps/
	bundle  string
	data    int32 // root of AppDomain-<bundle>, -1 for a group/plugin without an app
	groups  []containerRef
	plugins []containerRef
}

type containerRef struct {
	id   string // group or plugin ID, the folder name
	root int32
}

// buildApps groups AppDomain-*, AppDomainGroup-* and AppDomainPlugin-* domains into one
// folder per app. A group or plugin belongs to the app whose bundle ID is the longest
// dot-separated prefix of its own ID ("group." stripped from group IDs); one that no app
// claims gets a folder of its own, named by its ID.
func (t *tree) buildApps(domains []string) {
	byBundle := map[string]*appFolder{}
	var bundles []string
	for _, d := range domains {
		if id, ok := strings.CutPrefix(d, "AppDomain-"); ok && validName(id) {
			root, _ := t.ix.DomainRoot(d)
			byBundle[id] = &appFolder{bundle: id, data: root}
			bundles = append(bundles, id)
			t.inApps[d] = true
		}
	}
	orphans := map[string]*appFolder{}
	for _, d := range domains {
		id, group := strings.CutPrefix(d, "AppDomainGroup-")
		if !group {
			var ok bool
			if id, ok = strings.CutPrefix(d, "AppDomainPlugin-"); !ok {
				continue
			}
		}
		if !validName(id) {
			continue
		}
		key := id
		if group {
			key = strings.TrimPrefix(id, "group.")
		}
		owner := ""
		for _, b := range bundles {
			if (key == b || strings.HasPrefix(key, b+".")) && len(b) > len(owner) {
				owner = b
			}
		}
		app := byBundle[owner]
		if owner == "" {
			if app = orphans[id]; app == nil {
				app = &appFolder{bundle: id, data: -1}
				orphans[id] = app
			}
		}
		root, _ := t.ix.DomainRoot(d)
		ref := containerRef{id: id, root: root}
		if group {
			app.groups = append(app.groups, ref)
		} else {
			app.plugins = append(app.plugins, ref)
		}
		t.inApps[d] = true
	}

	var apps []*appFolder
	for _, b := range bundles {
		a := byBundle[b]
		a.name = sanitizeName(t.src.AppName(b), b)
		apps = append(apps, a)
	}
	for _, a := range orphans {
		a.name = a.bundle
		apps = append(apps, a)
	}
	names := make([]string, len(apps))
	alts := make([]string, len(apps))
	for i, a := range apps {
		names[i] = a.name
		alts[i] = a.name + " (" + a.bundle + ")"
	}
	names = uniqueNames(names, alts)
	for i, a := range apps {
		a.name = names[i]
		// Domains were visited in name order, so groups and plugins are sorted by ID.
	}
	sort.Slice(apps, func(i, j int) bool { return apps[i].name < apps[j].name })
	t.apps = apps
}

func (t *tree) appsDir() Node {
	names := make([]string, len(t.apps))
	for i, a := range t.apps {
		names[i] = a.name
	}
	return &virtualDir{
		c:     t.c,
		ino:   t.dirIno("apps"),
		names: names,
		make:  func(i int) Node { return t.appDir(t.apps[i]) },
		when:  t.when,
	}
}

func (t *tree) appDir(a *appFolder) Node {
	base := "apps/" + a.name
	var names []string
	var makers []func() Node
	if a.data >= 0 {
		names = append(names, "data")
		makers = append(makers, func() Node { return &entryDir{v: newSubtree(t, base+"/data", a.data), idx: a.data} })
	}
	if len(a.groups) > 0 {
		names = append(names, "groups")
		makers = append(makers, func() Node { return t.containersDir(base+"/groups", a.groups) })
	}
	if len(a.plugins) > 0 {
		names = append(names, "plugins")
		makers = append(makers, func() Node { return t.containersDir(base+"/plugins", a.plugins) })
	}
	return &virtualDir{
		c:     t.c,
		ino:   t.dirIno(base),
		names: names,
		make:  func(i int) Node { return makers[i]() },
		when:  t.when,
	}
}

func (t *tree) containersDir(p string, refs []containerRef) Node {
	names := make([]string, len(refs))
	for i, r := range refs {
		names[i] = r.id
	}
	return &virtualDir{
		c:     t.c,
		ino:   t.dirIno(p),
		names: names,
		make: func(i int) Node {
			return &entryDir{v: newSubtree(t, p+"/"+refs[i].id, refs[i].root), idx: refs[i].root}
		},
		when: t.when,
	}
}
