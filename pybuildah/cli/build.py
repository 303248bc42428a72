"""``pybuildah build``: build a Containerfile, stream the log, print the image ID."""

from __future__ import annotations

import argparse
import getpass
import io
import sys

from .._buildopts import to_stdout
from ..build import build
from ..errors import BuildError, InvalidArgument
from ..image import Image
from ._common import boolean, open_store, pairs, policy_flag, sbom, sbom_flags


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = subparsers.add_parser("build", aliases=["bud"], help="build an image from a Containerfile (alias: bud)",
                                description="Build an image from a Containerfile with Buildah's own front end.")
    cmd.add_argument("-t", "--tag", action="append", default=[], metavar="TAG", help="name the image (repeatable)")
    cmd.add_argument("-f", "--file", action="append", default=[], metavar="FILE",
                     help="the Containerfile, - for stdin (default: Containerfile, then Dockerfile, in CONTEXT)")
    cmd.add_argument("--target", help="build up to this stage")
    cmd.add_argument("--build-arg", action="append", default=[], metavar="K=V", help="a build argument (repeatable)")
    cmd.add_argument("--label", action="append", default=[], metavar="K=V", help="a label for the image (repeatable)")
    cmd.add_argument("--layers", action="store_true", help="cache intermediate layers")
    cmd.add_argument("--no-cache", action="store_true", help="do not use cached layers")
    cmd.add_argument("--pull", default="missing", choices=["missing", "always", "never", "newer"])
    cmd.add_argument("--format", default="oci", choices=["oci", "docker"])
    cmd.add_argument("--squash", action="store_true", help="squash the new layers into one")
    cmd.add_argument("--jobs", type=int, default=1, help="how many stages to build in parallel")
    cmd.add_argument("--platform", action="append", default=[], metavar="OS/ARCH[,...]",
                     help="build for these platforms (comma-separated or repeated), e.g. linux/amd64,linux/arm64")
    cmd.add_argument("--manifest", help="add the images to this manifest list (made if missing)")
    cmd.add_argument("--secret", action="append", default=[], metavar="id=ID,src=PATH|env=NAME",
                     help="a secret for RUN --mount=type=secret (repeatable)")
    cmd.add_argument("--build-context", action="append", default=[], metavar="NAME=DIR|URL|docker-image://REF",
                     help="an extra build context for COPY --from=NAME (repeatable)")
    cmd.add_argument("-o", "--output", action="append", default=[], metavar="type=local|tar,dest=PATH",
                     help="also write the final stage's files there (repeatable; \"-\": a tar on stdout)")
    cmd.add_argument("--source-date-epoch", type=int, metavar="SECONDS",
                     help="timestamps for the image's configuration and history (default: $SOURCE_DATE_EPOCH)")
    cmd.add_argument("--rewrite-timestamp", action="store_true",
                     help="clamp file times in new layers to --source-date-epoch")
    cmd.add_argument("--network", help="RUN steps' network: private, host, none, or a namespace path")
    cmd.add_argument("--cap-add", action="append", default=[], metavar="CAP", help="add a capability to RUN steps")
    cmd.add_argument("--cap-drop", action="append", default=[], metavar="CAP", help="drop a capability from RUN steps")
    cmd.add_argument("-v", "--volume", action="append", default=[], metavar="HOST:CONTAINER[:OPTS]",
                     help="bind mount for RUN steps (repeatable)")
    cmd.add_argument("--ulimit", action="append", default=[], metavar="TYPE=SOFT[:HARD]", help="a limit for RUN steps")
    cmd.add_argument("--add-host", action="append", default=[], metavar="NAME:IP",
                     help="an /etc/hosts entry for RUN steps")
    cmd.add_argument("--env", action="append", default=[], metavar="K=V",
                     help="set a variable in the image (repeatable)")
    cmd.add_argument("--cache-from", action="append", default=[], metavar="REPOSITORY",
                     help="a registry repository to take cached layers from (with --layers)")
    cmd.add_argument("--cache-to", action="append", default=[], metavar="REPOSITORY",
                     help="a registry repository to push cached layers to (with --layers)")
    cmd.add_argument("--ssh", action="append", default=[], metavar="ID[=SOCKET|KEY[,KEY...]]",
                     help="an SSH agent or keys for RUN --mount=type=ssh (default: $SSH_AUTH_SOCK)")
    cmd.add_argument("--provenance", metavar="FILE",
                     help="record SLSA provenance v1 with the image and write it to FILE")
    sbom_flags(cmd)
    cmd.add_argument("--tls-verify", type=boolean, nargs="?", const=True, default=True, metavar="BOOL",
                     help="verify registries' certificates (default true)")
    cmd.add_argument("--cert-dir", help="directory of CA certificates (*.crt) for the registries")
    cmd.add_argument("--authfile", help="auth file (default: REGISTRY_AUTH_FILE or the standard places)")
    policy_flag(cmd)
    cmd.add_argument("--creds", metavar="USER[:PASSWORD]",
                     help="registry credentials; a password here is visible to other users of this machine "
                          "(ps, /proc): prefer --creds-stdin or --authfile (without the password, it is prompted for)")
    cmd.add_argument("--creds-stdin", action="store_true", help="read USER:PASSWORD from the first line of stdin")
    cmd.add_argument("-q", "--quiet", action="store_true", help="print only the image ID")
    cmd.add_argument("--debug-on-failure", action="store_true",
                     help="when a step fails, open a shell on this terminal in its working container "
                          "(the step's environment and working directory); the container is removed when it exits")
    cmd.add_argument("--timings", action="store_true",
                     help="after the build, print each step's time, cache use, layer and CPU time (on stderr)")
    cmd.add_argument("context", nargs="?", default=".", metavar="CONTEXT", help="the build context directory")
    cmd.set_defaults(handler=run)


def _creds(args: argparse.Namespace) -> str | None:
    """--creds as buildah reads it (USER[:PASSWORD], a missing part is prompted for), or --creds-stdin."""
    if args.creds_stdin:
        if args.creds is not None:
            raise InvalidArgument("give --creds or --creds-stdin, not both")
        if "-" in args.file:
            raise InvalidArgument("--creds-stdin and -f - both read stdin")
        return sys.stdin.readline().rstrip("\r\n")
    if args.creds is None:
        return None
    user, _, password = args.creds.partition(":")
    if not user or not password:
        if not sys.stdin.isatty():
            raise InvalidArgument("--creds lacks a user name or password and there is no terminal to prompt on")
        user = user or input("Username: ")
        password = password or getpass.getpass("Password: ")
    return f"{user}:{password}"


def _secret_sources(values: list[str]) -> dict[str, str]:
    """--secret id=ID[,src=PATH|,env=NAME] (as buildah: src defaults to a file named ID)."""
    out: dict[str, str] = {}
    for value in values:
        fields = pairs(value.split(","), "--secret")
        if "id" not in fields or not set(fields) <= {"id", "src", "env", "type"}:
            raise InvalidArgument(f"--secret {value!r}: expected id=ID[,src=PATH|,env=NAME]")
        if "env" in fields or fields.get("type") == "env":
            out[fields["id"]] = "env:" + fields.get("env", fields.get("src", fields["id"]))
        else:
            out[fields["id"]] = fields.get("src", fields["id"])
    return out


def _ssh_sources(values: list[str]) -> dict[str, list[str]]:
    """--ssh ID[=SOCKET|KEY[,KEY...]]; an ID alone forwards $SSH_AUTH_SOCK."""
    out: dict[str, list[str]] = {}
    for value in values:
        name, _, paths = value.partition("=")
        out[name] = [p for p in paths.split(",") if p]
    return out


def run(args: argparse.Namespace) -> int:
    shown: list[str] = []

    def show(line: str) -> None:
        print(line, file=sys.stderr, flush=True)
        shown[:] = [line]

    if args.debug_on_failure and not sys.stdin.isatty():
        raise InvalidArgument("--debug-on-failure needs a terminal on standard input for the shell")
    platforms = [p for value in args.platform for p in value.split(",") if p]
    creds = _creds(args)
    files: list[str | io.StringIO] = [io.StringIO(sys.stdin.read()) if f == "-" else f for f in args.file]
    if len(files) > 1 and any(isinstance(f, io.StringIO) for f in files):
        raise InvalidArgument("-f - cannot be combined with other Containerfiles")
    store = open_store(args)
    try:
        result = build(
            args.context,
            containerfile=(files[0] if len(files) == 1 and isinstance(files[0], io.StringIO)
                           else [str(f) for f in files] or None),
            tag=args.tag or None,
            target=args.target,
            build_args=pairs(args.build_arg, "--build-arg", from_env=True),
            labels=pairs(args.label, "--label"),
            layers=args.layers,
            no_cache=args.no_cache,
            pull=args.pull,
            squash=args.squash,
            format=args.format,
            jobs=args.jobs,
            store=store,
            log=(lambda line: None) if args.quiet else show,
            platforms=platforms or None,
            manifest=args.manifest,
            secrets=_secret_sources(args.secret),
            build_contexts=pairs(args.build_context, "--build-context"),
            output=args.output or None,
            source_date_epoch=args.source_date_epoch,
            rewrite_timestamp=args.rewrite_timestamp,
            tls_verify=args.tls_verify,
            cert_dir=args.cert_dir,
            authfile=args.authfile,
            signature_policy=args.signature_policy,
            creds=creds,
            network=args.network,
            cap_add=args.cap_add,
            cap_drop=args.cap_drop,
            volumes=args.volume,
            ulimits=args.ulimit,
            add_hosts=args.add_host,
            env=pairs(args.env, "--env", from_env=True),
            cache_from=args.cache_from,
            cache_to=args.cache_to,
            ssh=_ssh_sources(args.ssh),
            keep_failed=args.debug_on_failure,
            provenance=args.provenance or False,
            **sbom(args),
        )
        # With -o - the tar owns standard output (as buildah build -o - is quiet there).  Otherwise the log
        # (stderr) ends with the image ID; on a terminal where both streams show, once is enough.
        if any(to_stdout(o) for o in args.output):
            print(result.id, file=sys.stderr)
        elif not (shown == [result.id] and sys.stdout.isatty() and sys.stderr.isatty()):
            print(result.id)
        if args.timings and isinstance(result, Image):
            print(result.build_steps, file=sys.stderr)
    except BuildError as exc:
        print(f"Error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        if exc.builder is not None:
            _debug_shell(exc)
        return 1
    finally:
        if store is not None:
            store.close()
    return 0


def _debug_shell(exc: BuildError) -> None:
    """--debug-on-failure: a shell in the failed step's container, removed when the shell exits."""
    with exc.builder as builder:
        print(f"Opening a shell in the working container of the failed step ({builder.name}); "
              "exit the shell to remove it.", file=sys.stderr, flush=True)
        status = builder.shell()
        print(f"The shell exited with status {status}; removing {builder.name}.", file=sys.stderr)
