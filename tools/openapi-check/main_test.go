package main

import (
	"bytes"
	"strings"
	"testing"
)

const validDoc = `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/a/{id}":{"get":{
  "operationId":"A_Get","parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"string"}}],
  "responses":{"200":{"description":"ok"}}}}}}`

func TestValidDocumentPrintsOk(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(nil, strings.NewReader(validDoc), &out, &errOut); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	if out.String() != "ok\n" {
		t.Fatalf("stdout %q, want ok", out.String())
	}
}

func TestInvalidDocumentsFail(t *testing.T) {
	cases := map[string]struct{ doc, want string }{
		"undeclared path parameter": {
			strings.Replace(validDoc, `"name":"id"`, `"name":"other"`, 1), "other"},
		"dangling ref": {
			strings.Replace(validDoc, `{"type":"string"}`, `{"$ref":"#/components/schemas/Nope"}`, 1), "Nope"},
		"missing info": {`{"openapi":"3.0.3","paths":{}}`, "info"},
		"not json":     {`{"openapi":`, "load"},
		"not openapi":  {`{}`, "openapi"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run([]string{"-"}, strings.NewReader(c.doc), &out, &errOut); code != 1 {
				t.Fatalf("exit %d, want 1; stderr %q", code, errOut.String())
			}
			if out.Len() != 0 || !strings.Contains(errOut.String(), c.want) {
				t.Fatalf("stdout %q, stderr %q: want a problem naming %q", out.String(), errOut.String(), c.want)
			}
		})
	}
}
