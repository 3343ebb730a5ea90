package main

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

func readGood(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("testdata/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// decodeAndCheck runs both stages as the command does.
func decodeAndCheck(manifest string, opts Options) ([]Object, error) {
	objects, errs := Decode(strings.NewReader(manifest))
	if len(errs) == 0 {
		errs = Check(objects, opts)
	}
	return objects, errors.Join(errs...)
}

func TestGoodManifestPasses(t *testing.T) {
	objects, err := decodeAndCheck(readGood(t), Options{Pinned: true})
	if err != nil {
		t.Fatalf("want no problems, got:\n%v", err)
	}
	if len(objects) != 6 {
		t.Errorf("want 6 objects, got %d", len(objects))
	}
}

// Each case breaks the good manifest in one place; the problem must be reported, naming it.
func TestBrokenManifestsFail(t *testing.T) {
	cases := []struct {
		name, old, new string
		pinned         bool
		want           string
	}{
		{"misspelled field", "containerPort: 50051", "containerPorts: 50051", false,
			`unknown field "spec.template.spec.containers[0].ports[0].containerPorts"`},
		{"wrongly cased field", "readOnlyRootFilesystem: true", "readOnlyRootFileSystem: true", false,
			`unknown field "spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem"`},
		{"misspelled field in a PrometheusRule", "for: 5m", "fro: 5m", false,
			`unknown field "spec.groups[0].rules[0].fro"`},
		{"duplicate key", "  replicas: 1\n", "  replicas: 1\n  replicas: 2\n", false,
			`"replicas" already set`},
		{"unknown kind", "kind: PodDisruptionBudget", "kind: PodDisruptionBudgets", false,
			"unknown kind policy/v1 PodDisruptionBudgets"},
		{"old apiVersion", "apiVersion: policy/v1\n", "apiVersion: policy/v1beta1\n", false,
			"unknown kind policy/v1beta1 PodDisruptionBudget"},
		{"no resources", "          resources:\n            requests: {cpu: 100m, memory: 64Mi}\n            limits: {cpu: \"1\", memory: 256Mi}\n", "", false,
			`container "user-service": needs a cpu request and limit`},
		{"no readiness probe", "          readinessProbe:\n            grpc: {port: 50051}\n", "", false,
			`container "user-service": needs a readinessProbe`},
		{"probe on an undeclared port", "tcpSocket: {port: grpc}", "tcpSocket: {port: http}", false,
			"livenessProbe targets port http, which the container does not declare"},
		{"root user", "runAsUser: 10001", "runAsUser: 0", false, "runAsUser must be 10001"},
		{"writable root filesystem", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", false,
			"readOnlyRootFilesystem must be true"},
		{"capabilities kept", "drop: [ALL]", "drop: [NET_RAW]", false, "capabilities must drop ALL"},
		{"latest image", "user-service:v1.2.3", "user-service:latest", false, "uses :latest"},
		{"untagged image", "user-service:v1.2.3", "user-service", false, "has no tag"},
		{"local image where pinned", "user-service:v1.2.3", "user-service:local", true,
			"must be pinned to a release tag or a digest"},
		{"grace period too short", "terminationGracePeriodSeconds: 40", "terminationGracePeriodSeconds: 25", false,
			"terminationGracePeriodSeconds 25 must exceed DRAIN_DELAY_MS + SHUTDOWN_GRACE_MS = 25000 ms"},
		{"no drain delay", "  DRAIN_DELAY_MS: \"5000\"\n", "", false, "DRAIN_DELAY_MS must be set above 0"},
		{"maxUnavailable above 0", "maxUnavailable: 0", "maxUnavailable: 1", false,
			"strategy must be RollingUpdate with maxUnavailable 0"},
		{"token mounted", "automountServiceAccountToken: false\n---", "automountServiceAccountToken: true\n---", false,
			"ServiceAccount test/user-service): automountServiceAccountToken must be false"},
		{"wrong scrape port", `prometheus.io/port: "9091"`, `prometheus.io/port: "9090"`, false,
			`prometheus.io/port is "9090", but container "user-service" serves metrics on 9091`},
		{"service selects nothing", "  selector:\n    app: user-service\n  ports:", "  selector:\n    app: users\n  ports:", false,
			"matches no workload"},
		{"missing ConfigMap", "configMapRef:\n                name: user-service", "configMapRef:\n                name: user-services", false,
			`envFrom ConfigMap "user-services" is not in the manifests`},
	}
	good := readGood(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(good, tc.old) {
				t.Fatalf("test is stale: %q is not in testdata/good.yaml", tc.old)
			}
			_, err := decodeAndCheck(strings.Replace(good, tc.old, tc.new, 1), Options{Pinned: tc.pinned})
			if err == nil {
				t.Fatalf("want a problem containing %q, got none", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("want a problem containing %q, got:\n%v", tc.want, err)
			}
		})
	}
}

func TestSecretMustHoldThePlaceholder(t *testing.T) {
	secret := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: redis-auth\nstringData:\n  REDIS_PASSWORD: %s\n"
	if _, err := decodeAndCheck(strings.Replace(secret, "%s", "CHANGE-ME", 1), Options{}); err != nil {
		t.Errorf("placeholder: want no problems, got %v", err)
	}
	_, err := decodeAndCheck(strings.Replace(secret, "%s", "hunter2", 1), Options{})
	if err == nil || !strings.Contains(err.Error(), `must be the placeholder "CHANGE-ME"`) {
		t.Errorf("real value: want the placeholder problem, got %v", err)
	}
}

func TestDigestPinnedImagePasses(t *testing.T) {
	digest := "user-service@sha256:" + strings.Repeat("ab", 32)
	manifest := strings.Replace(readGood(t), "user-service:v1.2.3", digest, 1)
	if _, err := decodeAndCheck(manifest, Options{Pinned: true}); err != nil {
		t.Errorf("want no problems, got %v", err)
	}
}

func TestCommandExitStatus(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-pinned", "testdata/good.yaml"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("good manifest: exit %d, stderr:\n%s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "ok, 6 objects") {
		t.Errorf("want a summary line, got %q", out.String())
	}
	broken := strings.Replace(readGood(t), "image:", "imag:", 1)
	out.Reset()
	errOut.Reset()
	if code := run([]string{"-label", "broken", "-"}, strings.NewReader(broken), &out, &errOut); code != 1 {
		t.Fatalf("broken manifest: want exit 1, got %d", code)
	}
	if !strings.Contains(errOut.String(), `broken: document 4 (apps/v1 Deployment test/user-service): unknown field "spec.template.spec.containers[0].imag"`) {
		t.Errorf("want the problem located, got:\n%s", errOut.String())
	}
	if code := run(nil, nil, &out, &errOut); code != 2 {
		t.Errorf("no arguments: want exit 2, got %d", code)
	}
}
