package main

// SSH side: dialling with the real provider's retry schedule, running a command, SFTP copies.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/retry"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// conn is one `connection` (or its `proxy`), defaults already applied by Check.
type conn struct {
	host, user, password, privateKey, keyPassword, agentSocket, hostKey string
	hasPassword, hasKey, hasKeyPassword, hasAgentSocket, hasHostKey     bool
	port, dialErrorLimit, perDialTimeout                                int
	proxy                                                               *conn
}

func parseConn(m resource.PropertyMap) (*conn, error) {
	c := &conn{}
	var ok bool
	if c.host, ok = str(m, "host"); !ok {
		return nil, errors.New("connection.host is required")
	}
	c.user, ok = str(m, "user")
	if !ok {
		c.user = "root"
	}
	c.password, c.hasPassword = str(m, "password")
	c.privateKey, c.hasKey = str(m, "privateKey")
	c.keyPassword, c.hasKeyPassword = str(m, "privateKeyPassword")
	c.agentSocket, c.hasAgentSocket = str(m, "agentSocketPath")
	c.hostKey, c.hasHostKey = str(m, "hostKey")
	c.port = num(m, "port", 22)
	c.dialErrorLimit = num(m, "dialErrorLimit", 10)
	c.perDialTimeout = num(m, "perDialTimeout", 15)
	if p, ok := obj(m, "proxy"); ok {
		pc, err := parseConn(p)
		if err != nil {
			return nil, fmt.Errorf("proxy: %w", err)
		}
		c.proxy = pc
	}
	return c, nil
}

// clientConfig follows remote/connection.go SSHConfig: a pinned hostKey is the only accepted key
// and its type the only offered host key algorithm; no hostKey means no check at all; the key
// comes before the password (plus keyboard-interactive with the password), then the agent.
func (c *conn) clientConfig() (*ssh.ClientConfig, error) {
	cfg := &ssh.ClientConfig{
		User:            c.user,
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), //nolint:gosec // the real provider's behaviour without hostKey
		Timeout:         time.Duration(c.perDialTimeout) * time.Second,
	}
	if c.hasHostKey {
		pk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(c.hostKey))
		if err != nil {
			return nil, fmt.Errorf("failed to parse host key: %w", err)
		}
		cfg.HostKeyCallback = ssh.FixedHostKey(pk)
		cfg.HostKeyAlgorithms = []string{pk.Type()}
	}
	if c.hasKey {
		var signer ssh.Signer
		var err error
		if c.hasKeyPassword {
			signer, err = ssh.ParsePrivateKeyWithPassphrase([]byte(c.privateKey), []byte(c.keyPassword))
		} else {
			signer, err = ssh.ParsePrivateKey([]byte(c.privateKey))
		}
		if err != nil {
			return nil, err
		}
		cfg.Auth = append(cfg.Auth, ssh.PublicKeys(signer))
	}
	if c.hasPassword {
		pw := c.password
		cfg.Auth = append(cfg.Auth, ssh.Password(pw), ssh.KeyboardInteractive(
			func(_, _ string, qs []string, _ []bool) ([]string, error) {
				a := make([]string, len(qs))
				for i := range a {
					a[i] = pw
				}
				return a, nil
			}))
	}
	sock := c.agentSocket
	if !c.hasAgentSocket {
		sock = os.Getenv("SSH_AUTH_SOCK")
	}
	if sock != "" {
		ac, err := net.Dial("unix", sock)
		if err != nil {
			return nil, err
		}
		cfg.Auth = append(cfg.Auth, ssh.PublicKeysCallback(agent.NewClient(ac).Signers))
	}
	return cfg, nil
}

func (c *conn) endpoint() string { return net.JoinHostPort(c.host, strconv.Itoa(c.port)) }

// withRetry mirrors remote/connection.go dialWithRetry: sdk retry.Until with its defaults
// (100 ms, x1.5, at most 5 s between tries); after a failure, dials = try+1 and the loop stops
// once dials > limit (limit -1 = unlimited), so limit 10 means 11 dials and the error reads
// "after 10 failed attempts: <last error>".
func withRetry[T any](ctx context.Context, lg *resLog, what string, limit int, f func() (T, error)) (T, error) {
	var zero T
	ok, data, err := retry.Until(ctx, retry.Acceptor{
		Accept: func(try int, _ time.Duration) (bool, any, error) {
			res, ferr := f()
			if ferr == nil {
				return true, res, nil
			}
			dials := try + 1
			if limit > -1 && dials > limit {
				return true, nil, fmt.Errorf("after %d failed attempts: %w", try, ferr)
			}
			lim := "inf"
			if limit != -1 {
				lim = strconv.Itoa(limit)
			}
			lg.status(diag.Info, fmt.Sprintf("%s %d/%s failed: retrying", what, dials, lim))
			return false, nil, nil
		},
	})
	if ok && err == nil {
		return data.(T), nil
	}
	if err == nil {
		err = ctx.Err()
	}
	return zero, err
}

// dial connects, through `proxy` when set (remote/connection.go Dial).
func (c *conn) dial(ctx context.Context, lg *resLog) (*ssh.Client, error) {
	cfg, err := c.clientConfig()
	if err != nil {
		return nil, err
	}
	if c.proxy == nil {
		return withRetry(ctx, lg, "Dial", c.dialErrorLimit, func() (*ssh.Client, error) {
			return ssh.Dial("tcp", c.endpoint(), cfg)
		})
	}
	pcfg, err := c.proxy.clientConfig()
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	jump, err := withRetry(ctx, lg, "Dial proxy", c.proxy.dialErrorLimit, func() (*ssh.Client, error) {
		return ssh.Dial("tcp", c.proxy.endpoint(), pcfg)
	})
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	nc, err := withRetry(ctx, lg, "Dial from proxy", c.dialErrorLimit, func() (net.Conn, error) {
		return jump.Dial("tcp", c.endpoint())
	})
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	type hs struct {
		c   ssh.Conn
		chs <-chan ssh.NewChannel
		rqs <-chan *ssh.Request
	}
	h, err := withRetry(ctx, lg, "Dial", c.dialErrorLimit, func() (hs, error) {
		sc, chs, rqs, err := ssh.NewClientConn(nc, c.endpoint(), cfg)
		return hs{sc, chs, rqs}, err
	})
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	return ssh.NewClient(h.c, h.chs, h.rqs), nil
}

// runSpec is what one run of a command needs, remote or local.
type runSpec struct {
	cmd                    string
	stdin                  string
	env                    map[string]string
	logging                string
	prevStdout, prevStderr string // from the previous create/update, for addPreviousOutputInEnv
	addPrev                bool
}

func (r runSpec) logStdout() bool {
	return r.logging == "" || r.logging == "stdout" || r.logging == "stdoutAndStderr"
}

func (r runSpec) logStderr() bool {
	return r.logging == "" || r.logging == "stderr" || r.logging == "stdoutAndStderr"
}

func setenvWarning(key string) string {
	return fmt.Sprintf("Unable to set '%s'. This only works if your SSH server is configured to accept "+
		"these variables via AcceptEnv. Alternatively, if a Bash-like shell runs the command on the remote "+
		"host, you could prefix the command itself with the variables in the form 'VAR=value command'", key)
}

// runRemote follows remote/commandOutputs.go run: environment via Setenv (a refusal is an error),
// previous outputs via Setenv (a refusal is a warning), stdin only when non-empty, the session's
// shell without a pty, lines logged as they come, one trailing newline dropped.
func runRemote(ctx context.Context, lg *resLog, c *conn, r runSpec) (string, string, error) {
	client, err := c.dial(ctx, lg)
	if err != nil {
		return "", "", err
	}
	defer client.Close()
	session, err := client.NewSession()
	if err != nil {
		return "", "", err
	}
	defer session.Close()
	for k, v := range r.env {
		if err := session.Setenv(k, v); err != nil {
			lg.log(diag.Error, setenvWarning(k))
			return "", "", fmt.Errorf("could not set environment variable %q: %w", k, err)
		}
	}
	if r.addPrev {
		for _, kv := range [][2]string{{"PULUMI_COMMAND_STDOUT", r.prevStdout}, {"PULUMI_COMMAND_STDERR", r.prevStderr}} {
			if kv[1] != "" {
				if err := session.Setenv(kv[0], kv[1]); err != nil {
					lg.log(diag.Warning, setenvWarning(kv[0]))
				}
			}
		}
	}
	if len(r.stdin) > 0 {
		session.Stdin = strings.NewReader(r.stdin)
	}
	out := newCapture(lg, r)
	session.Stdout, session.Stderr = out.stdout(), out.stderr()
	err = session.Run(r.cmd)
	return out.finish(r.cmd, err)
}

// capture collects stdout, stderr and both interleaved, and logs lines per `logging`.
type capture struct {
	mu           sync.Mutex
	so, se, both bytes.Buffer
	pw           *io.PipeWriter
	done         chan struct{}
	r            runSpec
}

type captureWriter struct {
	c   *capture
	dst *bytes.Buffer
	log bool
}

func (w captureWriter) Write(p []byte) (int, error) {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	w.dst.Write(p)
	w.c.both.Write(p)
	if w.log {
		_, _ = w.c.pw.Write(p)
	}
	return len(p), nil
}

func newCapture(lg *resLog, r runSpec) *capture {
	pr, pw := io.Pipe()
	c := &capture{pw: pw, done: make(chan struct{}), r: r}
	go lg.lines(pr, c.done)
	return c
}

func (c *capture) stdout() io.Writer { return captureWriter{c, &c.so, c.r.logStdout()} }
func (c *capture) stderr() io.Writer { return captureWriter{c, &c.se, c.r.logStderr()} }

// finish closes the log stream and shapes the result: on failure
// `<err>: running "<cmd>":\n<stdout and stderr as they came>`, whatever `logging` says.
func (c *capture) finish(cmd string, err error) (string, string, error) {
	_ = c.pw.Close()
	<-c.done
	if err != nil {
		return "", "", fmt.Errorf("%w: running %q:\n%s", err, cmd, c.both.String())
	}
	return strings.TrimSuffix(c.so.String(), "\n"), strings.TrimSuffix(c.se.String(), "\n"), nil
}

// copyToRemote follows remote/copyController.go: SFTP as the login user; a text asset is written
// to remotePath; a file goes to remotePath (or into it when it is an existing directory), parents
// created; a directory is copied recursively (into remotePath/<base> unless the source ends in /).
func copyToRemote(ctx context.Context, lg *resLog, c *conn, srcPath, text string, isText bool, dest string) error {
	client, err := c.dial(ctx, lg)
	if err != nil {
		return err
	}
	defer client.Close()
	sc, err := sftp.NewClient(client)
	if err != nil {
		return err
	}
	defer sc.Close()
	st, err := remoteStat(sc, dest)
	if err != nil {
		return err
	}
	if isText {
		if st != nil && st.IsDir() {
			return fmt.Errorf("remote path %s is a directory; when using a text asset, remotePath must be a file path", dest)
		}
		if err := sc.MkdirAll(filepath.Dir(dest)); err != nil {
			return fmt.Errorf("failed to create parent directories for %s: %w", dest, err)
		}
		return writeRemote(sc, strings.NewReader(text), dest)
	}
	info, err := os.Stat(srcPath)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		if st != nil && st.IsDir() {
			dest = filepath.Join(dest, filepath.Base(srcPath))
		} else if st == nil {
			if err := sc.MkdirAll(filepath.Dir(dest)); err != nil {
				return fmt.Errorf("failed to create parent directories for %s: %w", dest, err)
			}
		}
		return copyFile(sc, srcPath, dest)
	}
	if st != nil && !st.IsDir() {
		return fmt.Errorf("remote path %s exists but is not a directory", dest)
	}
	if !strings.HasSuffix(srcPath, "/") {
		dest = filepath.Join(dest, filepath.Base(srcPath))
	}
	return filepath.WalkDir(srcPath, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(srcPath, p)
		to := filepath.Join(dest, rel)
		if d.IsDir() {
			return sc.MkdirAll(to)
		}
		return copyFile(sc, p, to)
	})
}

func remoteStat(sc *sftp.Client, p string) (fs.FileInfo, error) {
	info, err := sc.Stat(p)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("failed to stat remote path %s: %w", p, err)
	}
	return info, nil
}

func copyFile(sc *sftp.Client, src, dst string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := writeRemote(sc, f, dst); err != nil {
		return fmt.Errorf("failed to copy file %s to remote path %s: %w", src, dst, err)
	}
	return nil
}

func writeRemote(sc *sftp.Client, r io.Reader, dst string) error {
	w, err := sc.Create(dst)
	if err != nil {
		return fmt.Errorf("failed to create remote file %s: %w", dst, err)
	}
	if _, err := w.ReadFrom(r); err != nil {
		_ = w.Close()
		return err
	}
	return w.Close()
}
