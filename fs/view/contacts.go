package view

import (
	"fmt"
	"io"
	"strings"

	"iosbackup/artifacts/contacts"
	"iosbackup/artifacts/export"
)

// contacts/<Full Name>.vcf (vCard 4.0) for each person and contacts/all.vcf with
// them all, named as `iosbackup export contacts` names them; each built on first use.
func (t *tree) contactsDir(res *contacts.Result) Node {
	b := memBuilder{}
	used := map[string]bool{"all": true}
	for i := range res.Contacts {
		base := export.SafeName(res.Contacts[i].FullName())
		name := base
		for n := 2; used[strings.ToLower(name)]; n++ {
			name = fmt.Sprintf("%s (%d)", base, n)
		}
		used[strings.ToLower(name)] = true
		one := res.Contacts[i : i+1]
		when := t.when
		if m := one[0].Modified; !m.IsZero() {
			when = m.Unix()
		}
		b[name+".vcf"] = newGenFile(t, "contacts/"+name+".vcf", when, func(w io.Writer) error {
			return contacts.WriteVCards(w, one)
		})
	}
	b["all.vcf"] = newGenFile(t, "contacts/all.vcf", t.when, func(w io.Writer) error {
		return contacts.WriteVCards(w, res.Contacts)
	})
	return b.dir(t, "contacts", t.when)
}
