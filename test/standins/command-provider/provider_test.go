package main

// Tests of the stand-in against a private OpenSSH sshd on 127.0.0.1 (a free port, a config, host
// keys and authorized_keys of its own in a temp dir). They call the provider's gRPC methods
// directly with the SDK's marshalling, as the engine would. They need root (sshd runs as root and
// the tests log in as root) and /usr/sbin/sshd (Debian: openssh-server openssh-sftp-server).

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/propertyrpc"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"golang.org/x/crypto/ssh"
	"google.golang.org/protobuf/types/known/structpb"
)

// ---------------------------------------------------------------- a private sshd

type sshd struct {
	dir        string
	port       int // sshd's own port
	proxyPort  int // a counting TCP relay in front of it: what the provider dials
	dials      atomic.Int32
	hostKey    string // authorized_keys line of the ed25519 host key
	rsaHostKey string // authorized_keys line of the RSA host key
	clientKey  string // PEM of the client key root@ accepts
}

func writeKey(t *testing.T, path string, key any) ssh.PublicKey {
	t.Helper()
	blk, err := ssh.MarshalPrivateKey(key, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(blk), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return signer.PublicKey()
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startSSHD(t *testing.T, extraConfig ...string) *sshd {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("these tests start sshd and log in as root: run them as root")
	}
	if _, err := os.Stat("/usr/sbin/sshd"); err != nil {
		t.Fatal("no /usr/sbin/sshd: apt-get install openssh-server openssh-sftp-server")
	}
	s := &sshd{dir: t.TempDir(), port: freePort(t)}
	_, edHost, _ := ed25519.GenerateKey(rand.Reader)
	s.hostKey = string(ssh.MarshalAuthorizedKey(writeKey(t, filepath.Join(s.dir, "host_ed25519"), edHost)))
	rsaHost, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s.rsaHostKey = string(ssh.MarshalAuthorizedKey(writeKey(t, filepath.Join(s.dir, "host_rsa"), rsaHost)))
	_, client, _ := ed25519.GenerateKey(rand.Reader)
	pub := writeKey(t, filepath.Join(s.dir, "client"), client)
	pemBytes, _ := os.ReadFile(filepath.Join(s.dir, "client"))
	s.clientKey = string(pemBytes)
	if err := os.WriteFile(filepath.Join(s.dir, "authorized_keys"), ssh.MarshalAuthorizedKey(pub), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := strings.Join(append([]string{
		"ListenAddress 127.0.0.1",
		fmt.Sprintf("Port %d", s.port),
		"HostKey " + filepath.Join(s.dir, "host_ed25519"),
		"HostKey " + filepath.Join(s.dir, "host_rsa"),
		"PidFile " + filepath.Join(s.dir, "sshd.pid"),
		"AuthorizedKeysFile " + filepath.Join(s.dir, "authorized_keys"),
		"PermitRootLogin prohibit-password",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"UsePAM no",
		"StrictModes no",
		"Subsystem sftp internal-sftp",
		"LogLevel VERBOSE",
	}, extraConfig...), "\n") + "\n"
	cfgPath := filepath.Join(s.dir, "sshd_config")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil { // sshd's privilege-separation dir
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(s.dir, "sshd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/sbin/sshd", "-D", "-e", "-f", cfgPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
		_ = logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("sshd log:\n%s", b)
		}
	})
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.port), time.Second)
		if err == nil {
			_ = c.Close()
			break
		}
		if i > 100 {
			t.Fatalf("sshd did not listen on 127.0.0.1:%d: %v", s.port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.relay(t)
	return s
}

// relay counts TCP connections on the way to sshd: the dial count a test can assert.
func (s *sshd) relay(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	s.proxyPort = l.Addr().(*net.TCPAddr).Port
	go func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			s.dials.Add(1)
			out, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", s.port))
			if err != nil {
				_ = in.Close()
				continue
			}
			go func() { _, _ = io.Copy(out, in); _ = out.Close() }()
			go func() { _, _ = io.Copy(in, out); _ = in.Close() }()
		}
	}()
}

// ---------------------------------------------------------------- engine side

type fakeHost struct {
	mu   sync.Mutex
	logs []string // "<severity> <status|log> <message>"
}

func (h *fakeHost) add(sev diag.Severity, kind, msg string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.logs = append(h.logs, fmt.Sprintf("%s %s %s", sev, kind, msg))
}

func (h *fakeHost) Log(_ context.Context, sev diag.Severity, _ resource.URN, msg string) error {
	h.add(sev, "log", msg)
	return nil
}

func (h *fakeHost) LogStatus(_ context.Context, sev diag.Severity, _ resource.URN, msg string) error {
	h.add(sev, "status", msg)
	return nil
}

func (h *fakeHost) all() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.logs...)
}

func (h *fakeHost) count(prefix string) int {
	n := 0
	for _, l := range h.all() {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

const (
	urnRemote = "urn:pulumi:test::p::command:remote:Command::node-files"
	urnLocal  = "urn:pulumi:test::p::command:local:Command::local"
	urnCopy   = "urn:pulumi:test::p::command:remote:CopyToRemote::copy"
)

// engineOpts is how the engine's plugin client marshals for a provider that accepts secrets.
var engineOpts = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, KeepResources: true}

func toWire(t *testing.T, m resource.PropertyMap) *structpb.Struct {
	t.Helper()
	s, err := plugin.MarshalProperties(m, engineOpts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func fromWire(t *testing.T, s *structpb.Struct) resource.PropertyMap {
	t.Helper()
	m, err := plugin.UnmarshalProperties(s, engineOpts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (s *sshd) connection(extra resource.PropertyMap) resource.PropertyValue {
	m := resource.PropertyMap{
		"host":       resource.NewStringProperty("127.0.0.1"),
		"port":       resource.NewNumberProperty(float64(s.proxyPort)),
		"privateKey": resource.MakeSecret(resource.NewStringProperty(s.clientKey)),
	}
	for k, v := range extra {
		m[k] = v
	}
	return resource.NewObjectProperty(m)
}

// check runs Check and returns the checked inputs.
func check(t *testing.T, p *server, urn string, news resource.PropertyMap) resource.PropertyMap {
	t.Helper()
	resp, err := p.Check(context.Background(), &pulumirpc.CheckRequest{Urn: urn, News: toWire(t, news)})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetFailures()) > 0 {
		t.Fatalf("check failures: %v", resp.GetFailures())
	}
	return fromWire(t, resp.GetInputs())
}

func create(t *testing.T, p *server, urn string, ins resource.PropertyMap, preview bool) (resource.PropertyMap, error) {
	t.Helper()
	resp, err := p.Create(context.Background(), &pulumirpc.CreateRequest{Urn: urn, Properties: toWire(t, ins), Preview: preview})
	if err != nil {
		return nil, err
	}
	return fromWire(t, resp.GetProperties()), nil
}

func update(t *testing.T, p *server, urn string, olds, news resource.PropertyMap, preview bool) (resource.PropertyMap, error) {
	t.Helper()
	resp, err := p.Update(context.Background(), &pulumirpc.UpdateRequest{
		Urn: urn, Id: "x", Olds: toWire(t, olds), News: toWire(t, news), Preview: preview,
	})
	if err != nil {
		return nil, err
	}
	return fromWire(t, resp.GetProperties()), nil
}

func strOut(t *testing.T, m resource.PropertyMap, k string) string {
	t.Helper()
	v := m[resource.PropertyKey(k)]
	if !v.IsString() {
		t.Fatalf("%s is %v, want a known string", k, v)
	}
	return v.StringValue()
}

// ---------------------------------------------------------------- tests

// Proves: create runs over SSH and returns stdout/stderr (one trailing newline dropped), lines
// are streamed as info status messages, Check applies the connection defaults, `connection` is
// secret in the inputs and the state.
func TestCreateRunsCommandAndReturnsOutput(t *testing.T) {
	s := startSSHD(t)
	host := &fakeHost{}
	p := newServer(host)
	ins := check(t, p, urnRemote, resource.PropertyMap{
		"connection": s.connection(nil),
		"create":     resource.NewStringProperty("echo hello; echo oops >&2; whoami"),
	})
	conn := ins["connection"]
	if !conn.IsSecret() {
		t.Fatalf("checked connection is not secret: %v", conn)
	}
	c := conn.SecretValue().Element.ObjectValue()
	if c["user"].StringValue() != "root" || c["dialErrorLimit"].NumberValue() != 10 || c["perDialTimeout"].NumberValue() != 15 {
		t.Fatalf("connection defaults not applied: %v", c)
	}
	out, err := create(t, p, urnRemote, ins, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := strOut(t, out, "stdout"); got != "hello\nroot" {
		t.Fatalf("stdout = %q", got)
	}
	if got := strOut(t, out, "stderr"); got != "oops" {
		t.Fatalf("stderr = %q", got)
	}
	if !out["connection"].IsSecret() {
		t.Fatal("connection is not secret in the state")
	}
	for _, want := range []string{"info status hello", "info status oops", "info status root"} {
		if host.count(want) != 1 {
			t.Fatalf("log %q not seen once in %q", want, host.all())
		}
	}
}

// Proves: stdin reaches the command (then EOF, or cat would hang) and logging none logs nothing.
func TestStdinArrivesAndLoggingNone(t *testing.T) {
	s := startSSHD(t)
	host := &fakeHost{}
	p := newServer(host)
	ins := check(t, p, urnRemote, resource.PropertyMap{
		"connection": s.connection(nil),
		"create":     resource.NewStringProperty("cat; echo done"),
		"stdin":      resource.MakeSecret(resource.NewStringProperty("line1\nline2\n")),
		"logging":    resource.NewStringProperty("none"),
	})
	out, err := create(t, p, urnRemote, ins, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := strOut(t, out, "stdout"); got != "line1\nline2\ndone" {
		t.Fatalf("stdout = %q", got)
	}
	if !out["stdin"].IsSecret() {
		t.Fatal("stdin lost its secrecy in the state")
	}
	if n := len(host.all()); n != 0 {
		t.Fatalf("logging none still logged: %q", host.all())
	}
}

// Proves: a pinned host key that matches works; no hostKey means no check at all.
func TestHostKeyPinnedAndUnset(t *testing.T) {
	s := startSSHD(t)
	p := newServer(&fakeHost{})
	for name, extra := range map[string]resource.PropertyMap{
		"pinned": {"hostKey": resource.NewStringProperty(s.hostKey)},
		"unset":  nil,
	} {
		ins := check(t, p, urnRemote, resource.PropertyMap{
			"connection": s.connection(extra), "create": resource.NewStringProperty("echo ok"),
		})
		out, err := create(t, p, urnRemote, ins, false)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if strOut(t, out, "stdout") != "ok" {
			t.Fatalf("%s: stdout %q", name, out["stdout"])
		}
	}
}

// Proves: a wrong host key fails with "ssh: handshake failed: ssh: host key mismatch" after the
// real retry schedule: dialErrorLimit N means N retries, i.e. N+1 TCP connections, and the error
// says "after N failed attempts"; no command runs.
func TestWrongHostKeyFailsAfterDialErrorLimit(t *testing.T) {
	s := startSSHD(t)
	host := &fakeHost{}
	p := newServer(host)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := ssh.NewSignerFromKey(other)
	marker := filepath.Join(s.dir, "ran")
	ins := check(t, p, urnRemote, resource.PropertyMap{
		"connection": s.connection(resource.PropertyMap{
			"hostKey":        resource.NewStringProperty(string(ssh.MarshalAuthorizedKey(signer.PublicKey()))),
			"dialErrorLimit": resource.NewNumberProperty(3),
		}),
		"create": resource.NewStringProperty("touch " + marker),
	})
	_, err := create(t, p, urnRemote, ins, false)
	if err == nil {
		t.Fatal("create with a wrong host key succeeded")
	}
	if want := "after 3 failed attempts: ssh: handshake failed: ssh: host key mismatch"; err.Error() != want {
		t.Fatalf("error = %q, want %q", err, want)
	}
	if n := s.dials.Load(); n != 4 {
		t.Fatalf("%d connections, want 4 (1 + dialErrorLimit retries)", n)
	}
	if n := host.count("info status Dial "); n != 3 {
		t.Fatalf("%d retry messages, want 3: %q", n, host.all())
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the command ran")
	}
}

// Proves: pinning an RSA host key offers only the "ssh-rsa" algorithm (SHA-1 signatures), which
// OpenSSH >= 8.8 refuses by default, so the handshake fails even though the key is right.
func TestRSAHostKeyOffersOnlySHA1(t *testing.T) {
	s := startSSHD(t)
	p := newServer(&fakeHost{})
	ins := check(t, p, urnRemote, resource.PropertyMap{
		"connection": s.connection(resource.PropertyMap{
			"hostKey":        resource.NewStringProperty(s.rsaHostKey),
			"dialErrorLimit": resource.NewNumberProperty(0),
		}),
		"create": resource.NewStringProperty("true"),
	})
	_, err := create(t, p, urnRemote, ins, false)
	if err == nil || !strings.Contains(err.Error(), "no common algorithm for host key") {
		t.Fatalf("error = %v, want a host key algorithm mismatch", err)
	}
}

// Proves: a failing command's error is `<err>: running "<command>":` plus the combined output,
// even with logging none.
func TestFailingCommandErrorHasOutput(t *testing.T) {
	s := startSSHD(t)
	host := &fakeHost{}
	p := newServer(host)
	cmd := "echo to-stdout; sleep 0.2; echo to-stderr >&2; exit 3"
	ins := check(t, p, urnRemote, resource.PropertyMap{
		"connection": s.connection(nil), "create": resource.NewStringProperty(cmd),
		"logging": resource.NewStringProperty("none"),
	})
	_, err := create(t, p, urnRemote, ins, false)
	want := fmt.Sprintf("Process exited with status 3: running %q:\nto-stdout\nto-stderr\n", cmd)
	if err == nil || err.Error() != want {
		t.Fatalf("error = %q, want %q", err, want)
	}
	if len(host.all()) != 0 {
		t.Fatalf("logging none still logged: %q", host.all())
	}
}

// Proves the real provider's Check answer for secret unknowns, on the wire and as the engine
// reads it: a secret unknown trigger comes back as a secret with no value, which the engine's
// unmarshalling (sdk/go/propertyrpc, used by pkg/resource/plugin/provider_plugin.go Check) rejects
// with "triggers[0]: malformed secret: missing value"; a secret unknown stdin comes back as a
// known empty secret string; a plain unknown stays unknown.
func TestCheckSecretUnknowns(t *testing.T) {
	p := newServer(&fakeHost{})
	secretUnknown := property.New(property.Computed).WithSecret(true)
	news := propertyrpc.Marshal(property.NewMap(map[string]property.Value{ // as the engine sends it
		"connection": property.New(property.NewMap(map[string]property.Value{"host": property.New("h")})),
		"triggers":   property.New([]property.Value{secretUnknown, property.New("plain")}),
		"stdin":      secretUnknown,
		"create":     property.New(property.Computed),
	}))
	resp, err := p.Check(context.Background(), &pulumirpc.CheckRequest{Urn: urnRemote, News: news})
	if err != nil {
		t.Fatal(err)
	}
	trig := resp.GetInputs().GetFields()["triggers"].GetListValue().GetValues()[0].GetStructValue().GetFields()
	if _, has := trig["value"]; has || trig["4dabf18193072939515e22adb298388d"].GetStringValue() != "1b47061264138c4ac30d75fd1eb44270" {
		t.Fatalf("triggers[0] on the wire = %v, want a secret without a value", trig)
	}
	stdin := resp.GetInputs().GetFields()["stdin"].GetStructValue().GetFields()
	if v, has := stdin["value"]; !has || v.GetStringValue() != "" || v.GetKind() == nil {
		t.Fatalf("stdin on the wire = %v, want a secret with the value \"\"", stdin)
	}
	if c := resp.GetInputs().GetFields()["create"].GetStringValue(); c != plugin.UnknownStringValue {
		t.Fatalf("create on the wire = %q, want unknown", c)
	}
	_, err = propertyrpc.Unmarshal(resp.GetInputs())
	if err == nil || err.Error() != "triggers[0]: malformed secret: missing value" {
		t.Fatalf("engine unmarshal error = %v", err)
	}
}

// Proves: a triggers change is a replace (create-before-delete) as the real provider reports it,
// any other change (connection, create) an update, no change no diff.
func TestDiffTriggersReplaceOthersUpdate(t *testing.T) {
	p := newServer(&fakeHost{})
	base := resource.PropertyMap{
		"connection": resource.MakeSecret(resource.NewObjectProperty(resource.PropertyMap{"host": resource.NewStringProperty("h")})),
		"create":     resource.NewStringProperty("a"),
		"triggers":   resource.NewArrayProperty([]resource.PropertyValue{resource.NewStringProperty("1")}),
	}
	diff := func(news resource.PropertyMap) *pulumirpc.DiffResponse {
		resp, err := p.Diff(context.Background(), &pulumirpc.DiffRequest{
			Urn: urnRemote, Id: "x", Olds: toWire(t, base), OldInputs: toWire(t, base), News: toWire(t, news),
		})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if r := diff(base.Copy()); r.GetChanges() != pulumirpc.DiffResponse_DIFF_NONE {
		t.Fatalf("no change: %v", r)
	}
	// An element change: the provider reports "triggers[0]" as a plain update, like the real one
	// (its replaceOnChanges lookup is by the whole key); the engine replaces through the SDK's
	// replaceOnChanges ["triggers[*]"] resource option.
	n := base.Copy()
	n["triggers"] = resource.NewArrayProperty([]resource.PropertyValue{resource.NewStringProperty("2")})
	r := diff(n)
	if d := r.GetDetailedDiff()["triggers[0]"]; d.GetKind() != pulumirpc.PropertyDiff_UPDATE || len(r.GetReplaces()) != 0 {
		t.Fatalf("triggers element change: %v", r)
	}
	// Triggers appearing (or going away) as a whole: the provider itself asks for a replace,
	// create-before-delete.
	n = base.Copy()
	delete(n, "triggers")
	r = diff(n)
	if r.GetChanges() != pulumirpc.DiffResponse_DIFF_SOME || strings.Join(r.GetReplaces(), ",") != "triggers" ||
		r.GetDetailedDiff()["triggers"].GetKind() != pulumirpc.PropertyDiff_DELETE_REPLACE || r.GetDeleteBeforeReplace() {
		t.Fatalf("triggers removed: %v", r)
	}
	n = base.Copy()
	n["create"] = resource.NewStringProperty("b")
	n["connection"] = resource.MakeSecret(resource.NewObjectProperty(resource.PropertyMap{"host": resource.NewStringProperty("h2")}))
	r = diff(n)
	if r.GetChanges() != pulumirpc.DiffResponse_DIFF_SOME || len(r.GetReplaces()) != 0 || strings.Join(r.GetDiffs(), ",") != "connection,create" {
		t.Fatalf("create/connection change: %v", r)
	}
}

// Proves: an update runs `update` (else `create`), offers the previous stdout/stderr via Setenv
// (a stock sshd refuses: one warning each), and in a preview runs nothing and makes stdout and
// stderr unknown.
func TestUpdateRunsUpdateElseCreate(t *testing.T) {
	s := startSSHD(t)
	host := &fakeHost{}
	p := newServer(host)
	marker := filepath.Join(s.dir, "ran")
	olds := check(t, p, urnRemote, resource.PropertyMap{
		"connection": s.connection(nil), "create": resource.NewStringProperty("echo v1"),
	})
	olds["stdout"], olds["stderr"] = resource.NewStringProperty("v1"), resource.NewStringProperty("e1")
	news := olds.Copy()
	delete(news, "stdout")
	delete(news, "stderr")
	news["create"] = resource.NewStringProperty("touch " + marker + "; echo created")
	out, err := update(t, p, urnRemote, olds, news, true)
	if err != nil {
		t.Fatal(err)
	}
	if !out["stdout"].IsComputed() || !out["stderr"].IsComputed() {
		t.Fatalf("preview outputs not unknown: stdout %v, stderr %v", out["stdout"], out["stderr"])
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("preview ran the command")
	}
	if out, err = update(t, p, urnRemote, olds, news, false); err != nil {
		t.Fatal(err)
	}
	if strOut(t, out, "stdout") != "created" {
		t.Fatalf("create not rerun: %v", out["stdout"])
	}
	if n := host.count("warning log Unable to set 'PULUMI_COMMAND_STD"); n != 2 {
		t.Fatalf("%d Setenv warnings, want 2: %q", n, host.all())
	}
	news["update"] = resource.NewStringProperty("echo updated")
	if out, err = update(t, p, urnRemote, olds, news, false); err != nil {
		t.Fatal(err)
	}
	if strOut(t, out, "stdout") != "updated" {
		t.Fatalf("update not run: %v", out["stdout"])
	}
}

// Proves: Create's preview runs nothing and leaves stdout unknown; delete runs `delete` with the
// state's connection.
func TestPreviewCreateAndDelete(t *testing.T) {
	s := startSSHD(t)
	p := newServer(&fakeHost{})
	marker := filepath.Join(s.dir, "deleted")
	ins := check(t, p, urnRemote, resource.PropertyMap{
		"connection": s.connection(nil), "create": resource.NewStringProperty("touch " + marker),
		"delete": resource.NewStringProperty("echo bye > " + marker),
	})
	out, err := create(t, p, urnRemote, ins, true)
	if err != nil {
		t.Fatal(err)
	}
	if !out["stdout"].IsComputed() {
		t.Fatalf("preview stdout = %v", out["stdout"])
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("preview ran the command")
	}
	state := ins.Copy()
	state["stdout"], state["stderr"] = resource.NewStringProperty(""), resource.NewStringProperty("")
	if _, err := p.Delete(context.Background(), &pulumirpc.DeleteRequest{Urn: urnRemote, Id: "x", Properties: toWire(t, state)}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(marker); string(b) != "bye\n" {
		t.Fatalf("delete did not run: %q", b)
	}
}

// Proves: CopyToRemote copies a FileAsset's bytes over SFTP (parents created), stores source as
// a secret, does not copy again on a connection-only update, copies on a source change, and
// leaves the file on delete.
func TestCopyToRemote(t *testing.T) {
	s := startSSHD(t)
	p := newServer(&fakeHost{})
	src := filepath.Join(t.TempDir(), "artifact.bin")
	data := make([]byte, 300000)
	_, _ = rand.Read(data)
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	asset, err := resource.NewPathAsset(src)
	if err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(s.dir, "remote", "sub", "artifact.bin")
	ins := check(t, p, urnCopy, resource.PropertyMap{
		"connection": s.connection(nil), "source": resource.NewAssetProperty(asset),
		"remotePath": resource.NewStringProperty(dest),
	})
	out, err := create(t, p, urnCopy, ins, false)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(dest); !bytes.Equal(got, data) {
		t.Fatalf("remote file differs (%d bytes, want %d)", len(got), len(data))
	}
	if !out["source"].IsSecret() {
		t.Fatalf("source not secret in the state: %v", out["source"])
	}
	_ = os.Remove(dest)
	news := check(t, p, urnCopy, resource.PropertyMap{
		"connection": s.connection(resource.PropertyMap{"perDialTimeout": resource.NewNumberProperty(5)}),
		"source":     resource.NewAssetProperty(asset), "remotePath": resource.NewStringProperty(dest),
	})
	if _, err := update(t, p, urnCopy, out, news, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dest); err == nil {
		t.Fatal("a connection-only update copied again")
	}
	text, _ := resource.NewTextAsset("new content")
	news["source"] = resource.NewAssetProperty(text)
	if _, err := update(t, p, urnCopy, out, news, false); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(dest); string(got) != "new content" {
		t.Fatalf("source change not copied: %q", got)
	}
	if _, err := p.Delete(context.Background(), &pulumirpc.DeleteRequest{Urn: urnCopy, Id: "x", Properties: toWire(t, out)}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dest); err != nil {
		t.Fatal("delete removed the remote file")
	}
}

// Proves: `proxy` reaches the target through a jump host (here the same sshd, direct-tcpip).
func TestProxyJump(t *testing.T) {
	s := startSSHD(t)
	p := newServer(&fakeHost{})
	proxy := s.connection(resource.PropertyMap{"hostKey": resource.NewStringProperty(s.hostKey)})
	ins := check(t, p, urnRemote, resource.PropertyMap{
		"connection": s.connection(resource.PropertyMap{
			"port": resource.NewNumberProperty(float64(s.port)), "proxy": proxy,
		}),
		"create": resource.NewStringProperty("echo via-proxy"),
	})
	out, err := create(t, p, urnRemote, ins, false)
	if err != nil {
		t.Fatal(err)
	}
	if strOut(t, out, "stdout") != "via-proxy" {
		t.Fatalf("stdout %v", out["stdout"])
	}
	if n := s.dials.Load(); n != 1 {
		t.Fatalf("%d connections through the relay, want 1 (the jump host)", n)
	}
}

// Proves: local Command runs with /bin/sh -c in `dir` with `environment`, stdin and the previous
// stdout on update; errors carry the output.
func TestLocalCommand(t *testing.T) {
	p := newServer(&fakeHost{})
	dir := t.TempDir()
	ins := check(t, p, urnLocal, resource.PropertyMap{
		"create":      resource.NewStringProperty(`pwd; echo "$FOO"; cat`),
		"dir":         resource.NewStringProperty(dir),
		"environment": resource.NewObjectProperty(resource.PropertyMap{"FOO": resource.NewStringProperty("bar")}),
		"stdin":       resource.NewStringProperty("in"),
	})
	out, err := create(t, p, urnLocal, ins, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := strOut(t, out, "stdout"); got != dir+"\nbar\nin" {
		t.Fatalf("stdout = %q", got)
	}
	news := ins.Copy()
	news["update"] = resource.NewStringProperty(`echo "prev=$PULUMI_COMMAND_STDOUT" | head -1`)
	if out, err = update(t, p, urnLocal, out, news, false); err != nil {
		t.Fatal(err)
	}
	if got := strOut(t, out, "stdout"); got != "prev="+dir {
		t.Fatalf("update stdout = %q", got)
	}
	ins["create"] = resource.NewStringProperty("echo nope; exit 1")
	if _, err = create(t, p, urnLocal, ins, false); err == nil || err.Error() != "exit status 1: running \"echo nope; exit 1\":\nnope\n" {
		t.Fatalf("error = %v", err)
	}
}

// Proves: the plugin reports version 1.2.1 and serves a schema naming the three resources.
func TestPluginInfoAndSchema(t *testing.T) {
	p := newServer(nil)
	info, _ := p.GetPluginInfo(context.Background(), nil)
	if info.GetVersion() != "1.2.1" {
		t.Fatalf("version %q", info.GetVersion())
	}
	sc, _ := p.GetSchema(context.Background(), &pulumirpc.GetSchemaRequest{})
	for _, tok := range []string{tokLocal, tokRemote, tokCopy, `"version":"1.2.1"`} {
		if !strings.Contains(sc.GetSchema(), tok) {
			t.Fatalf("schema lacks %s", tok)
		}
	}
}

// Proves: `environment` goes by Setenv (a refusal is an error naming the variable), and where sshd
// accepts them the previous stdout arrives as PULUMI_COMMAND_STDOUT on update.
func TestEnvironmentAndPreviousOutput(t *testing.T) {
	p := newServer(&fakeHost{})
	env := resource.NewObjectProperty(resource.PropertyMap{"FOO": resource.NewStringProperty("bar")})
	stock := startSSHD(t)
	ins := check(t, p, urnRemote, resource.PropertyMap{
		"connection": stock.connection(nil), "create": resource.NewStringProperty("true"), "environment": env,
	})
	if _, err := create(t, p, urnRemote, ins, false); err == nil ||
		!strings.HasPrefix(err.Error(), `could not set environment variable "FOO": `) {
		t.Fatalf("error = %v", err)
	}
	s := startSSHD(t, "AcceptEnv FOO PULUMI_COMMAND_*")
	ins = check(t, p, urnRemote, resource.PropertyMap{
		"connection": s.connection(nil), "create": resource.NewStringProperty(`echo "FOO=$FOO"`), "environment": env,
	})
	out, err := create(t, p, urnRemote, ins, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := strOut(t, out, "stdout"); got != "FOO=bar" {
		t.Fatalf("stdout = %q", got)
	}
	news := ins.Copy()
	news["update"] = resource.NewStringProperty(`echo "prev=$PULUMI_COMMAND_STDOUT"`)
	if out, err = update(t, p, urnRemote, out, news, false); err != nil {
		t.Fatal(err)
	}
	if got := strOut(t, out, "stdout"); got != "prev=FOO=bar" {
		t.Fatalf("update stdout = %q", got)
	}
}
