package backup

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"iosbackup/manifest"
)

// Select sets what Extract copies from a path argument ("" for all) and the domain
// glob already in opt, as the command line gives them. arg is a place (DOMAIN,
// DOMAIN/PATH or a device path: see manifest.Place), DOMAIN/GLOB, or else a glob over
// the paths inside the selected domains. A selection that matches nothing is an error
// naming it, with the closest name when there is one; a bad glob wraps
// path.ErrBadPattern.
func (opt *ExtractOptions) Select(ix *manifest.Index, arg string) error {
	whole := arg
	domains := ix.Domains()
	if opt.DomainGlob != "" && !anyMatch(opt.DomainGlob, domains) {
		closest := manifest.Closest(opt.DomainGlob, domains)
		if closest == "" {
			return fmt.Errorf("--domain %s: matches no domain of the backup ('iosbackup ls BACKUP' lists them)", opt.DomainGlob)
		}
		return noMatch("--domain "+opt.DomainGlob, "no domain of the backup", closest)
	}
	if arg == "" {
		return nil
	}
	place, err := ix.Resolve(arg)
	if err == nil {
		opt.Roots = place.Roots(ix)
		if opt.DomainGlob != "" && !anyRootMatches(ix, opt.Roots, opt.DomainGlob) {
			return noMatch(arg, "nothing in the domains --domain "+opt.DomainGlob+" selects", "")
		}
		return nil
	}
	var nf *manifest.NotFoundError
	if !errors.As(err, &nf) {
		return err
	}
	// DOMAIN/GLOB: a glob below one domain.
	if first, rest, ok := strings.Cut(strings.TrimPrefix(arg, "/"), "/"); ok && nf.Domain == "" && hasMeta(rest) {
		if _, isDomain := ix.DomainRoot(first); isDomain {
			if opt.DomainGlob != "" {
				if ok, _ := path.Match(opt.DomainGlob, first); !ok {
					return noMatch(arg, "outside the domains --domain "+opt.DomainGlob+" selects", "")
				}
			}
			opt.DomainGlob, arg = first, rest
		}
	}
	// Not a place of the backup: a glob over the paths inside the selected domains.
	if nf.Domain == "" && !hasMeta(arg) {
		return err // a path in a known domain, or a device path, that is not there
	}
	if _, perr := path.Match(arg, ""); perr != nil {
		return fmt.Errorf("PATH %q: %w", arg, perr)
	}
	opt.PathGlob = arg
	if !globMatches(ix, opt.DomainGlob, arg) {
		sug := nf.Suggestion
		if hasMeta(arg) {
			sug = ""
		}
		where := "no path in the backup"
		if opt.DomainGlob != "" {
			where = "no path in the domains --domain " + opt.DomainGlob + " selects"
		}
		return noMatch(whole, where, sug)
	}
	return nil
}

func noMatch(what, where, suggestion string) error {
	msg := fmt.Sprintf("%s: matches %s", what, where)
	if suggestion != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", suggestion)
	}
	return errors.New(msg)
}

func hasMeta(s string) bool { return strings.ContainsAny(s, `*?[\`) }

func anyMatch(glob string, names []string) bool {
	for _, n := range names {
		if ok, _ := path.Match(glob, n); ok {
			return true
		}
	}
	return false
}

func anyRootMatches(ix *manifest.Index, roots []int32, domainGlob string) bool {
	for _, r := range roots {
		if ok, _ := path.Match(domainGlob, ix.Entry(r).Domain); ok {
			return true
		}
	}
	return false
}

// globMatches reports whether any entry path of the selected domains matches glob.
func globMatches(ix *manifest.Index, domainGlob, glob string) bool {
	for _, d := range ix.Domains() {
		if domainGlob != "" {
			if ok, _ := path.Match(domainGlob, d); !ok {
				continue
			}
		}
		r, _ := ix.DomainRoot(d)
		if subtreeMatches(ix, r, glob) {
			return true
		}
	}
	return false
}

func subtreeMatches(ix *manifest.Index, i int32, glob string) bool {
	for _, c := range ix.Children(i) {
		if ok, _ := path.Match(glob, ix.Entry(c).Path); ok {
			return true
		}
		if ix.Entry(c).Kind == manifest.KindDir && subtreeMatches(ix, c, glob) {
			return true
		}
	}
	return false
}
