package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"iosbackup/fs/dav"
	"iosbackup/fs/view"
)

// servePasswordEnv holds the password of --user when no --user-password-file is given.
const servePasswordEnv = "IOSBACKUP_SERVE_PASSWORD"

type serveFlags struct {
	addr         string
	user         string
	userPassFile string
	tlsCert      string
	tlsKey       string
	selfSigned   bool
}

func newServeCmd() *cobra.Command {
	var (
		u unlockFlags
		s serveFlags
	)
	cmd := &cobra.Command{
		Use:   "serve [BACKUP|ROOT]",
		Short: "Serve a backup (or every backup in a folder) read-only over WebDAV, for desktops without FUSE",
		Long: `Serve the tree 'iosbackup mount' shows (domains/, device/, apps/, photos/) over
WebDAV, read-only, decrypting on the fly: Finder, Windows Explorer, Nautilus, davfs2,
rclone or any WebDAV client browse it without a kernel extension. Nothing is written
to disk. Symlinks are left out (WebDAV has none).

It listens on 127.0.0.1:8080 unless --addr says otherwise. Any address that is not
loopback needs --user (its password from --user-password-file or ` + servePasswordEnv + `)
and TLS (--tls-cert and --tls-key, or --tls-self-signed, whose SHA-256 fingerprint is
printed for clients to compare): without both it refuses to start.

Connecting:
  macOS Finder      Go > Connect to Server (Cmd-K), the printed URL
  Windows Explorer  This PC > Map network drive, the printed URL as the folder.
                    Explorer sends passwords only over https, and refuses files over
                    50,000,000 bytes unless FileSizeLimitInBytes is raised under
                    HKLM\SYSTEM\CurrentControlSet\Services\WebClient\Parameters
  Linux             Files/Nautilus: Other Locations, dav://HOST:PORT/ (davs:// with TLS);
                    davfs2: mount -t davfs URL /mnt/phone (use_locks 0 in davfs2.conf);
                    rclone: rclone lsf --webdav-url URL :webdav:

Runs until Ctrl-C or SIGTERM.`,
		Example: `  iosbackup serve ~/backups/00008030-001A
  iosbackup serve --addr 127.0.0.1:9000 ~/backups
  IOSBACKUP_SERVE_PASSWORD=... iosbackup serve --addr 0.0.0.0:8443 --user me --tls-self-signed 00008030`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src := ""
			if len(args) == 1 {
				src = args[0]
			}
			return runServe(src, &u, &s)
		},
	}
	f := cmd.Flags()
	f.StringVar(&s.addr, "addr", "127.0.0.1:8080", "listen on `HOST:PORT` (port 0 picks a free one)")
	f.StringVar(&s.user, "user", "", "require this user `NAME` (HTTP Basic); its password from --user-password-file or "+servePasswordEnv)
	f.StringVar(&s.userPassFile, "user-password-file", "", "read the password of --user from `FILE` (first line)")
	f.StringVar(&s.tlsCert, "tls-cert", "", "serve https with this certificate `FILE` (PEM; with --tls-key)")
	f.StringVar(&s.tlsKey, "tls-key", "", "the private key `FILE` of --tls-cert (PEM)")
	f.BoolVar(&s.selfSigned, "tls-self-signed", false, "serve https with a certificate made now, kept in memory; its fingerprint is printed")
	u.register(cmd)
	return cmd
}

// serveTLS is the TLS configuration the flags ask for, nil for plain http.
func (s *serveFlags) serveTLS(host string) (*tls.Config, string, error) {
	switch {
	case s.tlsCert != "" || s.tlsKey != "":
		if s.tlsCert == "" || s.tlsKey == "" {
			return nil, "", usageError{errors.New("--tls-cert and --tls-key go together")}
		}
		if s.selfSigned {
			return nil, "", usageError{errors.New("--tls-self-signed or --tls-cert: choose one")}
		}
		cert, err := tls.LoadX509KeyPair(s.tlsCert, s.tlsKey)
		if err != nil {
			return nil, "", fmt.Errorf("--tls-cert %s, --tls-key %s: %w", s.tlsCert, s.tlsKey, err)
		}
		return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, dav.Fingerprint(cert.Certificate[0]), nil
	case s.selfSigned:
		hosts := []string{"localhost", "127.0.0.1", "::1"}
		if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
			hosts = append(hosts, host) // the name or address clients are given
		}
		cert, fp, err := dav.SelfSigned(hosts)
		if err != nil {
			return nil, "", err
		}
		return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, fp, nil
	}
	return nil, "", nil
}

// userPassword reads the password of --user: never from argv.
func (s *serveFlags) userPassword() (string, error) {
	if s.userPassFile != "" {
		data, err := os.ReadFile(s.userPassFile)
		if err != nil {
			return "", fmt.Errorf("--user-password-file: %w", err)
		}
		return string(firstLine(data)), nil
	}
	if pw, ok := os.LookupEnv(servePasswordEnv); ok {
		return pw, nil
	}
	return "", nil
}

func runServe(src string, u *unlockFlags, s *serveFlags) error {
	loopback, err := dav.IsLoopback(s.addr)
	if err != nil {
		return usageError{err}
	}
	host, _, _ := net.SplitHostPort(s.addr)
	password, err := s.userPassword()
	if err != nil {
		return err
	}
	if s.user == "" && s.userPassFile != "" {
		return usageError{errors.New("--user-password-file needs --user")}
	}
	if s.user != "" && password == "" {
		return usageError{fmt.Errorf("--user %s needs a password: --user-password-file FILE or %s", s.user, servePasswordEnv)}
	}
	tlsConf, fingerprint, err := s.serveTLS(host)
	if err != nil {
		return err
	}
	if !loopback && (s.user == "" || tlsConf == nil) {
		return usageError{fmt.Errorf("refusing to serve on %s: it is not a loopback address, so anyone who can reach it could read the backup; "+
			"give --user (password from --user-password-file or %s) and TLS (--tls-cert/--tls-key, or --tls-self-signed), "+
			"or serve on 127.0.0.1 and reach it through ssh -L", s.addr, servePasswordEnv)}
	}

	backups, notes, err := openForMount(src, u)
	if err != nil {
		return err
	}
	root := view.New(view.Options{}, backups...)
	defer root.Stop()

	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	scheme := "http"
	if tlsConf != nil {
		ln = tls.NewListener(ln, tlsConf)
		scheme = "https"
	}
	srv := &http.Server{
		Handler:           dav.Handler(root, dav.Options{User: s.user, Password: password}),
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          log.New(os.Stderr, "iosbackup serve: ", 0),
	}
	printServing(os.Stdout, backups, urlOf(scheme, ln.Addr()), fingerprint, s.user)
	warnAll(notes)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// Let requests under way finish for a moment, then cut the rest (a client in the
	// middle of copying a large file would otherwise hold Ctrl-C up).
	shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		srv.Close()
	}
	fmt.Fprintln(os.Stderr, "stopped serving")
	return nil
}

// urlOf is the URL a client opens: the loopback name when listening everywhere.
func urlOf(scheme string, a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return scheme + "://" + a.String() + "/"
	}
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return fmt.Sprintf("%s://%s/", scheme, net.JoinHostPort(host, fmt.Sprint(tcp.Port)))
}

func printServing(w *os.File, backups []view.Backup, url, fingerprint, user string) {
	var names []string
	for _, b := range backups {
		if b.Source != nil {
			names = append(names, b.Source.Name())
		} else {
			names = append(names, b.Name+" (locked)")
		}
	}
	fmt.Fprintf(w, "Serving %s read-only at %s\n", strings.Join(names, ", "), url)
	if fingerprint != "" {
		fmt.Fprintf(w, "TLS certificate SHA-256 fingerprint: %s\n", fingerprint)
	}
	if user != "" {
		fmt.Fprintf(w, "User: %s (HTTP Basic)\n", user)
	}
	dav := "dav" + strings.TrimPrefix(url, "http") // dav://, or davs:// for https
	fmt.Fprintf(w, `Connect with:
  macOS Finder      Go > Connect to Server (Cmd-K): %[1]s
  Windows Explorer  Map network drive, folder: %[1]s
  Linux             Nautilus: %[2]s   davfs2: mount -t davfs %[1]s /mnt/phone
                    rclone: rclone lsf --webdav-url %[1]s :webdav:
Ctrl-C stops.
`, url, dav)
}
