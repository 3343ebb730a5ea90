// Command runc-shim runs runc without CAP_SYS_RESOURCE, for hosts whose container engine lacks
// that capability in its bounding set (there runc fails with "unable to apply caps: operation
// not permitted" whenever a container asks for it, as every privileged container does).
//
// It is installed as a runtime in front of the real runc (deploy/kind/host-setup.sh registers
// it with dockerd; the kind node image makes it containerd's runc binary). For `create`, `run`
// and `exec` it removes CAP_SYS_RESOURCE from the capability sets of the OCI bundle's
// config.json (or of the --process file), then execs the real runc with the arguments
// unchanged. Every other call, and every container that never asked for the capability, reaches
// runc untouched.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

const dropped = "CAP_SYS_RESOURCE"

// realRunc is the runc this shim stands in front of: $RUNC_SHIM_RUNC, else Debian's.
func realRunc() string {
	if path := os.Getenv("RUNC_SHIM_RUNC"); path != "" {
		return path
	}
	return "/usr/sbin/runc"
}

// flagValue returns the value of a flag given as "--name value", "--name=value" or "-s value".
func flagValue(args []string, long, short string) (string, bool) {
	for i, arg := range args {
		if arg == long || (short != "" && arg == short) {
			if i+1 < len(args) {
				return args[i+1], true
			}
		}
		if strings.HasPrefix(arg, long+"=") {
			return strings.TrimPrefix(arg, long+"="), true
		}
	}
	return "", false
}

// command returns runc's subcommand: the first of create, run and exec among the arguments.
func command(args []string) string {
	for _, arg := range args {
		switch arg {
		case "create", "run", "exec":
			return arg
		}
	}
	return ""
}

// dropFrom removes the capability from every set of a process's "capabilities" object and
// reports whether anything changed.
func dropFrom(process map[string]any) bool {
	capabilities, ok := process["capabilities"].(map[string]any)
	if !ok {
		return false
	}
	changed := false
	for set, value := range capabilities {
		list, ok := value.([]any)
		if !ok {
			continue
		}
		kept := list[:0:0]
		for _, capability := range list {
			if capability == dropped {
				changed = true
				continue
			}
			kept = append(kept, capability)
		}
		capabilities[set] = kept
	}
	return changed
}

// rewrite edits the JSON file at path in place; inBundle says it is a bundle's config.json
// (the process is under "process") rather than an exec --process file (the process itself).
func rewrite(path string, inBundle bool) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if !bytes.Contains(data, []byte(dropped)) {
		return nil
	}
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.UseNumber() // uids, limits and sizes stay exact
	var document map[string]any
	if err := decoder.Decode(&document); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	process := document
	if inBundle {
		process, _ = document["process"].(map[string]any)
	}
	if process == nil || !dropFrom(process) {
		return nil
	}
	out, err := json.Marshal(document)
	if err != nil {
		return err
	}
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, info.Mode().Perm())
}

func main() {
	args := os.Args[1:]
	var err error
	switch command(args) {
	case "create", "run":
		bundle, ok := flagValue(args, "--bundle", "-b")
		if !ok {
			bundle = "."
		}
		err = rewrite(filepath.Join(bundle, "config.json"), true)
	case "exec":
		if process, ok := flagValue(args, "--process", "-p"); ok {
			err = rewrite(process, false)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "runc-shim: %v\n", err)
		os.Exit(1)
	}
	runc := realRunc()
	err = syscall.Exec(runc, append([]string{runc}, args...), os.Environ())
	fmt.Fprintf(os.Stderr, "runc-shim: exec %s: %v\n", runc, err)
	os.Exit(1)
}
