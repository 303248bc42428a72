// Command validate checks Tekton Task and Pipeline manifests with Tekton's own Go types:
// each YAML document is decoded strictly into v1.Task or v1.Pipeline, defaulted with
// SetDefaults and checked with Validate, exactly as Tekton's admission webhook does.
//
// Usage: validate FILE...   (exit status 1 and the errors on stderr when any is invalid)
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"k8s.io/apimachinery/pkg/util/yaml"
	"knative.dev/pkg/apis"
	sigyaml "sigs.k8s.io/yaml"
)

type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

type validatable interface {
	SetDefaults(context.Context)
	Validate(context.Context) *apis.FieldError
}

func validateDocument(doc []byte) (string, error) {
	var meta typeMeta
	if err := sigyaml.Unmarshal(doc, &meta); err != nil {
		return "", err
	}
	if meta.APIVersion != "tekton.dev/v1" {
		return "", fmt.Errorf("apiVersion %q: only tekton.dev/v1 is checked", meta.APIVersion)
	}
	var object validatable
	switch meta.Kind {
	case "Task":
		object = &v1.Task{}
	case "Pipeline":
		object = &v1.Pipeline{}
	default:
		return "", fmt.Errorf("kind %q: only Task and Pipeline are checked", meta.Kind)
	}
	if err := sigyaml.UnmarshalStrict(doc, object); err != nil {
		return meta.Kind, err
	}
	ctx := context.Background()
	object.SetDefaults(ctx)
	if err := object.Validate(ctx); err != nil {
		return meta.Kind, err
	}
	return meta.Kind, nil
}

func validateFile(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	reader := yaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	count := 0
	var failures []error
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return count, err
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		count++
		kind, err := validateDocument(doc)
		if err != nil {
			failures = append(failures, fmt.Errorf("%s: document %d (%s): %w", path, count, kind, err))
		}
	}
	if count == 0 {
		failures = append(failures, fmt.Errorf("%s: no YAML documents", path))
	}
	return count, errors.Join(failures...)
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: validate FILE...")
		os.Exit(2)
	}
	failed := false
	for _, path := range os.Args[1:] {
		count, err := validateFile(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			failed = true
			continue
		}
		fmt.Printf("%s: %d valid\n", path, count)
	}
	if failed {
		os.Exit(1)
	}
}
