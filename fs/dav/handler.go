package dav

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"log"
	"net/http"
	"os"
	"strings"

	"golang.org/x/net/webdav"

	"iosbackup/fs/view"
)

// Options shape the handler.
type Options struct {
	// User and Password, when User is set, are required of every request (HTTP Basic
	// authentication; serve it over TLS).
	User, Password string
	// Logger receives one line per request that failed for a reason other than a
	// missing name or a refused write. Nil means log.Default().
	Logger *log.Logger
}

// Handler serves the tree read-only over WebDAV (class 1: no locks). It answers
// OPTIONS, GET and HEAD (with Range, If-Modified-Since and ETags, through
// http.ServeContent) and PROPFIND of depth 0 and 1 itself or through x/net/webdav;
// every write method is refused with 403 before it reaches the file system, and
// anything else with 405.
func Handler(root *view.Root, opt Options) http.Handler {
	logger := opt.Logger
	if logger == nil {
		logger = log.Default()
	}
	h := &handler{
		opt: opt,
		fs:  NewFileSystem(root),
	}
	if opt.User != "" {
		h.userSum = sha256.Sum256([]byte(opt.User))
		h.passSum = sha256.Sum256([]byte(opt.Password))
	}
	h.dav = &webdav.Handler{
		FileSystem: h.fs,
		// Never used (LOCK is refused), but x/net/webdav wants one.
		LockSystem: webdav.NewMemLS(),
		Logger: func(r *http.Request, err error) {
			if err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, os.ErrPermission) {
				logger.Printf("iosbackup serve: %s %s: %v", r.Method, r.URL.Path, err)
			}
		},
	}
	return h
}

type handler struct {
	opt              Options
	fs               *FileSystem
	dav              *webdav.Handler
	userSum, passSum [sha256.Size]byte
}

// allowed are the methods a read-only WebDAV server answers.
const allowed = "OPTIONS, GET, HEAD, PROPFIND"

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.opt.User != "" && !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="iosbackup", charset="UTF-8"`)
		http.Error(w, "401 wrong or missing user name or password", http.StatusUnauthorized)
		return
	}
	switch r.Method {
	case http.MethodOptions:
		// Class 1 only: clients that find no locking (Finder, Explorer) mount the
		// share read-only instead of trying to write and failing.
		w.Header().Set("DAV", "1")
		w.Header().Set("MS-Author-Via", "DAV")
		w.Header().Set("Allow", allowed)
		w.WriteHeader(http.StatusOK)
	case http.MethodGet, http.MethodHead:
		// The type from the name: http.ServeContent would otherwise read (decrypt)
		// 512 bytes to sniff one, even for HEAD.
		if n, err := h.fs.resolve(r.URL.Path); err == nil && n.Kind() == view.KindFile {
			w.Header().Set("Content-Type", contentType(baseName(r.URL.Path)))
		}
		h.dav.ServeHTTP(w, r)
	case "PROPFIND":
		// Depth: infinity (the default) would walk a whole backup into one answer;
		// refused as RFC 4918 9.1 allows, with the precondition it names.
		if d := strings.TrimSpace(r.Header.Get("Depth")); d != "0" && d != "1" {
			w.Header().Set("Content-Type", "application/xml; charset=utf-8")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`<?xml version="1.0" encoding="utf-8"?>` + "\n" +
				`<D:error xmlns:D="DAV:"><D:propfind-finite-depth/></D:error>` + "\n"))
			return
		}
		h.dav.ServeHTTP(w, r)
	case http.MethodPut, http.MethodDelete, "MKCOL", "COPY", "MOVE", "PROPPATCH", "LOCK", "UNLOCK":
		http.Error(w, "403 this backup is served read-only", http.StatusForbidden)
	default:
		w.Header().Set("Allow", allowed)
		http.Error(w, "405 method not allowed on a read-only server", http.StatusMethodNotAllowed)
	}
}

// authorized compares in constant time (of hashes, so that lengths do not show).
func (h *handler) authorized(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	u := sha256.Sum256([]byte(user))
	p := sha256.Sum256([]byte(pass))
	return subtle.ConstantTimeCompare(u[:], h.userSum[:])&subtle.ConstantTimeCompare(p[:], h.passSum[:]) == 1
}
