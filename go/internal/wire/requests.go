package wire

import (
	"encoding/json"
	"errors"
)

// Creds are registry credentials as "user:password", parsed in one place
// (sysctx.ParseCreds), never echoed in a message.
type Creds string

// RegistryOptions are the TLS, credential, retry and timeout options of
// every call that may talk to a registry; sysctx.ForRegistry is their one
// reader.  Timeout is the idle timeout of each connection (null: the default).
type RegistryOptions struct {
	TLSVerify *bool    `json:"tls_verify"`
	CertDir   string   `json:"cert_dir" wire:"nonempty"`
	AuthFile  string   `json:"authfile" wire:"nonempty"`
	Creds     *Creds   `json:"creds"`
	Retries   *int     `json:"retries"`
	Timeout   *Seconds `json:"timeout"`
	// SignaturePolicy replaces the store's policy.json for this call
	// (buildah's --signature-policy): a path, or the policy itself.
	SignaturePolicy *Policy `json:"signature_policy"`
}

// Policy is a signature policy: a JSON string names a policy.json file, a
// JSON object is the policy itself (signing.PolicyPath reads both).
type Policy struct {
	Path   string
	Inline json.RawMessage
}

// UnmarshalJSON reads a string into Path and an object into Inline.
func (p *Policy) UnmarshalJSON(data []byte) error {
	if err := json.Unmarshal(data, &p.Path); err == nil {
		return nil
	}
	var object map[string]json.RawMessage
	if err := json.Unmarshal(data, &object); err != nil {
		return errors.New("a signature policy is a path or a JSON object")
	}
	p.Inline = append(json.RawMessage(nil), data...)
	return nil
}

// InitOptions configure the re-exec helpers and logging (InitReexec).
type InitOptions struct {
	Helper      string `json:"helper"`
	LightHelper string `json:"light_helper"`
	LogStream   uint64 `json:"log_stream"`
	LogLevel    string `json:"log_level"`
}

// StoreOptions open a store (StoreOpen).
type StoreOptions struct {
	CallRef                        // waiting for the store's lock can be cancelled
	Root                  string   `json:"root" wire:"nonempty"`
	RunRoot               string   `json:"runroot" wire:"nonempty"`
	Driver                string   `json:"driver" wire:"nonempty"`
	Options               []string `json:"options" wire:"nonempty"`
	AdditionalImageStores []string `json:"additional_image_stores" wire:"nonempty"`
	SignaturePolicy       *Policy  `json:"signature_policy"` // the store's policy.json instead of the host's
}

// SyncEnvOptions copy environment variables from Python; null unsets.
type SyncEnvOptions struct {
	Env map[string]*string `json:"env"`
}

// NewBuilderOptions make a working container (NewBuilder).
type NewBuilderOptions struct {
	StoreRef
	CallRef
	RegistryOptions
	FromImage string `json:"from_image" wire:"required"`
	Name      string `json:"name" wire:"nonempty"`
	Isolation string `json:"isolation" wire:"nonempty"`
	Pull      string `json:"pull" wire:"nonempty"`
	Format    string `json:"format" wire:"nonempty"`
	Platform  string `json:"platform"` // os/arch[/variant]; "" is the host's
}

// OpenBuilderOptions reattach to a working container (OpenBuilder).
type OpenBuilderOptions struct {
	StoreRef
	Name string `json:"name" wire:"required"`
}

// AddOptions copy or add sources into a working container (Add).
type AddOptions struct {
	BuilderRef
	CallRef              // URL sources: the download can be cancelled
	Sources     []Path   `json:"sources" wire:"required"`
	Destination string   `json:"destination" wire:"required"`
	Extract     bool     `json:"extract"`
	Chown       string   `json:"chown" wire:"nonempty"`
	Chmod       string   `json:"chmod" wire:"nonempty"`
	FromBuilder uint64   `json:"from_builder"`
	FromImage   string   `json:"from_image" wire:"nonempty"`
	Excludes    []string `json:"excludes" wire:"nonempty"`
	Parents     bool     `json:"parents"`                  // as COPY --parents
	Checksum    string   `json:"checksum" wire:"nonempty"` // digest of URL sources, as --checksum
	Timeout     *Seconds `json:"timeout"`                  // idle timeout of URL downloads (null: the default)
}

// SourceBuilderHandle is the working container copied from, if any.
func (o AddOptions) SourceBuilderHandle() uint64 { return o.FromBuilder }

// ConfigChange carries the config fields to change (Configure); absent
// fields stay.  Its json names are the one list of settable config fields:
// Configure refuses any other.
type ConfigChange struct {
	BuilderRef
	Cmd            *Words             `json:"cmd"`
	Entrypoint     *Words             `json:"entrypoint"`
	Env            map[string]*string `json:"env"` // null value unsets
	Labels         map[string]*string `json:"labels"`
	Annotations    map[string]*string `json:"annotations"`
	Ports          []string           `json:"ports" wire:"nonempty"`
	User           *string            `json:"user" wire:"nonempty"`
	WorkDir        *string            `json:"workdir" wire:"nonempty"`
	Volumes        []string           `json:"volumes" wire:"nonempty"`
	Shell          *Words             `json:"shell"`
	StopSignal     *string            `json:"stop_signal" wire:"nonempty"`
	Author         *string            `json:"author"`
	Architecture   *string            `json:"architecture" wire:"nonempty"`
	OS             *string            `json:"os" wire:"nonempty"`
	CreatedBy      *string            `json:"created_by"`
	HistoryComment *string            `json:"history_comment"`
	UnsetPorts     []string           `json:"unset_ports" wire:"nonempty"`
	UnsetVolumes   []string           `json:"unset_volumes" wire:"nonempty"`
	OnBuild        []string           `json:"onbuild" wire:"nonempty"`
	DomainName     *string            `json:"domainname"`
	Healthcheck    *HealthcheckChange `json:"healthcheck"`
}

// Words is a command, an entrypoint, a shell or a healthcheck test: a JSON
// list of strings, taken as it is, or one string (Spec), which Configure
// parses as buildah config parses its flag (internal/builder.words).
type Words struct {
	List []string
	Spec *string
}

// UnmarshalJSON reads a string into Spec and anything else into List.
func (w *Words) UnmarshalJSON(data []byte) error {
	var spec string
	if err := json.Unmarshal(data, &spec); err == nil {
		w.Spec = &spec
		return nil
	}
	return json.Unmarshal(data, &w.List)
}

// HealthcheckChange changes the healthcheck as buildah config's
// --healthcheck* flags do: absent fields keep their values (or Buildah's
// defaults when there was no healthcheck); an empty test removes it.
// Durations are Go duration strings ("30s", "1m30s").
type HealthcheckChange struct {
	Test          *Words  `json:"test"`
	Interval      *string `json:"interval"`
	Timeout       *string `json:"timeout"`
	StartPeriod   *string `json:"start_period"`
	StartInterval *string `json:"start_interval"`
	Retries       *int    `json:"retries"`
}

// SetCmdOptions set the default command (SetCmd), as Configure's cmd does.
type SetCmdOptions struct {
	BuilderRef
	Cmd []string `json:"cmd" wire:"required"`
}

// Change is the Configure change that SetCmd makes.
func (o SetCmdOptions) Change() ConfigChange {
	return ConfigChange{BuilderRef: o.BuilderRef, Cmd: &Words{List: o.Cmd}}
}

// RunOptions run a command in a working container (Run): exactly one of
// Command and Shell (run as /bin/sh -c).
type RunOptions struct {
	BuilderRef
	CallRef
	Command []string          `json:"command"`
	Shell   *string           `json:"shell"`
	Env     map[string]string `json:"env"` // NAME -> VALUE (validate.Environment)
	WorkDir string            `json:"workdir" wire:"nonempty"`
	User    string            `json:"user" wire:"nonempty"`
	Stream  uint64            `json:"stream"`
	// As buildah run --hostname, --cap-add and --cap-drop.
	Hostname string   `json:"hostname" wire:"nonempty"`
	CapAdd   []string `json:"cap_add"`
	CapDrop  []string `json:"cap_drop"`
	Volumes  []string `json:"volumes"` // HOST:CONTAINER[:OPTIONS], as buildah run -v (internal/volumes)
	// As buildah run --network and --mount; InputFD is a file descriptor
	// of the caller's holding the command's stdin, read during the call: a
	// regular file (a memfd) from its offset, or a pipe until its end;
	// Timeout kills the command after that many seconds.
	Network string   `json:"network" wire:"nonempty"`
	Mounts  []string `json:"mounts" wire:"nonempty"`
	InputFD *int     `json:"input_fd"`
	Timeout *Seconds `json:"timeout"`
}

// CommitOptions write a working container as an image (Commit).
type CommitOptions struct {
	BuilderRef
	CallRef
	RegistryOptions
	Destination string `json:"destination" wire:"nonempty"`
	Format      string `json:"format" wire:"nonempty"`
	Squash      bool   `json:"squash"`
	Compression string `json:"compression" wire:"nonempty"`
	// ForceCompression recompresses blobs the destination holds in another
	// compression (absent: whenever a compression is given, as buildah's).
	ForceCompression *bool  `json:"force_compression"`
	Timestamp        *int64 `json:"timestamp"`
	// SourceDateEpoch is $SOURCE_DATE_EPOCH as Python saw it (buildah
	// commit reads the same variable); Timestamp, if given, wins.
	SourceDateEpoch string `json:"source_date_epoch" wire:"nonempty"`
	Stream          uint64 `json:"stream"`
	// Entry is the step cache's last hit, not yet in the working container:
	// the commit is made on it without a container when it can be made
	// identical, else the container is first made from it (Rebase).
	Entry string `json:"entry" wire:"nonempty"`
}

// ImageRefOptions name one image in the store.
type ImageRefOptions struct {
	StoreRef
	Ref string `json:"ref" wire:"required"`
}

// InspectOptions name one image, local or behind a transport, to inspect
// (InspectImage, InspectBuildInfo); a registry look-up is cancellable.
type InspectOptions struct {
	StoreRef
	CallRef
	RegistryOptions        // for references to registries
	Ref             string `json:"ref" wire:"required"`
}

// TagOptions add or remove names (TagImage, UntagImage).
type TagOptions struct {
	ImageRefOptions
	Names []string `json:"names" wire:"required"`
}

// RemoveOptions remove an image (RemoveImage).
type RemoveOptions struct {
	ImageRefOptions
	Force bool `json:"force"`
}

// SaveOptions write an image to an archive or directory (SaveImage).
type SaveOptions struct {
	ImageRefOptions
	Path   Path   `json:"path" wire:"required"`
	Format string `json:"format" wire:"nonempty"`
	Stream uint64 `json:"stream"`
}

// LoadOptions read images from an archive or directory (LoadImage).
type LoadOptions struct {
	StoreRef
	Path   Path   `json:"path" wire:"required"`
	Stream uint64 `json:"stream"`
}

// PullOptions copy an image into the store (Pull).
type PullOptions struct {
	StoreRef
	CallRef
	RegistryOptions
	Ref          string `json:"ref" wire:"required"`
	AllTags      bool   `json:"all_tags"`
	Policy       string `json:"policy" wire:"nonempty"`
	Platform     string `json:"platform"`      // os/arch[/variant]; "" is the host's
	AllPlatforms bool   `json:"all_platforms"` // a manifest list and every image it lists
	Stream       uint64 `json:"stream"`
}

// PushOptions copy an image out of the store (Push).
type PushOptions struct {
	StoreRef
	CallRef
	RegistryOptions
	Image       string `json:"image" wire:"required"`
	Dest        string `json:"dest" wire:"required"`
	Format      string `json:"format" wire:"nonempty"`
	Compression string `json:"compression" wire:"nonempty"`
	Level       *int   `json:"compression_level"`
	// ForceCompression: as CommitOptions'.
	ForceCompression *bool  `json:"force_compression"`
	All              *bool  `json:"all"` // for a manifest list: its images too (absent: true)
	Stream           uint64 `json:"stream"`
	Signing
}

// Signing signs what a push writes (buildah push --sign-by,
// --sign-by-sigstore-private-key, --sign-passphrase-file).  The passphrase
// is a secret: scrubbed from every message.
type Signing struct {
	SignBy            string  `json:"sign_by" wire:"nonempty"`
	SignBySigstoreKey Path    `json:"sign_by_sigstore_key" wire:"nonempty"`
	SignPassphrase    *string `json:"sign_passphrase"`
}

// KeyPairOptions make a sigstore key pair (GenerateSigstoreKeyPair):
// Directory/Name.private (mode 0600, encrypted with Passphrase) and
// Directory/Name.pub; existing files are never replaced.
type KeyPairOptions struct {
	Directory  Path   `json:"directory" wire:"required"`
	Name       string `json:"name" wire:"required"`
	Passphrase string `json:"passphrase"`
}

// AttachmentOptions read (or, with data, set) an attachment of an image in
// the store (ImageAttachment): kind is "provenance" (later "sbom").
type AttachmentOptions struct {
	StoreRef
	Image string  `json:"image" wire:"required"`
	Kind  string  `json:"kind" wire:"required"`
	Data  *string `json:"data"`
}

// AttachPushOptions push an artifact whose subject is the image at Ref,
// repository@digest (AttachPush).
type AttachPushOptions struct {
	StoreRef
	CallRef
	RegistryOptions
	Ref          string            `json:"ref" wire:"required"`
	ArtifactType string            `json:"artifact_type" wire:"required"`
	MediaType    string            `json:"media_type" wire:"required"`
	Data         string            `json:"data"`
	Annotations  map[string]string `json:"annotations"`
}

// ReferrersOptions list the artifacts naming the image at Ref,
// repository@digest, as their subject (Referrers).
type ReferrersOptions struct {
	StoreRef
	CallRef
	RegistryOptions
	Ref          string `json:"ref" wire:"required"`
	ArtifactType string `json:"artifact_type" wire:"nonempty"`
}

// FetchAttachmentOptions read the artifact at Ref, repository@digest,
// which must name Subject when given (FetchAttachment).
type FetchAttachmentOptions struct {
	StoreRef
	CallRef
	RegistryOptions
	Ref     string `json:"ref" wire:"required"`
	Subject string `json:"subject" wire:"nonempty"`
}

// LoginOptions check and store credentials (Login); the store is optional.
type LoginOptions struct {
	StoreRef
	CallRef
	RegistryOptions
	Registry string `json:"registry" wire:"required"`
}

// LogoutOptions remove stored credentials (Logout); the store is optional.
type LogoutOptions struct {
	StoreRef
	Registry string `json:"registry" wire:"nonempty"`
	AuthFile string `json:"authfile" wire:"nonempty"`
	All      bool   `json:"all"`
}

// BuildOptions build Containerfiles (Build).
type BuildOptions struct {
	StoreRef
	CallRef
	RegistryOptions // every pull the build makes (FROM, COPY --from=image)

	Context        string            `json:"context" wire:"required"`
	Containerfiles []string          `json:"containerfiles" wire:"nonempty"`
	Tags           []string          `json:"tags" wire:"nonempty"`
	Target         string            `json:"target" wire:"nonempty"`
	BuildArgs      map[string]string `json:"build_args"`
	Labels         []string          `json:"labels"`      // NAME=VALUE
	Annotations    []string          `json:"annotations"` // NAME=VALUE
	Isolation      string            `json:"isolation" wire:"nonempty"`
	Layers         bool              `json:"layers"`
	NoCache        bool              `json:"no_cache"`
	Pull           string            `json:"pull" wire:"nonempty"`
	Squash         bool              `json:"squash"`
	Format         string            `json:"format" wire:"nonempty"`
	Timestamp      *int64            `json:"timestamp"`
	Jobs           *int              `json:"jobs"` // absent: 1
	Stream         uint64            `json:"stream"`
	Platforms      []string          `json:"platforms"` // os/arch[/variant] each; none: the host's
	Manifest       string            `json:"manifest"`  // the manifest list each platform's image is added to

	// buildah build's --secret, --build-context, --output,
	// --source-date-epoch and --rewrite-timestamp.
	Secrets          []string          `json:"secrets"` // id=X,src=PATH or id=X,env=NAME
	BuildContexts    map[string]string `json:"build_contexts"`
	Outputs          []string          `json:"outputs"` // type=local|tar,dest=PATH
	SourceDateEpoch  *int64            `json:"source_date_epoch"`
	EpochFromEnv     string            `json:"source_date_epoch_env"` // $SOURCE_DATE_EPOCH as the caller's process has it
	RewriteTimestamp bool              `json:"rewrite_timestamp"`

	// RUN steps: buildah build's --network, --cap-add, --cap-drop,
	// --volume, --ulimit, --add-host; and --env for the image.
	Network  string            `json:"network"`
	CapAdd   []string          `json:"cap_add"`
	CapDrop  []string          `json:"cap_drop"`
	Volumes  []string          `json:"volumes"`   // HOST:CONTAINER[:OPTIONS]
	Ulimits  []string          `json:"ulimits"`   // TYPE=SOFT[:HARD]
	AddHosts []string          `json:"add_hosts"` // NAME:IP
	Env      map[string]string `json:"env"`       // NAME -> VALUE (validate.Environment)

	CacheFrom []string `json:"cache_from"` // repositories (--cache-from, --cache-to)
	CacheTo   []string `json:"cache_to"`
	SSH       []string `json:"ssh"` // ID[=SOCKET|KEY[,KEY...]] (--ssh)

	// KeepFailed keeps the failing stage's working container; the error names it.
	KeepFailed bool `json:"keep_failed"`
	// Provenance asks for the build's outside dependencies in the result.
	Provenance bool `json:"provenance"`
}

// CancelOptions name a running call (Cancel).
type CancelOptions struct {
	CallID uint64 `json:"call_id"`
}

// ManifestOptions name a manifest list in the store (ManifestCreate,
// ManifestDelete).
type ManifestOptions struct {
	StoreRef
	List string `json:"list"`
}

// ManifestInspectOptions name a manifest list in the store or behind a
// transport (ManifestInspect).
type ManifestInspectOptions struct {
	StoreRef
	CallRef                // Python cancels the inspection of a list in a registry
	RegistryOptions        // inspecting a list in a registry
	List            string `json:"list"`
}

// ManifestAddOptions add an image to a manifest list (ManifestAdd); the
// platform fields and annotations override what the image says.
type ManifestAddOptions struct {
	StoreRef
	CallRef
	RegistryOptions
	List  string `json:"list"`
	Image string `json:"image"`
	All   bool   `json:"all"` // every image of a list being added
	EntryPlatform
}

// EntryPlatform overrides what an image says of its platform, and adds
// annotations, in a manifest list's entry (manifest add and annotate).
type EntryPlatform struct {
	OS          string            `json:"os"`
	Arch        string            `json:"arch"`
	Variant     string            `json:"variant"`
	Annotations map[string]string `json:"annotations"`
}

// ManifestAnnotateOptions change one entry of a manifest list, or the list
// itself without Instance (ManifestAnnotate).
type ManifestAnnotateOptions struct {
	StoreRef
	List     string `json:"list"`
	Instance string `json:"instance"` // a digest or an image
	EntryPlatform
}

// ManifestRemoveOptions remove an entry from a manifest list (ManifestRemove).
type ManifestRemoveOptions struct {
	StoreRef
	List     string `json:"list"`
	Instance string `json:"instance"` // a digest or an image
}

// ManifestPushOptions push a manifest list (ManifestPush).
type ManifestPushOptions struct {
	StoreRef
	CallRef
	RegistryOptions
	List   string `json:"list"`
	Dest   string `json:"dest"`
	All    bool   `json:"all"` // the images too, not only the list (true in Python)
	Format string `json:"format"`
	// Compression, Level and ForceCompression: as PushOptions'.
	Compression      string `json:"compression" wire:"nonempty"`
	Level            *int   `json:"compression_level"`
	ForceCompression *bool  `json:"force_compression"`
	Signing
}

// ListOptions list images or working containers (ListImages,
// ListContainers): filters as `buildah images --filter` and `buildah
// containers --filter` take them, "key=value" each.
type ListOptions struct {
	StoreRef
	CallRef          // waiting for the store's lock can be cancelled
	Filters []string `json:"filters" wire:"nonempty"`
}

// StepOptions describe one step of a Builder with the step cache on
// (StepLookup): its kind and arguments as Python normalised them, the
// local files it reads, and the key of the step before (none for the
// first step, whose parent is derived from Base, the base image's ID).
type StepOptions struct {
	BuilderRef
	Parent  string         `json:"parent" wire:"nonempty"`
	Base    string         `json:"base"`
	Kind    string         `json:"kind" wire:"required"`
	Args    map[string]any `json:"args"`
	Sources []Path         `json:"sources"` // local inputs, hashed
	Parents bool           `json:"parents"` // as COPY --parents: files land under the part after "/./"
}

// StepSaveOptions keep the working container's state as the cache entry of
// the step StepLookup last looked up on this handle (StepSave).
type StepSaveOptions struct {
	BuilderRef
	CallRef                   // a large layer's commit stops on Ctrl-C
	Key       string          `json:"key" wire:"required"`
	CreatedBy string          `json:"created_by"` // the entry's history text
	Result    json.RawMessage `json:"result"`     // a run's RunResult, returned by later hits
}

// RebaseOptions move a working container onto an image that holds its
// content (a cache entry), keeping its configuration (Rebase).
type RebaseOptions struct {
	BuilderRef
	Image string `json:"image" wire:"required"`
}

// StepAdoptOptions make an image pulled from a cache_from repository a step
// cache entry of the builder's store (StepAdopt).
type StepAdoptOptions struct {
	BuilderRef
	Image string `json:"image" wire:"required"`
	Key   string `json:"key" wire:"required"`
}

// DiffOptions ask for a container's changes (Diff) against Image (an ID or
// name; none: the image the container was made from).
type DiffOptions struct {
	BuilderRef
	Image string `json:"image" wire:"nonempty"`
}

// ShellOptions run an interactive command on the caller's terminal (Shell);
// no command: /bin/sh.
type ShellOptions struct {
	BuilderRef
	Command []string          `json:"command" wire:"nonempty"`
	Env     map[string]string `json:"env"` // NAME -> VALUE (validate.Environment)
	WorkDir string            `json:"workdir" wire:"nonempty"`
	User    string            `json:"user" wire:"nonempty"`
}
