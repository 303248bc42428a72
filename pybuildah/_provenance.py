"""SLSA provenance v1 for what pybuildah builds: an in-toto Statement per image.

``build(..., provenance=True)`` and ``Builder.commit(..., provenance=True)``
make one; ``Image.provenance`` holds it (a dict), ``dumps`` gives its bytes
(sorted keys, no spaces), which are the same for two builds of the same
inputs under the same SOURCE_DATE_EPOCH.  What it records, and what never:

- the builder: pybuildah's and Buildah's versions;
- external parameters: the Containerfiles' digests, build args, target,
  platforms, and the ids (never the values) of secrets and SSH agents;
- resolved dependencies: base images with the manifest digest used, ADD URLs
  (with their digest when ``--checksum`` pins one), and the contexts as
  digests of their file trees;
- start and finish times: SOURCE_DATE_EPOCH's when it is set.

Registry credentials and secret values are never read into it.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import _api
from ._version import engine_versions, version

__all__ = ["BUILDER_ID", "BUILD_TYPE", "PREDICATE_TYPE", "STATEMENT_TYPE", "dumps", "tree_digest"]

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILDER_ID = "https://pybuildah.dev/builder/v1"
BUILD_TYPE = "https://pybuildah.dev/containerfile-build/v1"
STEPS_BUILD_TYPE = "https://pybuildah.dev/builder-commit/v1"
MEDIA_TYPE = "application/vnd.in-toto+json"  # an attestation's layer in a registry


def dumps(statement: Mapping[str, Any]) -> bytes:
    """The statement's canonical bytes: sorted keys, no spaces, UTF-8."""
    return json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def file_digest(path: str | os.PathLike[str]) -> dict[str, str]:
    import hashlib  # here and below, not at import: OpenSSL's hashlib takes milliseconds to load

    with open(path, "rb") as f:
        return {"sha256": hashlib.file_digest(f, "sha256").hexdigest()}


def tree_digest(root: str | os.PathLike[str]) -> dict[str, str]:
    """A digest of a directory's content: each entry's relative path, type, mode bits and content (or link).

    Owners and times are left out, so a fresh checkout of the same tree
    gives the same digest.
    """
    import hashlib

    digest = hashlib.sha256()
    base = Path(root)
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            path = Path(dirpath, name)
            st = path.lstat()
            rel = os.fsencode(path.relative_to(base))
            if stat.S_ISLNK(st.st_mode):
                content = os.fsencode(os.readlink(path))
            elif stat.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    content = hashlib.file_digest(f, "sha256").digest()
            else:
                content = b""
            digest.update(b"%s\0%o\0%s\0" % (rel, st.st_mode, content))
    return {"sha256": digest.hexdigest()}


def _time(seconds: int | None) -> str:
    moment = datetime.fromtimestamp(seconds, UTC) if seconds is not None else datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def digest_map(digest: str) -> dict[str, str]:
    """"sha256:hex" as in-toto's digest set, {"sha256": hex}."""
    algorithm, _, hexdigest = digest.partition(":")
    return {algorithm: hexdigest} if hexdigest else {}


def image_dependency(ref: str, digest: str, platform: str | None = None) -> dict[str, Any]:
    """A base image as a resource descriptor: its reference and the manifest digest used."""
    out: dict[str, Any] = {"uri": f"docker://{ref}", "digest": digest_map(digest)}
    if platform:
        out["annotations"] = {"platform": platform}
    return out


def _context_dependency(name: str, value: str) -> dict[str, Any]:
    if os.path.isdir(value):
        return {"name": name, "digest": tree_digest(value)}
    return {"name": name, "uri": value}  # a URL or an image reference


Subjects = Sequence[tuple[str, str]]  # (name, "sha256:...") of each image the statement is about


def statement(*, subjects: Subjects, build_type: str, external: Mapping[str, Any],
              dependencies: Iterable[Mapping[str, Any]], started: int | None, finished: int | None,
              internal: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """An in-toto Statement with a SLSA provenance v1 predicate."""
    definition: dict[str, Any] = {"buildType": build_type, "externalParameters": dict(external),
                                  "resolvedDependencies": list(dependencies)}
    if internal:
        definition["internalParameters"] = dict(internal)
    engines = engine_versions()
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": name, "digest": digest_map(digest)} for name, digest in subjects],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": definition,
            "runDetails": {
                "builder": {"id": BUILDER_ID, "version": {"pybuildah": version(), "buildah": engines["buildah"]}},
                "metadata": {"startedOn": _time(started), "finishedOn": _time(finished)},
            },
        },
    }


def for_build(*, subjects: Subjects, context: str, containerfiles: Sequence[str],
              build_args: Mapping[str, str] | None, target: str | None, platforms: Sequence[str] | None,
              secrets: Iterable[str], ssh: Iterable[str], build_contexts: Mapping[str, str] | None,
              dependencies: Iterable[Mapping[str, str]], epoch: int | None, started: int) -> dict[str, Any]:
    """The provenance of a Containerfile build (build()); paths are recorded relative to the context."""
    files = []
    for path in containerfiles:
        rel = os.path.relpath(path, context)
        files.append({"name": os.path.basename(path) if rel.startswith("..") else rel, "digest": file_digest(path)})
    external: dict[str, Any] = {"containerfiles": files, "buildArgs": dict(sorted((build_args or {}).items()))}
    if target:
        external["target"] = target
    if platforms:
        external["platforms"] = list(platforms)
    if secrets:
        external["secrets"] = sorted(secrets)  # ids: a secret's value is never read here
    if ssh:
        external["ssh"] = sorted(ssh)
    resolved = [{"name": "context", "digest": tree_digest(context)}]
    resolved += [_context_dependency(f"context:{name}", value)
                 for name, value in sorted((build_contexts or {}).items())]
    for dep in dependencies:
        if dep["kind"] == "image":
            resolved.append(image_dependency(dep["ref"], dep.get("digest", ""), dep.get("platform")))
        else:
            resolved.append({"uri": dep["ref"], **({"digest": digest_map(dep["digest"])} if dep.get("digest") else {})})
    return statement(subjects=subjects, build_type=BUILD_TYPE,
                     external=external, dependencies=resolved, started=epoch if epoch is not None else started,
                     finished=epoch)


def epoch_of(source_date_epoch: int | None, from_env: str, timestamp: int | None) -> int | None:
    """The build's fixed time: source_date_epoch=, else $SOURCE_DATE_EPOCH, else timestamp=."""
    if source_date_epoch is not None:
        return source_date_epoch
    if from_env.strip().isdigit():
        return int(from_env)
    return timestamp


def save(images: Sequence[Any], provenance: Any, data: Mapping[str, Any]) -> None:
    """Keep the statement with each image in its store and, when provenance is a path, write it there too."""
    raw = dumps(data)
    for image in images:
        _api.image_attachment(store=image.store.handle, image=image.id, kind="provenance", data=raw.decode())
    if not isinstance(provenance, bool):
        Path(os.fsdecode(provenance)).write_bytes(raw)


def record_build(images: Sequence[Any], name: str | None, keywords: Mapping[str, Any], options: Mapping[str, Any],
                 result: Mapping[str, Any], started: int) -> None:
    """Make and keep the provenance of a finished build() (options: the Build request's fields).

    A multi-platform build into a manifest list (name) makes one statement
    with each platform's image as a subject, kept with each of them.
    """
    ssh_ids = [value.partition("=")[0] for value in options.get("ssh") or []]
    data = for_build(
        subjects=[(name or (image.names[0] if image.names else image.id), image.digest) for image in images],
        context=options["context"], containerfiles=result.get("containerfiles") or [],
        build_args=options.get("build_args"), target=options.get("target"), platforms=options.get("platforms"),
        secrets=list(keywords.get("secrets") or {}), ssh=ssh_ids, build_contexts=options.get("build_contexts"),
        dependencies=result.get("dependencies") or [],
        epoch=epoch_of(options.get("source_date_epoch"), options.get("source_date_epoch_env", ""),
                       options.get("timestamp")),
        started=started)
    save(images, keywords["provenance"], data)


def record_commit(image: Any, *, base: str, base_digest: str, urls: Sequence[tuple[str, str | None]],
                  epoch: int | None, started: int, provenance: Any) -> None:
    """Make and keep the provenance of Builder.commit(): the base image and the URLs added."""
    resolved = [image_dependency(base, base_digest)] if base_digest else []
    resolved += [{"uri": url, **({"digest": digest_map(checksum)} if checksum else {})} for url, checksum in urls]
    data = statement(subjects=[(image.names[0] if image.names else image.id, image.digest)],
                     build_type=STEPS_BUILD_TYPE, external={"from": base}, dependencies=resolved,
                     started=epoch if epoch is not None else started, finished=epoch)
    save([image], provenance, data)
