package view

// domains/<Domain>/<relativePath>: every domain, exactly as in the manifest.
func (t *tree) domainsDir() Node {
	return &virtualDir{
		c:     t.c,
		ino:   t.dirIno("domains"),
		names: t.domains,
		make: func(i int) Node {
			d := t.domains[i]
			root, _ := t.ix.DomainRoot(d)
			return &entryDir{v: newSubtree(t, "domains/"+d, root), idx: root}
		},
		when: t.when,
	}
}
