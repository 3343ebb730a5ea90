package main

import (
	"fmt"
	"net"
	"path"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Options selects the stricter rules of a release environment.
type Options struct {
	// Pinned: images must name a release (a tag other than latest/local/main/..., or a digest).
	Pinned bool
}

const (
	// runAsUser is the UID every Switchyard container runs as.
	runAsUser = 10001
	// secretPlaceholder is the only value a Secret in this repository may hold.
	secretPlaceholder = "CHANGE-ME"
)

// Switchyard's own binaries (by the last element of the image name) and their settings'
// defaults, as in README.md's Operate section.
var apps = map[string]struct{ metricsPort int32 }{
	"gateway":      {metricsPort: 9090},
	"user-service": {metricsPort: 9091},
	"data-service": {metricsPort: 9092},
}

const defaultShutdownGraceMs = 20000

var unpinnedTags = []string{"", "latest", "local", "main", "master", "dev", "edge", "nightly"}

// workload is a Deployment or a StatefulSet, reduced to what the rules look at.
type workload struct {
	object   Object
	selector *metav1.LabelSelector
	template *corev1.PodTemplateSpec
}

type checker struct {
	opts       Options
	objects    []Object
	workloads  []workload
	configMaps map[string]*corev1.ConfigMap      // "namespace/name"
	accounts   map[string]*corev1.ServiceAccount // "namespace/name"
	errs       []error
}

// Check applies Switchyard's deployment rules to a decoded manifest stream.
func Check(objects []Object, opts Options) []error {
	c := &checker{
		opts:       opts,
		objects:    objects,
		configMaps: map[string]*corev1.ConfigMap{},
		accounts:   map[string]*corev1.ServiceAccount{},
	}
	seen := map[string]int{}
	for _, o := range objects {
		key := o.APIVersion + " " + o.ID()
		if first, dup := seen[key]; dup {
			c.fail(o, "duplicate of document %d", first)
		}
		seen[key] = o.Doc
		switch v := o.Value.(type) {
		case *appsv1.Deployment:
			c.workloads = append(c.workloads, workload{o, v.Spec.Selector, &v.Spec.Template})
		case *appsv1.StatefulSet:
			c.workloads = append(c.workloads, workload{o, v.Spec.Selector, &v.Spec.Template})
		case *corev1.ConfigMap:
			c.configMaps[o.Namespace+"/"+o.Name] = v
		case *corev1.ServiceAccount:
			c.accounts[o.Namespace+"/"+o.Name] = v
		}
	}
	for _, o := range objects {
		switch v := o.Value.(type) {
		case *appsv1.Deployment:
			c.checkDeployment(o, v)
		case *corev1.ServiceAccount:
			if v.AutomountServiceAccountToken == nil || *v.AutomountServiceAccountToken {
				c.fail(o, "automountServiceAccountToken must be false")
			}
		case *corev1.Service:
			c.checkService(o, v)
		case *corev1.Secret:
			c.checkSecret(o, v)
		case *autoscalingv2.HorizontalPodAutoscaler:
			c.checkHPA(o, v)
		case *policyv1.PodDisruptionBudget:
			c.checkPDB(o, v)
		case *PrometheusRule:
			c.checkPrometheusRule(o, v)
		}
	}
	for _, w := range c.workloads {
		c.checkWorkload(w)
	}
	return c.errs
}

func (c *checker) fail(o Object, format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("document %d (%s): %s", o.Doc, o.ID(), fmt.Sprintf(format, args...)))
}

func (c *checker) checkDeployment(o Object, d *appsv1.Deployment) {
	s := d.Spec.Strategy
	if s.Type != appsv1.RollingUpdateDeploymentStrategyType || s.RollingUpdate == nil ||
		s.RollingUpdate.MaxUnavailable == nil || !isZero(*s.RollingUpdate.MaxUnavailable) {
		c.fail(o, "strategy must be RollingUpdate with maxUnavailable 0")
	}
}

func isZero(v intstr.IntOrString) bool {
	if v.Type == intstr.Int {
		return v.IntVal == 0
	}
	return v.StrVal == "0" || v.StrVal == "0%"
}

func (c *checker) checkWorkload(w workload) {
	o, pod := w.object, &w.template.Spec
	selector, err := metav1.LabelSelectorAsSelector(w.selector)
	if err != nil || w.selector == nil || selector.Empty() {
		c.fail(o, "needs a non-empty selector")
	} else if !selector.Matches(labels.Set(w.template.Labels)) {
		c.fail(o, "selector does not match the pod template's labels")
	}

	if pod.ServiceAccountName == "" {
		c.fail(o, "serviceAccountName must name the workload's own ServiceAccount")
	} else if _, ok := c.accounts[o.Namespace+"/"+pod.ServiceAccountName]; !ok {
		c.fail(o, "ServiceAccount %q is not in the manifests", pod.ServiceAccountName)
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		c.fail(o, "pod automountServiceAccountToken must be false")
	}
	if len(pod.TopologySpreadConstraints) == 0 {
		c.fail(o, "needs topologySpreadConstraints")
	}

	for i := range pod.InitContainers {
		c.checkContainer(o, pod, &pod.InitContainers[i], false)
	}
	if len(pod.Containers) == 0 {
		c.fail(o, "has no containers")
	}
	for i := range pod.Containers {
		c.checkContainer(o, pod, &pod.Containers[i], true)
	}
	c.checkScrapeAnnotations(o, w.template)
}

func (c *checker) checkContainer(o Object, pod *corev1.PodSpec, ctr *corev1.Container, main bool) {
	where := fmt.Sprintf("container %q", ctr.Name)
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		request, hasRequest := ctr.Resources.Requests[name]
		limit, hasLimit := ctr.Resources.Limits[name]
		switch {
		case !hasRequest || !hasLimit || request.IsZero() || limit.IsZero():
			c.fail(o, "%s: needs a %s request and limit", where, name)
		case limit.Cmp(request) < 0:
			c.fail(o, "%s: %s limit %s is below its request %s", where, name, limit.String(), request.String())
		}
	}

	if main {
		probes := map[string]*corev1.Probe{
			"startupProbe": ctr.StartupProbe, "livenessProbe": ctr.LivenessProbe,
			"readinessProbe": ctr.ReadinessProbe,
		}
		for _, name := range []string{"startupProbe", "livenessProbe", "readinessProbe"} {
			probe := probes[name]
			if probe == nil {
				c.fail(o, "%s: needs a %s", where, name)
				continue
			}
			if msg := probePortProblem(probe, ctr); msg != "" {
				c.fail(o, "%s: %s %s", where, name, msg)
			}
		}
	}

	c.checkSecurityContext(o, where, pod.SecurityContext, ctr.SecurityContext)

	if msg := imageProblem(ctr.Image, c.opts.Pinned); msg != "" {
		c.fail(o, "%s: image %q %s", where, ctr.Image, msg)
	}

	if _, ours := apps[imageBase(ctr.Image)]; ours {
		c.checkShutdown(o, where, pod, ctr)
	}
}

// probePortProblem says what is wrong with the port a probe targets, or "".
func probePortProblem(p *corev1.Probe, ctr *corev1.Container) string {
	var port intstr.IntOrString
	switch {
	case p.HTTPGet != nil:
		port = p.HTTPGet.Port
	case p.TCPSocket != nil:
		port = p.TCPSocket.Port
	case p.GRPC != nil:
		port = intstr.FromInt32(p.GRPC.Port)
	case p.Exec != nil:
		if len(p.Exec.Command) == 0 {
			return "has an empty exec command"
		}
		return ""
	default:
		return "has no handler"
	}
	if !hasPort(ctr, port) {
		return fmt.Sprintf("targets port %s, which the container does not declare", port.String())
	}
	return ""
}

func hasPort(ctr *corev1.Container, port intstr.IntOrString) bool {
	for _, p := range ctr.Ports {
		if (port.Type == intstr.String && p.Name == port.StrVal) ||
			(port.Type == intstr.Int && p.ContainerPort == port.IntVal) {
			return true
		}
	}
	return false
}

func (c *checker) checkSecurityContext(o Object, where string, pod *corev1.PodSecurityContext,
	sc *corev1.SecurityContext) {
	if pod == nil {
		pod = &corev1.PodSecurityContext{}
	}
	if sc == nil {
		c.fail(o, "%s: needs a securityContext", where)
		sc = &corev1.SecurityContext{}
	}
	// Container settings override the pod's where both exist.
	nonRoot := first(sc.RunAsNonRoot, pod.RunAsNonRoot)
	if nonRoot == nil || !*nonRoot {
		c.fail(o, "%s: runAsNonRoot must be true", where)
	}
	if user := first(sc.RunAsUser, pod.RunAsUser); user == nil || *user != runAsUser {
		c.fail(o, "%s: runAsUser must be %d", where, runAsUser)
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		c.fail(o, "%s: readOnlyRootFilesystem must be true", where)
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		c.fail(o, "%s: allowPrivilegeEscalation must be false", where)
	}
	if sc.Privileged != nil && *sc.Privileged {
		c.fail(o, "%s: must not be privileged", where)
	}
	if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		c.fail(o, "%s: capabilities must drop ALL", where)
	} else if len(sc.Capabilities.Add) > 0 {
		c.fail(o, "%s: must add no capabilities", where)
	}
	seccomp := first(sc.SeccompProfile, pod.SeccompProfile)
	if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
		c.fail(o, "%s: seccompProfile must be RuntimeDefault", where)
	}
}

func first[T any](values ...*T) *T {
	for _, v := range values {
		if v != nil {
			return v
		}
	}
	return nil
}

// imageBase is the last element of an image's name: "ghcr.io/x/switchyard/gateway:v1" -> "gateway".
func imageBase(image string) string {
	name, _, _ := strings.Cut(image, "@")
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name = name[:i]
	}
	return path.Base(name)
}

// imageProblem says what is wrong with an image reference, or "".
func imageProblem(image string, pinned bool) string {
	if image == "" {
		return "is empty"
	}
	if strings.Contains(image, "@sha256:") {
		return ""
	}
	tag := ""
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		tag = image[i+1:]
	}
	switch {
	case tag == "":
		return "has no tag (that means :latest)"
	case tag == "latest":
		return "uses :latest"
	case pinned && slices.Contains(unpinnedTags, tag):
		return "must be pinned to a release tag or a digest here"
	}
	return ""
}

// checkShutdown: the pod must be given more time to stop than the process takes to drain and
// finish (DRAIN_DELAY_MS + SHUTDOWN_GRACE_MS), and the drain delay must be on.
func (c *checker) checkShutdown(o Object, where string, pod *corev1.PodSpec, ctr *corev1.Container) {
	env := c.resolveEnv(o, where, ctr)
	grace, err := envMillis(env, "SHUTDOWN_GRACE_MS", defaultShutdownGraceMs)
	if err != nil {
		c.fail(o, "%s: %v", where, err)
		return
	}
	drain, err := envMillis(env, "DRAIN_DELAY_MS", 0)
	if err != nil {
		c.fail(o, "%s: %v", where, err)
		return
	}
	if drain <= 0 {
		c.fail(o, "%s: DRAIN_DELAY_MS must be set above 0 (readiness fails before the listener closes)", where)
	}
	period := int64(corev1.DefaultTerminationGracePeriodSeconds)
	if pod.TerminationGracePeriodSeconds != nil {
		period = *pod.TerminationGracePeriodSeconds
	}
	if period*1000 <= drain+grace {
		c.fail(o, "%s: terminationGracePeriodSeconds %d must exceed DRAIN_DELAY_MS + SHUTDOWN_GRACE_MS = %d ms",
			where, period, drain+grace)
	}
}

// resolveEnv computes a container's literal environment from env and envFrom ConfigMaps.
func (c *checker) resolveEnv(o Object, where string, ctr *corev1.Container) map[string]string {
	env := map[string]string{}
	for _, from := range ctr.EnvFrom {
		if from.ConfigMapRef == nil {
			continue
		}
		cm, ok := c.configMaps[o.Namespace+"/"+from.ConfigMapRef.Name]
		if !ok {
			if from.ConfigMapRef.Optional == nil || !*from.ConfigMapRef.Optional {
				c.fail(o, "%s: envFrom ConfigMap %q is not in the manifests", where, from.ConfigMapRef.Name)
			}
			continue
		}
		for k, v := range cm.Data {
			env[from.Prefix+k] = v
		}
	}
	for _, e := range ctr.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			if cm, ok := c.configMaps[o.Namespace+"/"+ref.Name]; ok {
				env[e.Name] = cm.Data[ref.Key]
			} else if ref.Optional == nil || !*ref.Optional {
				c.fail(o, "%s: env %s: ConfigMap %q is not in the manifests", where, e.Name, ref.Name)
			}
		}
	}
	return env
}

func envMillis(env map[string]string, name string, fallback int64) (int64, error) {
	value, ok := env[name]
	if !ok {
		return fallback, nil
	}
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s=%q is not a number of milliseconds", name, value)
	}
	return n, nil
}

// checkScrapeAnnotations: pods of our binaries are scraped, on the port their METRICS_LISTEN
// names, which the container must declare.
func (c *checker) checkScrapeAnnotations(o Object, t *corev1.PodTemplateSpec) {
	for i := range t.Spec.Containers {
		ctr := &t.Spec.Containers[i]
		app, ours := apps[imageBase(ctr.Image)]
		if !ours {
			continue
		}
		a := t.Annotations
		if a["prometheus.io/scrape"] != "true" || a["prometheus.io/path"] != "/metrics" {
			c.fail(o, "pod template needs prometheus.io/scrape \"true\" and prometheus.io/path /metrics")
		}
		want := app.metricsPort
		if listen, ok := c.resolveEnvQuiet(o, ctr)["METRICS_LISTEN"]; ok {
			_, port, err := net.SplitHostPort(listen)
			n, convErr := strconv.ParseInt(port, 10, 32)
			if err != nil || convErr != nil {
				c.fail(o, "container %q: METRICS_LISTEN=%q is not host:port", ctr.Name, listen)
				continue
			}
			want = int32(n)
		}
		if a["prometheus.io/port"] != strconv.Itoa(int(want)) {
			c.fail(o, "prometheus.io/port is %q, but container %q serves metrics on %d",
				a["prometheus.io/port"], ctr.Name, want)
		}
		if !hasPort(ctr, intstr.FromInt32(want)) {
			c.fail(o, "container %q: metrics port %d is not declared", ctr.Name, want)
		}
	}
}

func (c *checker) resolveEnvQuiet(o Object, ctr *corev1.Container) map[string]string {
	saved := c.errs
	env := c.resolveEnv(o, "", ctr)
	c.errs = saved
	return env
}

// checkService: the selector reaches a workload, and each named target port exists there.
func (c *checker) checkService(o Object, s *corev1.Service) {
	if len(s.Spec.Selector) == 0 {
		return
	}
	selector := labels.SelectorFromSet(s.Spec.Selector)
	for _, w := range c.workloads {
		if w.object.Namespace != o.Namespace || !selector.Matches(labels.Set(w.template.Labels)) {
			continue
		}
		for _, port := range s.Spec.Ports {
			target := port.TargetPort
			if target.Type == intstr.Int && target.IntVal == 0 {
				target = intstr.FromInt32(port.Port)
			}
			found := false
			for i := range w.template.Spec.Containers {
				found = found || hasPort(&w.template.Spec.Containers[i], target)
			}
			if !found {
				c.fail(o, "port %q: target port %s is not declared by %s", port.Name, target.String(), w.object.ID())
			}
		}
		return
	}
	c.fail(o, "selector %v matches no workload in the manifests", s.Spec.Selector)
}

func (c *checker) checkSecret(o Object, s *corev1.Secret) {
	for key, value := range s.StringData {
		if value != secretPlaceholder {
			c.fail(o, "stringData.%s must be the placeholder %q: real secrets are created out of band", key, secretPlaceholder)
		}
	}
	for key, value := range s.Data {
		if string(value) != secretPlaceholder {
			c.fail(o, "data.%s must be the placeholder %q: real secrets are created out of band", key, secretPlaceholder)
		}
	}
}

func (c *checker) checkHPA(o Object, h *autoscalingv2.HorizontalPodAutoscaler) {
	ref := h.Spec.ScaleTargetRef
	found := false
	for _, w := range c.workloads {
		found = found || (w.object.Namespace == o.Namespace && w.object.Kind == ref.Kind &&
			w.object.Name == ref.Name && w.object.APIVersion == ref.APIVersion)
	}
	if !found {
		c.fail(o, "scaleTargetRef %s %s %s is not in the manifests", ref.APIVersion, ref.Kind, ref.Name)
	}
	if h.Spec.MinReplicas != nil && *h.Spec.MinReplicas > h.Spec.MaxReplicas {
		c.fail(o, "minReplicas %d is above maxReplicas %d", *h.Spec.MinReplicas, h.Spec.MaxReplicas)
	}
	if len(h.Spec.Metrics) == 0 {
		c.fail(o, "needs at least one metric")
	}
}

func (c *checker) checkPDB(o Object, p *policyv1.PodDisruptionBudget) {
	if (p.Spec.MinAvailable == nil) == (p.Spec.MaxUnavailable == nil) {
		c.fail(o, "set exactly one of minAvailable and maxUnavailable")
	}
	selector, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
	if err != nil || p.Spec.Selector == nil || selector.Empty() {
		c.fail(o, "needs a non-empty selector")
		return
	}
	for _, w := range c.workloads {
		if w.object.Namespace == o.Namespace && selector.Matches(labels.Set(w.template.Labels)) {
			return
		}
	}
	c.fail(o, "selector matches no workload in the manifests")
}

func (c *checker) checkPrometheusRule(o Object, r *PrometheusRule) {
	if len(r.Spec.Groups) == 0 {
		c.fail(o, "has no rule groups")
	}
	for _, g := range r.Spec.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			c.fail(o, "group %q needs a name and rules", g.Name)
		}
		for i, rule := range g.Rules {
			name := rule.Alert + rule.Record
			switch {
			case (rule.Alert == "") == (rule.Record == ""):
				c.fail(o, "group %q rule %d: set exactly one of alert and record", g.Name, i+1)
			case strings.TrimSpace(rule.Expr) == "":
				c.fail(o, "group %q rule %s: expr is empty", g.Name, name)
			case rule.Alert != "" && (rule.Labels["severity"] == "" || rule.Annotations["summary"] == ""):
				c.fail(o, "group %q alert %s: needs a severity label and a summary annotation", g.Name, name)
			}
		}
	}
}
