"""One typed function per Go export: the only place that builds a request.

Each function takes, as keyword arguments, exactly the fields of the Go
options type its export decodes (``PyBuildahContract``'s "requests";
tests/test_contract.py holds the two equal, both ways) and sends them as
they are: the body forwards ``locals()``, so a parameter cannot be
accepted and then left out.  Go refuses a field it does not know, so a
request built anywhere else would fail loudly, not lose an option.

Types are the wire's: paths are already absolute strings (or
``{"base64": ...}``, see ``_checks.wire_path``), ``None`` means "not
given".  The models (Builder, Image, Store, ...) check their arguments
and call these; ``_ffi`` below does the loading, calling, errors and
freeing.  An export whose request carries a ``call_id`` is cancellable and
goes through ``_ffi.call_cancellable``, which supplies the id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypedDict, Unpack

from . import _ffi
from ._ffi import cancel, init_reexec, release_handle

__all__ = ["cancel", "init_reexec", "release_handle"]  # _ffi's own calls (loading, cancelling, freeing)

WirePath = str | dict[str, str]  # a file name: text, or {"base64": raw bytes} when it is not UTF-8


class RegistryWire(TypedDict, total=False):
    """Go's wire.RegistryOptions: what every call that may reach a registry takes."""

    tls_verify: bool | None  # None: as registries.conf says; False: no verification
    cert_dir: str | None
    authfile: str | None
    creds: str | None  # "user:password"
    retries: int | None
    timeout: float | str | None  # idle timeout in seconds (None: the default)
    signature_policy: str | dict[str, Any] | None  # a policy.json path or the policy (None: the store's)


class ConfigWire(TypedDict, total=False):
    """Go's wire.ConfigChange without the builder: the config fields Configure sets (absent: unchanged)."""

    cmd: list[str] | str  # a string: parsed in Go as buildah config --cmd parses it (wire.Words)
    entrypoint: list[str] | str
    env: dict[str, str | None]  # None unsets
    labels: dict[str, str | None]
    annotations: dict[str, str | None]
    ports: list[str]
    user: str
    workdir: str
    volumes: list[str]
    shell: list[str] | str
    stop_signal: str
    author: str
    architecture: str
    os: str
    created_by: str
    history_comment: str
    unset_ports: list[str]
    unset_volumes: list[str]
    onbuild: list[str]
    domainname: str
    healthcheck: dict[str, Any]  # wire.HealthcheckChange: test, interval, timeout, start_period, ...


def _fields(args: dict[str, Any]) -> dict[str, Any]:
    """A function's arguments as request fields, with ``**access`` and ``**changes`` spread out."""
    fields = dict(args)
    for spread in ("access", "changes"):
        fields.update(fields.pop(spread, None) or {})
    return fields


# Process ----------------------------------------------------------------------

def runtime_dir() -> str:
    """The rootless XDG_RUNTIME_DIR Buildah would use ("" if none)."""
    return str(_ffi.call("RuntimeDir"))


def contract() -> dict[str, Any]:
    """What Go declares: error kinds, record fields, request fields."""
    result: dict[str, Any] = _ffi.call("Contract")
    return result


def version() -> dict[str, str]:
    """The versions of Buildah, Go and storage linked in."""
    result: dict[str, str] = _ffi.call("Version")
    return result


def sync_env(*, env: Mapping[str, str | None]) -> None:
    """Set (None: unset) environment variables in Go's copy of the environment."""
    _ffi.call("SyncEnv", **locals())


# Stores -----------------------------------------------------------------------

def store_open(*, root: str | None = None, runroot: str | None = None, driver: str | None = None,
               options: list[str] | None = None, additional_image_stores: list[str] | None = None,
               signature_policy: str | dict[str, Any] | None = None) -> dict[str, Any]:
    """Open a store; waiting for another process's lock on it is cancellable."""
    result: dict[str, Any] = _ffi.call_cancellable("StoreOpen", **locals())
    return result


def list_images(*, store: int, filters: list[str] | None = None) -> list[dict[str, Any]]:
    return list(_ffi.call_cancellable("ListImages", **locals()) or [])


def list_containers(*, store: int, filters: list[str] | None = None) -> list[dict[str, Any]]:
    return list(_ffi.call_cancellable("ListContainers", **locals()) or [])


def prune(*, store: int) -> dict[str, Any]:
    result: dict[str, Any] = _ffi.call("Prune", **locals())
    return result


# Images -----------------------------------------------------------------------

def inspect_image(*, store: int, ref: str, **access: Unpack[RegistryWire]) -> dict[str, Any]:
    """An image's record; a registry reference is read there (cancellable)."""
    result: dict[str, Any] = _ffi.call_cancellable("InspectImage", **_fields(locals()))
    return result


def inspect_build_info(*, store: int, ref: str, **access: Unpack[RegistryWire]) -> dict[str, Any]:
    """What `buildah inspect --type image` prints (cancellable)."""
    result: dict[str, Any] = _ffi.call_cancellable("InspectBuildInfo", **_fields(locals()))
    return result


def tag_image(*, store: int, ref: str, names: list[str]) -> list[str]:
    return list(_ffi.call("TagImage", **locals()) or [])


def untag_image(*, store: int, ref: str, names: list[str]) -> list[str]:
    return list(_ffi.call("UntagImage", **locals()) or [])


def remove_image(*, store: int, ref: str, force: bool = False) -> list[dict[str, Any]]:
    return list(_ffi.call("RemoveImage", **locals()) or [])


def save_image(*, store: int, ref: str, path: WirePath, format: str | None = None, stream: int = 0) -> None:
    _ffi.call("SaveImage", **locals())


def load_image(*, store: int, path: WirePath, stream: int = 0) -> list[dict[str, Any]]:
    return list(_ffi.call("LoadImage", **locals()) or [])


# Registries -------------------------------------------------------------------

def pull(*, store: int, ref: str, all_tags: bool = False, policy: str | None = None, platform: str | None = None,
         all_platforms: bool = False, stream: int = 0, **access: Unpack[RegistryWire]) -> list[dict[str, Any]]:
    return list(_ffi.call_cancellable("Pull", **_fields(locals())) or [])


def push(*, store: int, image: str, dest: str, format: str | None = None, compression: str | None = None,
         compression_level: int | None = None, force_compression: bool | None = None,
         all: bool | None = None, stream: int = 0,
         sign_by: str | None = None, sign_by_sigstore_key: WirePath | None = None, sign_passphrase: str | None = None,
         **access: Unpack[RegistryWire]) -> dict[str, Any]:
    """Push an image, or a manifest list with its images unless all is False."""
    result: dict[str, Any] = _ffi.call_cancellable("Push", **_fields(locals()))
    return result


def login(*, store: int = 0, registry: str, **access: Unpack[RegistryWire]) -> None:
    _ffi.call_cancellable("Login", **_fields(locals()))


def logout(*, store: int = 0, registry: str | None = None, authfile: str | None = None, all: bool = False) -> bool:
    return bool(_ffi.call("Logout", **locals()))


# Working containers -----------------------------------------------------------

def new_builder(*, store: int, from_image: str, name: str | None = None, isolation: str | None = None,
                pull: str | None = None, format: str | None = None, platform: str | None = None,
                **access: Unpack[RegistryWire]) -> dict[str, Any]:
    result: dict[str, Any] = _ffi.call_cancellable("NewBuilder", **_fields(locals()))
    return result


def open_builder(*, store: int, name: str) -> dict[str, Any]:
    result: dict[str, Any] = _ffi.call("OpenBuilder", **locals())
    return result


def add(*, cancellable: bool = False, builder: int, sources: list[WirePath], destination: str,
        extract: bool = False, chown: str | None = None, chmod: str | None = None, from_builder: int = 0,
        from_image: str | None = None, excludes: list[str] | None = None, parents: bool = False,
        checksum: str | None = None, timeout: float | str | None = None) -> None:
    """COPY (extract=False) or ADD into a working container.

    cancellable (not sent): a call with URL sources, which Ctrl-C can stop;
    local copies are direct calls, the hot path.  timeout is the idle
    timeout of URL downloads.
    """
    fields = dict(locals())
    call = _ffi.call_cancellable if fields.pop("cancellable") else _ffi.call
    call("Add", **fields)


def configure(*, builder: int, **changes: Unpack[ConfigWire]) -> None:
    """Change config fields; Go refuses a field that is not one of ConfigWire's, naming the known ones."""
    _ffi.call("Configure", **_fields(locals()))


def set_cmd(*, builder: int, cmd: list[str]) -> None:
    """Set the default command: Configure's cmd, with Configure's checks."""
    _ffi.call("SetCmd", **locals())


def get_config(*, builder: int) -> dict[str, Any]:
    result: dict[str, Any] = _ffi.call("GetConfig", **locals())
    return result


def diff(*, builder: int, image: str | None = None) -> list[dict[str, Any]]:
    """The container's changed paths against an image (default: the one it was made from)."""
    result: list[dict[str, Any]] = _ffi.call("Diff", **locals())
    return result


def shell(*, builder: int, command: list[str] | None = None, env: dict[str, str | None] | None = None,
          workdir: str | None = None, user: str | None = None) -> int:
    """Run an interactive command on this process's terminal; its exit status."""
    return int(_ffi.call("Shell", **locals()))


def step_lookup(*, builder: int, parent: str | None = None, base: str | None = None, kind: str,
                args: dict[str, Any] | None = None, sources: list[WirePath] | None = None,
                parents: bool = False) -> dict[str, Any]:
    """Look a step up in the step cache: its key, and whether (and why not) it hit."""
    result: dict[str, Any] = _ffi.call("StepLookup", **locals())
    return result


def step_save(*, builder: int, key: str, created_by: str | None = None, result: Any = None) -> str:
    """Keep the container's state as the entry of the step last looked up (cancellable)."""
    return str(_ffi.call_cancellable("StepSave", **locals()))


def step_adopt(*, builder: int, image: str, key: str) -> dict[str, Any]:
    """Make an image pulled from a cache_from repository a step cache entry."""
    found: dict[str, Any] = _ffi.call("StepAdopt", **locals())
    return found


def rebase(*, builder: int, image: str) -> dict[str, Any]:
    """Move a working container onto an image holding its content, keeping its configuration."""
    info: dict[str, Any] = _ffi.call("Rebase", **locals())
    return info


def run(*, builder: int, command: list[str] | None = None, shell: str | None = None,
        env: dict[str, str | None] | None = None,
        workdir: str | None = None, user: str | None = None, stream: int = 0, hostname: str | None = None,
        cap_add: list[str] | None = None, cap_drop: list[str] | None = None, volumes: list[str] | None = None,
        network: str | None = None, mounts: list[str] | None = None, input_fd: int | None = None,
        timeout: float | str | None = None) -> dict[str, Any]:
    """Run a command (exactly one of command and shell); input_fd is read during the call."""
    result: dict[str, Any] = _ffi.call_cancellable("Run", **locals())
    return result


def mount(*, builder: int) -> str:
    return str(_ffi.call("Mount", **locals()))


def unmount(*, builder: int) -> bool:
    """False when it was not mounted."""
    return bool(_ffi.call("Unmount", **locals()))


def delete_builder(*, builder: int) -> None:
    _ffi.call("DeleteBuilder", **locals())


def flush_builder(*, builder: int) -> None:
    """Write the working container's state file now (config calls change it in memory)."""
    _ffi.call("FlushBuilder", **locals())


def commit(*, builder: int, destination: str | None = None, format: str | None = None, squash: bool = False,
           compression: str | None = None, force_compression: bool | None = None,
           timestamp: int | None = None, source_date_epoch: str | None = None,
           entry: str | None = None, stream: int = 0, **access: Unpack[RegistryWire]) -> dict[str, Any]:
    result: dict[str, Any] = _ffi.call_cancellable("Commit", **_fields(locals()))
    return result


# Containerfile builds ---------------------------------------------------------

def build(*, should_cancel: Callable[[], bool] | None = None, store: int, context: str,
          containerfiles: list[str] | None = None, tags: list[str] | None = None, target: str | None = None,
          build_args: dict[str, str] | None = None, labels: list[str] | None = None,
          annotations: list[str] | None = None, isolation: str | None = None, layers: bool = False,
          no_cache: bool = False, pull: str | None = None, squash: bool = False, format: str | None = None,
          timestamp: int | None = None, jobs: int | None = None, stream: int = 0, platforms: list[str] | None = None,
          manifest: str | None = None, secrets: list[str] | None = None, build_contexts: dict[str, str] | None = None,
          outputs: list[str] | None = None, source_date_epoch: int | None = None, source_date_epoch_env: str = "",
          rewrite_timestamp: bool = False, network: str | None = None, cap_add: list[str] | None = None,
          cap_drop: list[str] | None = None, volumes: list[str] | None = None, ulimits: list[str] | None = None,
          add_hosts: list[str] | None = None, env: dict[str, str | None] | None = None,
          cache_from: list[str] | None = None, cache_to: list[str] | None = None, ssh: list[str] | None = None,
          keep_failed: bool = False, provenance: bool = False,
          **access: Unpack[RegistryWire]) -> dict[str, Any]:
    """Build Containerfiles; should_cancel (not sent) is polled and cancels the build when true."""
    fields = _fields(locals())
    del fields["should_cancel"]
    result: dict[str, Any] = _ffi.call_cancellable("Build", should_cancel=should_cancel, **fields)
    return result


# Manifest lists ---------------------------------------------------------------

def manifest_create(*, store: int, list: str) -> dict[str, Any]:
    result: dict[str, Any] = _ffi.call("ManifestCreate", **locals())
    return result


def manifest_inspect(*, store: int, list: str, **access: Unpack[RegistryWire]) -> dict[str, Any]:
    """A list in the store, or behind a transport (cancellable)."""
    result: dict[str, Any] = _ffi.call_cancellable("ManifestInspect", **_fields(locals()))
    return result


def manifest_add(*, store: int, list: str, image: str, all: bool = False, os: str | None = None,
                 arch: str | None = None, variant: str | None = None, annotations: dict[str, str] | None = None,
                 **access: Unpack[RegistryWire]) -> dict[str, Any]:
    result: dict[str, Any] = _ffi.call_cancellable("ManifestAdd", **_fields(locals()))
    return result


def manifest_annotate(*, store: int, list: str, instance: str | None = None, os: str | None = None,
                      arch: str | None = None, variant: str | None = None,
                      annotations: dict[str, str] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = _ffi.call("ManifestAnnotate", **locals())
    return result


def manifest_remove(*, store: int, list: str, instance: str) -> dict[str, Any]:
    result: dict[str, Any] = _ffi.call("ManifestRemove", **locals())
    return result


def manifest_push(*, store: int, list: str, dest: str, all: bool = False, format: str | None = None,
                  compression: str | None = None, compression_level: int | None = None,
                  force_compression: bool | None = None,
                  sign_by: str | None = None, sign_by_sigstore_key: WirePath | None = None,
                  sign_passphrase: str | None = None, **access: Unpack[RegistryWire]) -> dict[str, Any]:
    result: dict[str, Any] = _ffi.call_cancellable("ManifestPush", **_fields(locals()))
    return result


def manifest_delete(*, store: int, list: str) -> dict[str, Any]:
    result: dict[str, Any] = _ffi.call("ManifestDelete", **locals())
    return result


# Signing ----------------------------------------------------------------------

def generate_sigstore_key_pair(*, directory: WirePath, name: str, passphrase: str) -> dict[str, str]:
    """Write name.private (encrypted, 0600) and name.pub into directory; never replaces a file."""
    result: dict[str, str] = _ffi.call("GenerateSigstoreKeyPair", **locals())
    return result


# Attachments (provenance; later SBOMs) -----------------------------------------

def image_attachment(*, store: int, image: str, kind: str, data: str | None = None) -> str | None:
    """Set (with data) and return an image's stored attachment of kind; None when it has none."""
    result = _ffi.call("ImageAttachment", **locals())
    return None if result is None else str(result)


def attach_push(*, store: int, ref: str, artifact_type: str, media_type: str, data: str,
                annotations: dict[str, str] | None = None, **access: Unpack[RegistryWire]) -> dict[str, Any]:
    """Push an artifact whose subject is ref (repository@digest) and list it in the referrers tag."""
    result: dict[str, Any] = _ffi.call_cancellable("AttachPush", **_fields(locals()))
    return result


def referrers(*, store: int, ref: str, artifact_type: str | None = None,
              **access: Unpack[RegistryWire]) -> list[dict[str, Any]]:
    return list(_ffi.call_cancellable("Referrers", **_fields(locals())) or [])


def fetch_attachment(*, store: int, ref: str, subject: str | None = None,
                     **access: Unpack[RegistryWire]) -> dict[str, Any]:
    result: dict[str, Any] = _ffi.call_cancellable("FetchAttachment", **_fields(locals()))
    return result
