// Command openapi-check validates an OpenAPI 3 document with kin-openapi: it loads the document
// (resolving every $ref) and runs the library's full validation, reporting every problem found.
//
//	openapi-check [FILE]    # FILE or "-" (the default) for stdin
//
// Prints "ok" and exits 0 for a valid document; otherwise prints the problems to stderr and exits
// 1 (2 for a usage error or an unreadable file).
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/getkin/kin-openapi/openapi3"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 1 || (len(args) == 1 && (args[0] == "-h" || args[0] == "--help")) {
		fmt.Fprintln(stderr, "usage: openapi-check [FILE|-]")
		return 2
	}
	name := "-"
	if len(args) == 1 {
		name = args[0]
	}
	data, err := read(name, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "openapi-check: %v\n", err)
		return 2
	}
	if problems := check(data); len(problems) > 0 {
		for _, problem := range problems {
			fmt.Fprintf(stderr, "%s: %s\n", name, problem)
		}
		return 1
	}
	fmt.Fprintln(stdout, "ok")
	return 0
}

func read(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(name)
}

// check returns every problem kin-openapi finds in the document, or none.
func check(data []byte) []string {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return []string{"load: " + err.Error()}
	}
	if doc.OpenAPI == "" {
		return []string{`not an OpenAPI 3 document: no "openapi" field`}
	}
	return flatten(doc.Validate(context.Background(), openapi3.EnableMultiError()), nil)
}

// flatten appends one line per error of err (a MultiError holds several) to problems.
func flatten(err error, problems []string) []string {
	if err == nil {
		return problems
	}
	if multi, ok := err.(openapi3.MultiError); ok {
		for _, one := range multi {
			problems = flatten(one, problems)
		}
		return problems
	}
	return append(problems, err.Error())
}
