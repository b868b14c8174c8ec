#!/usr/bin/env python3
# Shows that each Go test of the stand-in can fail: for each entry (test, file, old, new, what) it
# breaks the cause the test is about in the source, runs only that test (run-tests.sh -run), prints
# the failure and restores the file. Usage: ./break-each-test.py [index ...]  (default: all).
# Every line should say rc=1. It edits the sources while it runs: do not edit them meanwhile.
import subprocess, sys, os
D=os.path.dirname(os.path.abspath(__file__))
M=[
("TestCheckSecretUnknowns","props.go","\tif isSecretUnknown(v) {\n\t\treturn resource.MakeSecret(zeroOf(s))","\tif isSecretUnknown(v) {\n\t\treturn v","secret unknowns passed through as unknown (no zero-value answer)"),
("TestStdinArrivesAndLoggingNone","remote.go","\tif len(r.stdin) > 0 {\n\t\tsession.Stdin","\tif false {\n\t\tsession.Stdin","stdin not sent"),
("TestDiffTriggersReplaceOthersUpdate","main.go",'if k == "triggers" {','if k == "triggers-x" {',"triggers not forced to replace"),
("TestFailingCommandErrorHasOutput","remote.go",'return "", "", fmt.Errorf("%w: running %q:\\n%s", err, cmd, c.both.String())','return "", "", fmt.Errorf("%w: running %q", err, cmd)',"output left out of the error"),
("TestCreateRunsCommandAndReturnsOutput","remote.go",'return strings.TrimSuffix(c.so.String(), "\\n"), strings.TrimSuffix(c.se.String(), "\\n"), nil','return c.so.String(), c.se.String(), nil',"trailing newline kept"),
("TestCreateRunsCommandAndReturnsOutput","main.go",'\t\tl.status(diag.Info, sc.Text())','\t\t_ = sc.Text()',"output lines not logged"),
("TestWrongHostKeyFailsAfterDialErrorLimit","remote.go","if limit > -1 && dials > limit {","if limit > -1 && dials >= limit {","one dial fewer than the real schedule"),
("TestRSAHostKeyOffersOnlySHA1","remote.go","\t\tcfg.HostKeyAlgorithms = []string{pk.Type()}\n","","all host key algorithms offered"),
("TestHostKeyPinnedAndUnset","remote.go","HostKeyCallback: ssh.InsecureIgnoreHostKey(),","HostKeyCallback: func(string, net.Addr, ssh.PublicKey) error { return errors.New(\"checked\") },","host key checked when hostKey is unset"),
("TestCopyToRemote","main.go","if sourceHash(news) != sourceHash(olds) ||","if true ||","copy again on every update"),
("TestUpdateRunsUpdateElseCreate","main.go","\tcase req.GetPreview():\n\t\tout = outputsOf(t, news, unknownString(), unknownString())","\tcase req.GetPreview():\n\t\tout = outputsOf(t, news, olds[\"stdout\"], olds[\"stderr\"])","preview update keeps the old outputs known"),
("TestUpdateRunsUpdateElseCreate","remote.go","\t\t\t\tif err := session.Setenv(kv[0], kv[1]); err != nil {","\t\t\t\tif err := error(nil); err != nil {","previous outputs not offered via Setenv"),
("TestPreviewCreateAndDelete","main.go",'\tif cmd, ok := str(state, "delete"); ok {','\tif cmd, ok := str(state, "delete-x"); ok {',"delete command not run"),
("TestProxyJump","remote.go","\tif c.proxy == nil {\n\t\treturn withRetry","\tif true {\n\t\treturn withRetry","proxy ignored"),
("TestLocalCommand","local.go","\tif dir != \"\" {\n\t\tcmd.Dir = dir","\tif false {\n\t\tcmd.Dir = dir","dir ignored"),
("TestPluginInfoAndSchema","main.go",'const version = "1.2.1"','const version = "1.2.0"',"wrong version"),
("TestEnvironmentAndPreviousOutput","remote.go","\t\t\treturn \"\", \"\", fmt.Errorf(\"could not set environment variable %q: %w\", k, err)","\t\t\tcontinue","environment refusal ignored"),
("TestEnvironmentAndPreviousOutput","main.go","\t\tr.prevStdout, _ = str(prev, \"stdout\")","\t\t_, _ = str(prev, \"stdout\")","previous stdout not passed"),
]
env=dict(os.environ)
only=sys.argv[1:]
for i,(test,f,old,new,what) in enumerate(M):
    if only and str(i) not in only: continue
    p=os.path.join(D,f); src=open(p).read()
    assert src.count(old)==1,(i,test,old)
    open(p,'w').write(src.replace(old,new))
    try:
        r=subprocess.run(['bash','run-tests.sh','-run','^'+test+'$'],cwd=D,capture_output=True,text=True)
        out=r.stdout+r.stderr
        lines=[l.strip() for l in out.splitlines() if 'provider_test.go' in l or l.startswith('---') or 'build failed' in l or l.startswith('#')]
        print(f"[{i}] {test} with '{what}': rc={r.returncode} :: "+" | ".join(lines[:3])[:400],flush=True)
    finally:
        open(p,'w').write(src)
