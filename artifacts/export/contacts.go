package export

import (
	"context"
	"fmt"
	"io"
	"strings"

	"iosbackup/artifacts/contacts"
	"iosbackup/backup"
)

// Contacts writes DEST/contacts/<Full Name>.vcf for each contact and all.vcf with
// them all (vCard 4.0).
func Contacts(ctx context.Context, b *backup.Backup, dir string, opt Options) (Stats, error) {
	var st Stats
	res, err := contacts.Read(ctx, b)
	if err != nil {
		return st, err
	}
	d, err := openDest(dir, &st)
	if err != nil {
		return st, err
	}
	defer d.Close()
	if err := d.mkdir("contacts"); err != nil {
		return st, err
	}
	used := map[string]bool{"all": true}
	total := int64(len(res.Contacts))
	for i := range res.Contacts {
		c := &res.Contacts[i]
		base := SafeName(c.FullName())
		name := base
		for n := 2; used[strings.ToLower(name)]; n++ {
			name = fmt.Sprintf("%s (%d)", base, n)
		}
		used[strings.ToLower(name)] = true
		if err := d.write("contacts/"+name+".vcf", func(w io.Writer) error {
			return contacts.WriteVCards(w, res.Contacts[i:i+1])
		}); err != nil {
			return st, err
		}
		st.Items++
		opt.progress(int64(i+1), total)
	}
	if err := d.write("contacts/all.vcf", func(w io.Writer) error { return contacts.WriteVCards(w, res.Contacts) }); err != nil {
		return st, err
	}
	st.Records = st.Items
	st.Skipped = int64(res.Skipped)
	return st, nil
}
