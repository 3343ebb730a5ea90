package main

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// PrometheusRule is the part of prometheus-operator's monitoring.coreos.com/v1 PrometheusRule
// that we write, typed so that strict decoding catches a misspelled field as it does for the
// built-in kinds. Field names follow the CRD's schema (which uses Prometheus's snake_case for
// the rule fields).
type PrometheusRule struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              PrometheusRuleSpec `json:"spec"`
}

// PrometheusRuleSpec holds the rule groups, as in a Prometheus rule file.
type PrometheusRuleSpec struct {
	Groups []RuleGroup `json:"groups"`
}

// RuleGroup is one group of rules evaluated together.
type RuleGroup struct {
	Name                    string            `json:"name"`
	Interval                string            `json:"interval,omitempty"`
	QueryOffset             string            `json:"query_offset,omitempty"`
	Limit                   *int              `json:"limit,omitempty"`
	PartialResponseStrategy string            `json:"partial_response_strategy,omitempty"`
	Labels                  map[string]string `json:"labels,omitempty"`
	Rules                   []Rule            `json:"rules"`
}

// Rule is an alerting rule (alert) or a recording rule (record).
type Rule struct {
	Record        string            `json:"record,omitempty"`
	Alert         string            `json:"alert,omitempty"`
	Expr          string            `json:"expr"`
	For           string            `json:"for,omitempty"`
	KeepFiringFor string            `json:"keep_firing_for,omitempty"`
	Labels        map[string]string `json:"labels,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}
