package contacts

import (
	"encoding/base64"
	"io"
	"strings"

	"github.com/emersion/go-vcard"
)

// phoneTypes maps the address book's labels to vCard TYPE values (RFC 6350 6.4.1).
var phoneTypes = map[string][]string{
	"mobile": {"cell"}, "iphone": {"cell"}, "home": {"home", "voice"}, "work": {"work", "voice"},
	"main": {"voice"}, "homefax": {"home", "fax"}, "workfax": {"work", "fax"}, "pager": {"pager"},
}

// otherTypes are the labels of emails, URLs and addresses that map to TYPE.
var otherTypes = map[string][]string{"home": {"home"}, "work": {"work"}}

// Card returns the contact as a vCard 4.0.
func (c *Contact) Card() vcard.Card {
	card := vcard.Card{}
	card.SetValue(vcard.FieldVersion, "4.0")
	card.SetValue(vcard.FieldFormattedName, c.FullName())
	if c.First != "" || c.Last != "" || c.Middle != "" || c.Prefix != "" || c.Suffix != "" {
		card.SetName(&vcard.Name{FamilyName: c.Last, GivenName: c.First, AdditionalName: c.Middle,
			HonorificPrefix: c.Prefix, HonorificSuffix: c.Suffix})
	} else if c.Organization != "" {
		card.SetKind(vcard.KindOrganization)
	}
	if c.Nickname != "" {
		card.SetValue(vcard.FieldNickname, c.Nickname)
	}
	if c.Organization != "" {
		org := c.Organization
		if c.Department != "" {
			org += ";" + c.Department
		}
		card.Add(vcard.FieldOrganization, &vcard.Field{Value: org})
	}
	if c.JobTitle != "" {
		card.SetValue(vcard.FieldTitle, c.JobTitle)
	}
	for _, p := range c.Phones {
		card.Add(vcard.FieldTelephone, typed(p.Value, p.Label, phoneTypes))
	}
	for _, e := range c.Emails {
		card.Add(vcard.FieldEmail, typed(e.Value, e.Label, otherTypes))
	}
	for _, u := range c.URLs {
		card.Add(vcard.FieldURL, typed(u.Value, u.Label, otherTypes))
	}
	for _, a := range c.Addresses {
		f := typed("", a.Label, otherTypes)
		card.AddAddress(&vcard.Address{Field: f, StreetAddress: a.Street, Locality: a.City, Region: a.State,
			PostalCode: a.ZIP, Country: a.Country})
	}
	if !c.Birthday.IsZero() {
		card.SetValue(vcard.FieldBirthday, c.Birthday.Format("20060102"))
	}
	if c.Note != "" {
		card.SetValue(vcard.FieldNote, c.Note)
	}
	if t := imageType(c.Photo); t != "" {
		card.Add(vcard.FieldPhoto, &vcard.Field{Value: "data:" + t + ";base64," + base64.StdEncoding.EncodeToString(c.Photo)})
	}
	if !c.Modified.IsZero() {
		card.SetValue(vcard.FieldRevision, c.Modified.UTC().Format("20060102T150405Z"))
	}
	return card
}

// typed makes a field with the TYPE the label maps to; other labels go in the
// X-ABLabel parameter Apple's own vCards use.
func typed(value, label string, types map[string][]string) *vcard.Field {
	f := &vcard.Field{Value: value, Params: vcard.Params{}}
	if t, ok := types[strings.ToLower(label)]; ok {
		f.Params[vcard.ParamType] = t
	} else if label != "" && !strings.EqualFold(label, "other") {
		f.Params["X-ABLABEL"] = []string{label}
	}
	if len(f.Params) == 0 {
		f.Params = nil
	}
	return f
}

// WriteVCards writes the contacts as one vCard 4.0 stream.
func WriteVCards(w io.Writer, cs []Contact) error {
	enc := vcard.NewEncoder(w)
	for i := range cs {
		if err := enc.Encode(cs[i].Card()); err != nil {
			return err
		}
	}
	return nil
}
