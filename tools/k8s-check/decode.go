package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// Object is one decoded document of a manifest stream.
type Object struct {
	Doc        int // 1-based position in the stream
	APIVersion string
	Kind       string
	Namespace  string
	Name       string
	Value      any // a pointer to the typed struct, e.g. *appsv1.Deployment
}

// ID names the object in messages: "Deployment switchyard/gateway".
func (o Object) ID() string {
	if o.Namespace == "" {
		return o.Kind + " " + o.Name
	}
	return o.Kind + " " + o.Namespace + "/" + o.Name
}

// kinds maps apiVersion + kind to a constructor of the typed struct it decodes into. Anything
// else is an error: an object we cannot check is an object we do not ship.
var kinds = map[string]func() any{
	"apps/v1/Deployment":                      func() any { return &appsv1.Deployment{} },
	"apps/v1/StatefulSet":                     func() any { return &appsv1.StatefulSet{} },
	"v1/Service":                              func() any { return &corev1.Service{} },
	"v1/ConfigMap":                            func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                               func() any { return &corev1.Secret{} },
	"v1/ServiceAccount":                       func() any { return &corev1.ServiceAccount{} },
	"v1/PersistentVolumeClaim":                func() any { return &corev1.PersistentVolumeClaim{} },
	"v1/Namespace":                            func() any { return &corev1.Namespace{} },
	"networking.k8s.io/v1/NetworkPolicy":      func() any { return &networkingv1.NetworkPolicy{} },
	"autoscaling/v2/HorizontalPodAutoscaler":  func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"policy/v1/PodDisruptionBudget":           func() any { return &policyv1.PodDisruptionBudget{} },
	"monitoring.coreos.com/v1/PrometheusRule": func() any { return &PrometheusRule{} },
}

// Decode reads a multi-document YAML stream and decodes every non-empty document strictly into
// its typed struct. It returns every problem it finds, not only the first.
func Decode(r io.Reader) ([]Object, []error) {
	var objects []Object
	var errs []error
	reader := utilyaml.NewYAMLReader(bufio.NewReader(r))
	for doc := 1; ; doc++ {
		raw, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("document %d: %w", doc, err))
			break
		}
		if isEmptyDocument(raw) {
			doc--
			continue
		}
		object, err := decodeDocument(raw)
		object.Doc = doc
		if err != nil {
			errs = append(errs, fmt.Errorf("document %d (%s): %w", doc, describe(object), err))
			continue
		}
		objects = append(objects, object)
	}
	return objects, errs
}

func describe(o Object) string {
	switch {
	case o.Kind == "":
		return "no kind"
	case o.Name == "":
		return o.APIVersion + " " + o.Kind
	default:
		return o.APIVersion + " " + o.ID()
	}
}

// isEmptyDocument is true for a document of only comments and blank lines.
func isEmptyDocument(raw []byte) bool {
	for _, line := range bytes.Split(raw, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) > 0 && line[0] != '#' && !bytes.Equal(line, []byte("---")) {
			return false
		}
	}
	return true
}

func decodeDocument(raw []byte) (Object, error) {
	// Duplicate keys are an error here already.
	data, err := yaml.YAMLToJSONStrict(raw)
	if err != nil {
		return Object{}, err
	}
	var head struct {
		metav1.TypeMeta `json:",inline"`
		Metadata        struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(data, &head); err != nil {
		return Object{}, fmt.Errorf("not a Kubernetes object: %w", err)
	}
	object := Object{
		APIVersion: head.APIVersion,
		Kind:       head.Kind,
		Namespace:  head.Metadata.Namespace,
		Name:       head.Metadata.Name,
	}
	if object.APIVersion == "" || object.Kind == "" {
		return object, errors.New("apiVersion and kind are required")
	}
	construct, ok := kinds[object.APIVersion+"/"+object.Kind]
	if !ok {
		return object, fmt.Errorf("unknown kind %s %s (known: apps/v1 Deployment, StatefulSet; v1 "+
			"Service, ConfigMap, Secret, ServiceAccount, PersistentVolumeClaim, Namespace; "+
			"networking.k8s.io/v1 NetworkPolicy; autoscaling/v2 HorizontalPodAutoscaler; "+
			"policy/v1 PodDisruptionBudget; monitoring.coreos.com/v1 PrometheusRule)",
			object.APIVersion, object.Kind)
	}
	if object.Name == "" {
		return object, errors.New("metadata.name is required")
	}
	object.Value = construct()
	// The API server's own strict decoding: field names are case-sensitive, and unknown or
	// duplicate fields are errors (encoding/json would accept "ContainerPort" or ignore typos).
	strict, err := kjson.UnmarshalStrict(data, object.Value,
		kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return object, err
	}
	if len(strict) > 0 {
		return object, errors.Join(strict...)
	}
	return object, nil
}
