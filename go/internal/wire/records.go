package wire

import (
	"encoding/json"
	"time"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// StoreInfo describes an opened store (StoreOpen).
type StoreInfo struct {
	Handle  uint64            `json:"handle"`
	Root    string            `json:"root"`
	RunRoot string            `json:"runroot"`
	Driver  string            `json:"driver"`
	Sources map[string]string `json:"config_sources"`
	Scratch string            `json:"scratch"` // this process's scratch directory (store.Scratch)
}

// ContainerInfo describes a working container (NewBuilder, OpenBuilder,
// ListContainers; Handle only for the first two).
type ContainerInfo struct {
	Handle    uint64 `json:"handle,omitempty"`
	ID        string `json:"id"`
	Name      string `json:"name"`
	FromImage string `json:"from_image"`
	ImageID   string `json:"image_id"`
}

// ContainerConfig is what GetConfig returns.
type ContainerConfig struct {
	Cmd          []string          `json:"cmd"`
	Entrypoint   []string          `json:"entrypoint"`
	Env          []string          `json:"env"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	Ports        []string          `json:"ports"`
	User         string            `json:"user"`
	WorkDir      string            `json:"workdir"`
	Volumes      []string          `json:"volumes"`
	Shell        []string          `json:"shell"`
	StopSignal   string            `json:"stop_signal"`
	Author       string            `json:"author"`
	Architecture string            `json:"architecture"`
	OS           string            `json:"os"`
	OnBuild      []string          `json:"onbuild"`
	DomainName   string            `json:"domainname"`
	Healthcheck  *Healthcheck      `json:"healthcheck"` // null: none
}

// Healthcheck is the image's healthcheck as Buildah keeps it; durations in
// seconds.
type Healthcheck struct {
	Test          []string `json:"test"`
	Interval      float64  `json:"interval"`
	Timeout       float64  `json:"timeout"`
	StartPeriod   float64  `json:"start_period"`
	StartInterval float64  `json:"start_interval"`
	Retries       int      `json:"retries"`
}

// RunResult is what Run returns (a non-zero exit is a result, not an error).
type RunResult struct {
	ExitCode int    `json:"exit_code"`    // -N: killed by signal N
	Stdout   []byte `json:"stdout_bytes"` // raw bytes, base64 on the wire
	Stderr   []byte `json:"stderr_bytes"`
}

// CommitResult is what Commit returns.
type CommitResult struct {
	ID     string `json:"id"`
	Digest string `json:"digest"`
	Name   string `json:"name"`
	// Container is the working container's new ID when the commit first
	// made it from the step cache's last hit (CommitOptions.Entry).
	Container string `json:"container,omitempty"`
}

// ImageInfo is what Python's Image is built from.
type ImageInfo struct {
	ID           string            `json:"id"`
	Names        []string          `json:"names"`
	Digest       string            `json:"digest"`
	Digests      []string          `json:"digests"`
	Size         int64             `json:"size"`
	Created      time.Time         `json:"created"`
	Config       v1.ImageConfig    `json:"config"`
	History      []v1.History      `json:"history"`
	Layers       []string          `json:"layers"`
	OS           string            `json:"os"`
	Architecture string            `json:"architecture"`
	Annotations  map[string]string `json:"annotations"`
	ManifestType string            `json:"manifest_type"`
	Manifest     json.RawMessage   `json:"manifest"`
	OCIConfig    *v1.Image         `json:"oci_config"`
}

// RemovalReport is one image's part of RemoveImage's result.
type RemovalReport struct {
	ID       string   `json:"id"`
	Untagged []string `json:"untagged"`
	Removed  bool     `json:"removed"`
}

// PushResult is what Push returns.
type PushResult struct {
	Digest string `json:"digest"`
	Dest   string `json:"dest"`
}

// BuildResult is what Build returns.
type BuildResult struct {
	ID             string       `json:"id"`
	Steps          []BuildStep  `json:"steps"`                    // in stage order, then step order
	Dependencies   []Dependency `json:"dependencies,omitempty"`   // with Provenance
	Containerfiles []string     `json:"containerfiles,omitempty"` // with Provenance: the ones read
}

// Attachment is an artifact read back from a registry: its manifest and
// its content (FetchAttachment).
type Attachment struct {
	Manifest  string `json:"manifest"`
	MediaType string `json:"media_type"`
	Data      string `json:"data"`
}

// Dependency is something a build read from outside its contexts: a base
// image (kind "image", digest of the manifest used, per platform) or an
// ADD URL (kind "url", digest only when --checksum pinned it).
type Dependency struct {
	Kind     string `json:"kind"`
	Ref      string `json:"ref"`
	Digest   string `json:"digest,omitempty"`
	Platform string `json:"platform,omitempty"`
}

// BuildStep is one step of a Containerfile build, as Buildah reported it
// (internal/containerfile, steps.go).  Times are in seconds.
type BuildStep struct {
	Stage        string  `json:"stage"` // the stage's name, or its index as text
	StageIndex   int     `json:"stage_index"`
	Step         int     `json:"step"` // as numbered by the log's STEP lines: 1 is the FROM
	Kind         string  `json:"kind"` // the instruction in lower case: from, run, copy, ...
	Instruction  string  `json:"instruction"`
	CacheHit     bool    `json:"cache_hit"`
	Image        string  `json:"image"`        // the image committed (or reused) by the step, if any
	LayerDigest  string  `json:"layer_digest"` // the layer the step added (its diff ID), if any
	LayerSize    *int64  `json:"layer_size"`   // its uncompressed size; null without a layer
	Duration     float64 `json:"duration"`
	UserTime     float64 `json:"user_time"` // of the child processes that ended during the step
	SystemTime   float64 `json:"system_time"`
	ReadBytes    int64   `json:"read_bytes"`
	WrittenBytes int64   `json:"written_bytes"`
}

// ProgressEvent is the payload of a "progress" event (pull, push, save,
// load, commit).
type ProgressEvent struct {
	Event     string `json:"event"` // new, read, done, skipped
	Kind      string `json:"kind"`  // blob, config
	Digest    string `json:"digest"`
	MediaType string `json:"media_type,omitempty"`
	Size      int64  `json:"size"`   // -1 when unknown
	Offset    uint64 `json:"offset"` // bytes copied so far
}

// LogLine is the payload of a build's "log" event.
type LogLine struct {
	Kind string `json:"kind"` // stdout, stderr, report
	Line string `json:"line"`
}

// BuildErrorDetails are the "details" of BuildError and BuildCancelled.
type BuildErrorDetails struct {
	Stage       string `json:"stage,omitempty"`
	StageIndex  *int   `json:"stage_index,omitempty"`
	Step        int    `json:"step,omitempty"`
	Instruction string `json:"instruction,omitempty"`
	Line        int    `json:"line,omitempty"`
	File        string `json:"file,omitempty"`
	Signal      int    `json:"signal,omitempty"`
	Container   string `json:"container,omitempty"` // the failed stage's kept working container (keep_failed)
}

// Version is what PyBuildahVersion returns.
type Version struct {
	Buildah string `json:"buildah"`
	Go      string `json:"go"`
	Storage string `json:"storage,omitempty"`
}

// ManifestList is what ManifestInspect returns: the list's entries and, in
// Raw, the JSON that `buildah manifest inspect` prints.
type ManifestList struct {
	ID            string            `json:"id"`
	Name          string            `json:"name"`
	MediaType     string            `json:"media_type"`
	SchemaVersion int               `json:"schema_version"`
	Annotations   map[string]string `json:"annotations"`
	Entries       []ManifestEntry   `json:"entries"`
	Raw           json.RawMessage   `json:"raw"`
}

// ManifestEntry is one image of a manifest list.
type ManifestEntry struct {
	Digest       string            `json:"digest"`
	MediaType    string            `json:"media_type"`
	Size         int64             `json:"size"`
	OS           string            `json:"os"`
	Architecture string            `json:"architecture"`
	Variant      string            `json:"variant"`
	Annotations  map[string]string `json:"annotations"`
}

// ManifestChange is what ManifestAdd, ManifestAnnotate and ManifestRemove
// return: the list's ID and the entry's digest.
type ManifestChange struct {
	ID     string `json:"id"`
	Digest string `json:"digest"`
}

// PruneReport is what Prune returns: the IDs of the working containers and
// of the dangling images it removed.
type PruneReport struct {
	Containers []string `json:"containers"`
	Images     []string `json:"images"`
}

// StepLookup is a step's cache key and whether the store holds it: Hit is
// the entry's image ID, "" for a miss, and then Reason says why.
type StepLookup struct {
	Key    string          `json:"key"`
	Parent string          `json:"parent"`
	Hit    string          `json:"hit"`
	Reason string          `json:"reason"`
	Result json.RawMessage `json:"result"` // a run's RunResult, for a hit
}

// KeyPair is what GenerateSigstoreKeyPair returns: the paths it wrote.
type KeyPair struct {
	PrivateKey string `json:"private_key"`
	PublicKey  string `json:"public_key"`
}

// Change is one path a container changed, as podman diff lists it (Diff):
// Kind is "A" (added), "C" (changed) or "D" (deleted).
type Change struct {
	Path string `json:"path"`
	Kind string `json:"kind"`
}
