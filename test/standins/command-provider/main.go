// pulumi-resource-command (stand-in) - a TEST STAND-IN for the Pulumi command provider
// (github.com/pulumi/pulumi-command) v1.2.1. It is built only for hardened-rke2's own tests
// (e2e/toolchain/build.sh, component `command-standin`) and NEVER SHIPS.
//
// Why it exists: the real provider's Go module is refused by the Go module proxy this project
// builds from (see research FACTS §5), so CI cannot build it. This program implements, against the
// served github.com/pulumi/pulumi/sdk/v3 provider interfaces, what hardened-rke2 uses of
// command:remote:Command, command:remote:CopyToRemote and command:local:Command, with the real
// v1.2.1 behaviour: names, defaults and secrecy from its schema; Check's answer for secret unknowns;
// Diff (triggers replace, create-before-delete; anything else updates); update runs `update` or
// else `create`; addPreviousOutputInEnv; logging; stdin; hostKey pinning; dial retries; SFTP copies.
// Each behaviour cites the file of pulumi-command v1.2.1 (or pulumi-go-provider v1.3.0, which it
// is built on) it was read from. No code is copied from them.
//
// Not implemented: command:remote:CopyFile (deprecated), the command:local:run invoke, local
// assetPaths/archivePaths outputs, Read beyond echoing the state, Windows.
//
// Build: e2e/toolchain/build.sh command-standin (into <cache>/toolchain/command-standin-src-<hash>/;
// `build.sh --print-env` names the folder). Tests: ./run-tests.sh (root, openssh-server), and
// ./break-each-test.py shows each test failing when its cause is broken. To use the real provider
// instead, put its `pulumi-resource-command` in a folder and point HARDENED_RKE2_COMMAND_PROVIDER_DIR
// at that folder.
package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"sort"

	pbempty "google.golang.org/protobuf/types/known/emptypb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

const version = "1.2.1"

func main() {
	err := provider.Main("command", func(host *provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return newServer(host), nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// engineLog is the part of the engine host the provider talks to (provider.HostClient).
type engineLog interface {
	Log(ctx context.Context, sev diag.Severity, urn resource.URN, msg string) error
	LogStatus(ctx context.Context, sev diag.Severity, urn resource.URN, msg string) error
}

type server struct {
	pulumirpc.UnimplementedResourceProviderServer
	host   engineLog
	ctx    context.Context
	cancel context.CancelFunc
}

func newServer(host engineLog) *server {
	ctx, cancel := context.WithCancel(context.Background())
	return &server{host: host, ctx: ctx, cancel: cancel}
}

// resLog sends messages on one resource. Output lines go as info *status* messages, as the real
// provider does (util/util.go LogOutput -> Logger.InfoStatus -> LogRequest{ephemeral: true}).
type resLog struct {
	ctx  context.Context
	host engineLog
	urn  resource.URN
}

func (l *resLog) log(sev diag.Severity, msg string) {
	if l.host != nil {
		_ = l.host.Log(l.ctx, sev, l.urn, msg)
	}
}

func (l *resLog) status(sev diag.Severity, msg string) {
	if l.host != nil {
		_ = l.host.LogStatus(l.ctx, sev, l.urn, msg)
	}
}

func (l *resLog) lines(r io.Reader, done chan<- struct{}) {
	defer close(done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		l.status(diag.Info, sc.Text())
	}
	_, _ = io.Copy(io.Discard, r) // never block the command on an over-long line
}

func (s *server) logFor(ctx context.Context, urn string) *resLog {
	return &resLog{ctx: ctx, host: s.host, urn: resource.URN(urn)}
}

func typeOf(urn string) (string, error) {
	t := string(resource.URN(urn).Type())
	if _, ok := inputShapes[t]; !ok {
		return "", fmt.Errorf("unknown resource type %q (this stand-in implements %s, %s and %s)", t, tokLocal, tokRemote, tokCopy)
	}
	return t, nil
}

func (s *server) GetPluginInfo(context.Context, *pbempty.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (s *server) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: schemaJSON}, nil
}

func (s *server) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (s *server) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

func (s *server) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, AcceptResources: true, SupportsPreview: true}, nil
}

func (s *server) Cancel(context.Context, *pbempty.Empty) (*pbempty.Empty, error) {
	s.cancel()
	return &pbempty.Empty{}, nil
}

// Check: secret unknowns become known secrets of the zero value (see knownSecretUnknowns),
// connection defaults are applied and `connection` is made secret (provider:"secret" on the
// field, infer/apply_secrets.go), CopyToRemote's source is validated (remote/copyController.go).
func (s *server) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	t, err := typeOf(req.GetUrn())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	shapes := inputShapes[t]
	out := resource.PropertyMap{}
	for k, v := range news {
		out[k] = knownSecretUnknowns(v, shapes[string(k)])
	}
	var failures []*pulumirpc.CheckFailure
	if t != tokLocal {
		if c, ok := out["connection"]; ok && !c.IsNull() {
			out["connection"] = withConnectionDefaults(c)
			if !out["connection"].IsSecret() {
				out["connection"] = resource.MakeSecret(out["connection"])
			}
		} else {
			failures = append(failures, &pulumirpc.CheckFailure{Property: "connection", Reason: "Missing required field 'connection' on '" + t + "'"})
		}
	}
	if t == tokCopy {
		src := plain(out["source"])
		switch {
		case src.IsComputed():
		case src.IsAsset() && !src.AssetValue().IsPath() && !src.AssetValue().IsText():
			failures = append(failures, &pulumirpc.CheckFailure{Property: "asset", Reason: "asset must be a path-based file asset or a text asset"})
		case src.IsArchive() && !src.ArchiveValue().IsPath():
			failures = append(failures, &pulumirpc.CheckFailure{Property: "archive", Reason: "archive must be a path to a file or directory"})
		case !src.IsAsset() && !src.IsArchive():
			failures = append(failures, &pulumirpc.CheckFailure{Property: "asset", Reason: "either asset or archive must be set"})
		}
		if _, ok := news["remotePath"]; !ok {
			failures = append(failures, &pulumirpc.CheckFailure{Property: "remotePath", Reason: "Missing required field 'remotePath' on '" + t + "'"})
		}
	}
	if t == tokLocal {
		for _, k := range []resource.PropertyKey{"assetPaths", "archivePaths"} {
			if v, ok := out[k]; ok && !v.IsNull() {
				failures = append(failures, &pulumirpc.CheckFailure{Property: string(k), Reason: "not implemented by the test stand-in"})
			}
		}
	}
	ins, err := marshal(out)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: ins, Failures: failures}, nil
}

var diffKinds = map[plugin.DiffKind]pulumirpc.PropertyDiff_Kind{
	plugin.DiffAdd: pulumirpc.PropertyDiff_ADD, plugin.DiffAddReplace: pulumirpc.PropertyDiff_ADD_REPLACE,
	plugin.DiffDelete: pulumirpc.PropertyDiff_DELETE, plugin.DiffDeleteReplace: pulumirpc.PropertyDiff_DELETE_REPLACE,
	plugin.DiffUpdate: pulumirpc.PropertyDiff_UPDATE, plugin.DiffUpdateReplace: pulumirpc.PropertyDiff_UPDATE_REPLACE,
}

// Diff follows infer/resource.go diff (pulumi-go-provider v1.3.0): old inputs against new inputs,
// "version" and "__*" keys dropped, ignoreChanges honoured. A detailed-diff key is forced to
// replace when the schema marks it replaceOnChanges, and only `triggers` is; the lookup is by the
// whole key, so an element change ("triggers[0]") is an update here and becomes a replace through
// the SDK's replaceOnChanges ["triggers[*]"] option. DeleteBeforeReplace stays false
// (create-before-delete).
func (s *server) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	t, err := typeOf(req.GetUrn())
	if err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.GetOldInputs())
	if err != nil {
		return nil, err
	}
	if req.GetOldInputs() == nil {
		state, err := unmarshal(req.GetOlds())
		if err != nil {
			return nil, err
		}
		for k := range inputShapes[t] {
			if v, ok := state[resource.PropertyKey(k)]; ok {
				olds[resource.PropertyKey(k)] = v
			}
		}
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	for k := range news {
		if internalKey(k) {
			delete(news, k)
		}
	}
	for _, ic := range req.GetIgnoreChanges() {
		if p, err := resource.ParsePropertyPath(ic); err == nil {
			if v, ok := p.Get(resource.NewObjectProperty(olds)); ok {
				p.Set(resource.NewObjectProperty(news), v)
			}
		}
	}
	od := olds.Diff(news)
	resp := &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE, HasDetailedDiff: true,
		DetailedDiff: map[string]*pulumirpc.PropertyDiff{}}
	if od == nil || !od.AnyChanges() {
		return resp, nil
	}
	resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
	diffs, replaces := map[string]bool{}, map[string]bool{}
	for k, d := range plugin.NewDetailedDiffFromObjectDiff(od, false) {
		if k == "triggers" {
			d.Kind = d.Kind.AsReplace()
		}
		resp.DetailedDiff[k] = &pulumirpc.PropertyDiff{Kind: diffKinds[d.Kind], InputDiff: d.InputDiff}
		head := k
		if p, err := resource.ParsePropertyPath(k); err == nil && len(p) > 0 {
			if h, ok := p[0].(string); ok {
				head = h
			}
		}
		diffs[head] = true
		if d.Kind.IsReplace() {
			replaces[head] = true
		}
	}
	resp.Diffs, resp.Replaces = sortedKeys(diffs), sortedKeys(replaces)
	return resp, nil
}

func sortedKeys(m map[string]bool) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func unknownString() resource.PropertyValue {
	return resource.MakeComputed(resource.NewStringProperty(""))
}

// outputsOf builds the state: the inputs as given (their secrecy kept), `connection` secret, and
// for commands stdout/stderr (remote/commandOutputs.go, local/base.go BaseOutputs).
func outputsOf(t string, ins resource.PropertyMap, stdout, stderr resource.PropertyValue) resource.PropertyMap {
	out := ins.Copy()
	if c, ok := out["connection"]; ok && !c.IsSecret() {
		out["connection"] = resource.MakeSecret(c)
	}
	if t == tokCopy {
		// FACTS §5 (seen with a build of v1.2.1): the stored `source` is a secret.
		if src, ok := out["source"]; ok && !src.IsSecret() && !src.IsComputed() {
			out["source"] = resource.MakeSecret(src)
		}
		return out
	}
	out["stdout"], out["stderr"] = stdout, stderr
	return out
}

func (s *server) respond(id string, props resource.PropertyMap) (*pulumirpc.CreateResponse, error) {
	st, err := marshal(props)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: st}, nil
}

// run runs the command `which` ("create", "update" or "delete") of a command resource, with the
// previous outputs from prev (a state, or nil on create).
func (s *server) run(ctx context.Context, lg *resLog, t string, ins resource.PropertyMap, cmd string,
	prev resource.PropertyMap,
) (string, string, error) {
	r := runSpec{cmd: cmd, env: strMap(ins, "environment"), addPrev: boolean(ins, "addPreviousOutputInEnv", true)}
	r.stdin, _ = str(ins, "stdin")
	r.logging, _ = str(ins, "logging")
	if prev != nil {
		r.prevStdout, _ = str(prev, "stdout")
		r.prevStderr, _ = str(prev, "stderr")
	}
	if t == tokLocal {
		dir, _ := str(ins, "dir")
		return runLocal(ctx, lg, strList(ins, "interpreter"), dir, r)
	}
	cm, ok := obj(ins, "connection")
	if !ok {
		return "", "", fmt.Errorf("connection is not known")
	}
	c, err := parseConn(cm)
	if err != nil {
		return "", "", err
	}
	return runRemote(ctx, lg, c, r)
}

func (s *server) copy(ctx context.Context, lg *resLog, ins resource.PropertyMap) error {
	cm, ok := obj(ins, "connection")
	if !ok {
		return fmt.Errorf("connection is not known")
	}
	c, err := parseConn(cm)
	if err != nil {
		return err
	}
	dest, _ := str(ins, "remotePath")
	src := plain(ins["source"])
	switch {
	case src.IsAsset() && src.AssetValue().IsText():
		return copyToRemote(ctx, lg, c, "", src.AssetValue().Text, true, dest)
	case src.IsAsset():
		return copyToRemote(ctx, lg, c, src.AssetValue().Path, "", false, dest)
	case src.IsArchive():
		return copyToRemote(ctx, lg, c, src.ArchiveValue().Path, "", false, dest)
	}
	return fmt.Errorf("source is neither an asset nor an archive")
}

func sourceHash(m resource.PropertyMap) string {
	src := plain(m["source"])
	switch {
	case src.IsAsset():
		return src.AssetValue().Hash
	case src.IsArchive():
		return src.ArchiveValue().Hash
	}
	return ""
}

// Create: in a preview nothing runs and stdout/stderr are unknown (the inputs are echoed,
// infer/resource.go markComputed). Otherwise `create` runs (nothing when unset) or the copy is made.
// IDs as remote/commandController.go and copyController.go make them (resource.NewUniqueHex).
func (s *server) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	t, err := typeOf(req.GetUrn())
	if err != nil {
		return nil, err
	}
	ins, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	prefix := string(resource.URN(req.GetUrn()).Name())
	if t == tokCopy {
		prefix = ""
	}
	id, err := resource.NewUniqueHex(prefix, 8, 0)
	if err != nil {
		return nil, err
	}
	lg := s.logFor(s.ctx, req.GetUrn())
	if req.GetPreview() {
		if t == tokCopy {
			id = ""
		}
		return s.respond(id, outputsOf(t, ins, unknownString(), unknownString()))
	}
	if t == tokCopy {
		if err := s.copy(s.ctx, lg, ins); err != nil {
			return nil, err
		}
		return s.respond(id, outputsOf(t, ins, resource.PropertyValue{}, resource.PropertyValue{}))
	}
	stdout, stderr := "", ""
	if cmd, ok := str(ins, "create"); ok {
		if stdout, stderr, err = s.run(s.ctx, lg, t, ins, cmd, nil); err != nil {
			return nil, err
		}
	}
	return s.respond(id, outputsOf(t, ins, resource.NewStringProperty(stdout), resource.NewStringProperty(stderr)))
}

// Update: in a preview nothing runs and stdout/stderr are unknown (every output that does not
// mirror an input, infer/resource.go markComputed with the default "every input feeds every
// output" flow). Otherwise `update` runs, else `create`, else nothing (old outputs kept), with the
// previous stdout/stderr offered as PULUMI_COMMAND_STDOUT/_STDERR. CopyToRemote copies again only
// when the source hash or remotePath changed (remote/copyController.go Update).
func (s *server) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	t, err := typeOf(req.GetUrn())
	if err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	lg := s.logFor(s.ctx, req.GetUrn())
	var out resource.PropertyMap
	switch {
	case req.GetPreview():
		out = outputsOf(t, news, unknownString(), unknownString())
	case t == tokCopy:
		if sourceHash(news) != sourceHash(olds) || !plain(news["remotePath"]).DeepEquals(plain(olds["remotePath"])) {
			if err := s.copy(s.ctx, lg, news); err != nil {
				return nil, err
			}
		}
		out = outputsOf(t, news, resource.PropertyValue{}, resource.PropertyValue{})
	default:
		stdout, stderr := plain(olds["stdout"]), plain(olds["stderr"])
		cmd, ok := str(news, "update")
		if !ok {
			cmd, ok = str(news, "create")
		}
		if ok {
			so, se, err := s.run(s.ctx, lg, t, news, cmd, olds)
			if err != nil {
				return nil, err
			}
			stdout, stderr = resource.NewStringProperty(so), resource.NewStringProperty(se)
		}
		out = outputsOf(t, news, stdout, stderr)
	}
	st, err := marshal(out)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: st}, nil
}

// Delete runs `delete` when set, with the state's connection and outputs; CopyToRemote leaves the
// remote file (it has no Delete, remote/copyController.go).
func (s *server) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*pbempty.Empty, error) {
	t, err := typeOf(req.GetUrn())
	if err != nil {
		return nil, err
	}
	if t == tokCopy {
		return &pbempty.Empty{}, nil
	}
	state, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	if cmd, ok := str(state, "delete"); ok {
		if _, _, err := s.run(s.ctx, s.logFor(s.ctx, req.GetUrn()), t, state, cmd, state); err != nil {
			return nil, err
		}
	}
	return &pbempty.Empty{}, nil
}

// Read echoes the state (no custom Read in v1.2.1; the engine calls it on refresh and import).
func (s *server) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}
