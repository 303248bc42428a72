package containerfile

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"pybuildah.dev/shim/internal/wire"
)

func TestDependenciesFollowTheStagesTheBuildRuns(t *testing.T) {
	file := filepath.Join(t.TempDir(), "Containerfile")
	text := "ARG BASE=docker.io/library/alpine:3\nFROM $BASE AS one\nRUN true\n" +
		"FROM one AS two\nARG V\nADD --checksum=sha256:abc https://example.com/t-${V}.tgz /t.tgz\nADD local.txt /l\n" +
		"COPY --from=docker.io/library/busybox:1 /bin/sh /sh\nCOPY --from=ctx x /x\nCOPY --from=one /a /a\n" +
		"FROM scratch AS skipped\nADD https://example.com/never /n\nFROM two AS final\nRUN true\n"
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := dependencies([]string{file}, map[string]string{"V": "9"}, "final", map[string]string{"ctx": "/x"})
	if err != nil {
		t.Fatal(err)
	}
	want := []wire.Dependency{
		{Kind: "image", Ref: "docker.io/library/alpine:3"},
		{Kind: "url", Ref: "https://example.com/t-9.tgz", Digest: "sha256:abc"},
		{Kind: "image", Ref: "docker.io/library/busybox:1"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("dependencies = %+v", got)
	}
	if got, _ := dependencies([]string{file}, nil, "one", nil); len(got) != 1 || got[0].Ref != "docker.io/library/alpine:3" {
		t.Errorf("through target one: %+v", got)
	}
}
