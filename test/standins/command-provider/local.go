package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// runLocal follows local/commandOutputs.go run: `interpreter` (default /bin/sh -c) + the command,
// in `dir` (default the provider's working directory, which the engine sets to the project), with
// the provider's environment plus `environment` plus the previous outputs. assetPaths and
// archivePaths are not implemented (the product does not use them); Check refuses them.
func runLocal(ctx context.Context, lg *resLog, interpreter []string, dir string, r runSpec) (string, string, error) {
	args := []string{"/bin/sh", "-c"}
	if len(interpreter) > 0 {
		args = append([]string{}, interpreter...)
	}
	args = append(args, r.cmd)
	cmd := exec.CommandContext(ctx, args[0], args[1:]...) //nolint:gosec // running the user's command is the job
	if dir != "" {
		cmd.Dir = dir
	} else {
		wd, err := os.Getwd()
		if err != nil {
			return "", "", err
		}
		cmd.Dir = wd
	}
	cmd.Env = os.Environ()
	for k, v := range r.env {
		cmd.Env = append(cmd.Env, fmt.Sprintf("%s=%s", k, v))
	}
	if r.addPrev {
		if r.prevStdout != "" {
			cmd.Env = append(cmd.Env, "PULUMI_COMMAND_STDOUT="+r.prevStdout)
		}
		if r.prevStderr != "" {
			cmd.Env = append(cmd.Env, "PULUMI_COMMAND_STDERR="+r.prevStderr)
		}
	}
	if len(r.stdin) > 0 {
		cmd.Stdin = strings.NewReader(r.stdin)
	}
	out := newCapture(lg, r)
	cmd.Stdout, cmd.Stderr = out.stdout(), out.stderr()
	return out.finish(r.cmd, cmd.Run())
}
