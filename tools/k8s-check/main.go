// k8s-check decodes Kubernetes manifests strictly into the typed Kubernetes Go API structs and
// applies Switchyard's deployment rules to them.
//
//	kustomize build deploy/kustomize/overlays/prod | k8s-check -pinned -
//	k8s-check deploy/kustomize/base/redis-auth.secret.template.yaml
//
// Every document must be a kind it knows (apps/v1 Deployment and StatefulSet; v1 Service,
// ConfigMap, Secret, ServiceAccount, PersistentVolumeClaim, Namespace; networking.k8s.io/v1
// NetworkPolicy; autoscaling/v2 HorizontalPodAutoscaler; policy/v1 PodDisruptionBudget;
// monitoring.coreos.com/v1 PrometheusRule), and decode with no unknown, duplicate or
// wrongly-cased field. Exit status: 0 clean, 1 problems found, 2 usage.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("k8s-check", flag.ContinueOnError)
	flags.SetOutput(stderr)
	pinned := flags.Bool("pinned", false, "images must be pinned to a release tag or digest (staging, prod)")
	label := flags.String("label", "", "name for the input in messages (default: the file name)")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: k8s-check [-pinned] [-label NAME] FILE|- ...")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if flags.NArg() == 0 {
		flags.Usage()
		return 2
	}
	status := 0
	for _, file := range flags.Args() {
		name := file
		switch {
		case *label != "":
			name = *label
		case file == "-":
			name = "stdin"
		}
		if !checkFile(file, name, Options{Pinned: *pinned}, stdin, stdout, stderr) {
			status = 1
		}
	}
	return status
}

// checkFile decodes and checks one input ("-" is stdin) and reports on it; true when clean.
func checkFile(file, name string, opts Options, stdin io.Reader, stdout, stderr io.Writer) bool {
	in := stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			fmt.Fprintf(stderr, "k8s-check: %v\n", err)
			return false
		}
		defer f.Close()
		in = f
	}
	objects, errs := Decode(in)
	if len(errs) == 0 {
		errs = Check(objects, opts)
	}
	if len(errs) > 0 {
		for _, err := range errs {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
		}
		fmt.Fprintf(stderr, "%s: %d problem(s)\n", name, len(errs))
		return false
	}
	if len(objects) == 0 {
		fmt.Fprintf(stderr, "%s: no objects\n", name)
		return false
	}
	fmt.Fprintf(stdout, "%s: ok, %d objects (%s)\n", name, len(objects), summarize(objects))
	return true
}

// summarize counts objects by kind: "3 Deployment, 5 Service".
func summarize(objects []Object) string {
	counts := map[string]int{}
	for _, o := range objects {
		counts[o.Kind]++
	}
	kinds := make([]string, 0, len(counts))
	for kind := range counts {
		kinds = append(kinds, kind)
	}
	sort.Strings(kinds)
	out := ""
	for i, kind := range kinds {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%d %s", counts[kind], kind)
	}
	return out
}
