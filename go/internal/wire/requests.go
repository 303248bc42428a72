package wire

// Creds are registry credentials as "user:password", parsed in one place
// (sysctx.ParseCreds), never echoed in a message.
type Creds string

// RegistryOptions are the TLS, credential and retry options of every call
// that may talk to a registry; sysctx.ForRegistry is their one reader.
type RegistryOptions struct {
	TLSVerify *bool  `json:"tls_verify"`
	CertDir   string `json:"cert_dir"`
	AuthFile  string `json:"authfile"`
	Creds     *Creds `json:"creds"`
	Retries   *int   `json:"retries"`
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
	Root                  string   `json:"root"`
	RunRoot               string   `json:"runroot"`
	Driver                string   `json:"driver"`
	Options               []string `json:"options"`
	AdditionalImageStores []string `json:"additional_image_stores"`
}

// SyncEnvOptions copy environment variables from Python; null unsets.
type SyncEnvOptions struct {
	Env map[string]*string `json:"env"`
}

// NewBuilderOptions make a working container (NewBuilder).
type NewBuilderOptions struct {
	StoreRef
	RegistryOptions
	FromImage string `json:"from_image"`
	Name      string `json:"name"`
	Isolation string `json:"isolation"`
	Pull      string `json:"pull"`
	Format    string `json:"format"`
	Platform  string `json:"platform"` // os/arch[/variant]; "" is the host's
}

// OpenBuilderOptions reattach to a working container (OpenBuilder).
type OpenBuilderOptions struct {
	StoreRef
	Name string `json:"name"`
}

// AddOptions copy or add sources into a working container (Add).
type AddOptions struct {
	BuilderRef
	Sources     []string `json:"sources"`
	Destination string   `json:"destination"`
	Extract     bool     `json:"extract"`
	Chown       string   `json:"chown"`
	Chmod       string   `json:"chmod"`
	FromBuilder uint64   `json:"from_builder"`
	FromImage   string   `json:"from_image"`
	Excludes    []string `json:"excludes"`
}

// ConfigChange carries the config fields to change (Configure); absent
// fields stay.  Its json names are the one list of settable config fields:
// Configure refuses any other.
type ConfigChange struct {
	BuilderRef
	Cmd            *[]string          `json:"cmd"`
	Entrypoint     *[]string          `json:"entrypoint"`
	Env            map[string]*string `json:"env"` // null value unsets
	Labels         map[string]*string `json:"labels"`
	Annotations    map[string]*string `json:"annotations"`
	Ports          []string           `json:"ports"`
	User           *string            `json:"user"`
	WorkDir        *string            `json:"workdir"`
	Volumes        []string           `json:"volumes"`
	Shell          *[]string          `json:"shell"`
	StopSignal     *string            `json:"stop_signal"`
	Author         *string            `json:"author"`
	Architecture   *string            `json:"architecture"`
	OS             *string            `json:"os"`
	CreatedBy      *string            `json:"created_by"`
	HistoryComment *string            `json:"history_comment"`
}

// RunOptions run a command in a working container (Run): exactly one of
// Command and Shell (run as /bin/sh -c).
type RunOptions struct {
	BuilderRef
	Command []string `json:"command"`
	Shell   *string  `json:"shell"`
	Env     []string `json:"env"`
	WorkDir string   `json:"workdir"`
	User    string   `json:"user"`
	Stream  uint64   `json:"stream"`
}

// CommitOptions write a working container as an image (Commit).
type CommitOptions struct {
	BuilderRef
	RegistryOptions
	Destination string `json:"destination"`
	Format      string `json:"format"`
	Squash      bool   `json:"squash"`
	Compression string `json:"compression"`
	Timestamp   *int64 `json:"timestamp"`
	Stream      uint64 `json:"stream"`
}

// ImageRefOptions name one image, local or behind a transport.
type ImageRefOptions struct {
	StoreRef
	RegistryOptions        // for references to registries
	Ref             string `json:"ref"`
}

// TagOptions add or remove names (TagImage, UntagImage).
type TagOptions struct {
	ImageRefOptions
	Names []string `json:"names"`
}

// RemoveOptions remove an image (RemoveImage).
type RemoveOptions struct {
	ImageRefOptions
	Force bool `json:"force"`
}

// SaveOptions write an image to an archive or directory (SaveImage).
type SaveOptions struct {
	ImageRefOptions
	Path   string `json:"path"`
	Format string `json:"format"`
	Stream uint64 `json:"stream"`
}

// LoadOptions read images from an archive or directory (LoadImage).
type LoadOptions struct {
	StoreRef
	Path   string `json:"path"`
	Stream uint64 `json:"stream"`
}

// PullOptions copy an image into the store (Pull).
type PullOptions struct {
	StoreRef
	RegistryOptions
	Ref          string `json:"ref"`
	AllTags      bool   `json:"all_tags"`
	Policy       string `json:"policy"`
	Platform     string `json:"platform"`      // os/arch[/variant]; "" is the host's
	AllPlatforms bool   `json:"all_platforms"` // a manifest list and every image it lists
	Stream       uint64 `json:"stream"`
}

// PushOptions copy an image out of the store (Push).
type PushOptions struct {
	StoreRef
	RegistryOptions
	Image       string `json:"image"`
	Dest        string `json:"dest"`
	Format      string `json:"format"`
	Compression string `json:"compression"`
	Level       *int   `json:"compression_level"`
	All         *bool  `json:"all"` // for a manifest list: its images too (absent: true)
	Stream      uint64 `json:"stream"`
}

// LoginOptions check and store credentials (Login); the store is optional.
type LoginOptions struct {
	StoreRef
	RegistryOptions
	Registry string `json:"registry"`
}

// LogoutOptions remove stored credentials (Logout); the store is optional.
type LogoutOptions struct {
	StoreRef
	Registry string `json:"registry"`
	AuthFile string `json:"authfile"`
	All      bool   `json:"all"`
}

// BuildOptions build Containerfiles (Build).
type BuildOptions struct {
	StoreRef
	BuildID        uint64            `json:"build_id"`
	Context        string            `json:"context"`
	Containerfiles []string          `json:"containerfiles"`
	Tags           []string          `json:"tags"`
	Target         string            `json:"target"`
	BuildArgs      map[string]string `json:"build_args"`
	Labels         []string          `json:"labels"`      // NAME=VALUE
	Annotations    []string          `json:"annotations"` // NAME=VALUE
	Isolation      string            `json:"isolation"`
	Layers         bool              `json:"layers"`
	NoCache        bool              `json:"no_cache"`
	Pull           string            `json:"pull"`
	Squash         bool              `json:"squash"`
	Format         string            `json:"format"`
	Timestamp      *int64            `json:"timestamp"`
	Jobs           *int              `json:"jobs"` // absent: 1
	Stream         uint64            `json:"stream"`
	HoldSignals    []int             `json:"hold_signals"` // signals that stop the build first (Python's handler gets them after)
	Platforms      []string          `json:"platforms"`    // os/arch[/variant] each; none: the host's
	Manifest       string            `json:"manifest"`     // the manifest list each platform's image is added to
}

// CancelOptions name a running build (CancelBuild).
type CancelOptions struct {
	BuildID uint64 `json:"build_id"`
}

// ManifestOptions name a manifest list (ManifestCreate, ManifestInspect,
// ManifestDelete).
type ManifestOptions struct {
	StoreRef
	RegistryOptions        // inspecting a list in a registry
	List            string `json:"list"`
}

// ManifestAddOptions add an image to a manifest list (ManifestAdd); the
// platform fields and annotations override what the image says.
type ManifestAddOptions struct {
	StoreRef
	RegistryOptions
	List        string            `json:"list"`
	Image       string            `json:"image"`
	All         bool              `json:"all"` // every image of a list being added
	OS          string            `json:"os"`
	Arch        string            `json:"arch"`
	Variant     string            `json:"variant"`
	Annotations map[string]string `json:"annotations"`
}

// ManifestAnnotateOptions change one entry of a manifest list, or the list
// itself without Instance (ManifestAnnotate).
type ManifestAnnotateOptions struct {
	StoreRef
	List        string            `json:"list"`
	Instance    string            `json:"instance"` // a digest or an image
	OS          string            `json:"os"`
	Arch        string            `json:"arch"`
	Variant     string            `json:"variant"`
	Annotations map[string]string `json:"annotations"`
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
	RegistryOptions
	List   string `json:"list"`
	Dest   string `json:"dest"`
	All    bool   `json:"all"` // the images too, not only the list (true in Python)
	Format string `json:"format"`
}
