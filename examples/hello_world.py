#!/usr/bin/env python3
"""A multi-stage build, step by step, in Python: compile a Go "Hello World" server and ship it.

1. Make the base images if they are missing (busybox from Debian's busybox-static and a Go
   toolchain from this machine's Go), offline, with pybuildah itself, in the default store.
2. A builder container compiles examples/hello into a static binary.
3. A runtime container on busybox receives the binary (owned by 1001:1001), gets port 8080,
   its command and user 1001, and is committed as hello-world:<VERSION>.
4. The artifact is taken out through mount() into a versioned tar.gz with release notes.
5. Both working containers are removed.
6. The server runs from the new image and the page it serves is printed.
"""

from __future__ import annotations

import io
import socket
import sys
import tarfile
import time
from pathlib import Path

import pybuildah
from pybuildah import bases

VERSION = "1.0.0"
HERE = Path(__file__).resolve().parent
SOURCE = HERE / "hello"
DIST = HERE.parent / "dist"
BUSYBOX = "localhost/busybox:latest"
GOLANG = "localhost/golang:local"

RELEASE_NOTES = f"""# hello {VERSION}

A static HTTP server that answers every request with "Hello, World!".

- listens on $PORT (default 8080)
- runs as user 1001
- image: localhost/hello-world:{VERSION}
"""


def ensure_base(store: pybuildah.Store, ref: str) -> pybuildah.Image:
    """Return a base image, making it offline first if the store lacks it."""
    try:
        return store.image(ref)
    except pybuildah.ImageNotFound:
        print(f"==> making base image {ref} (offline, from files on this machine)")
        if ref == BUSYBOX:
            return bases.busybox(store, ref)
        return bases.go_toolchain(store, ref, base=BUSYBOX)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    store = pybuildah.default_store()
    ensure_base(store, BUSYBOX)
    ensure_base(store, GOLANG)

    started = time.monotonic()
    with pybuildah.Builder(GOLANG, store=store, name="hello-builder") as builder:
        print("==> builder: compiling examples/hello")
        builder.copy(SOURCE, "/src/hello/")
        builder.run(["go", "build", "-trimpath", "-ldflags", f"-s -w -X main.version={VERSION}",
                     "-o", "/out/hello", "."],
                    workdir="/src/hello", env={"GOCACHE": "/tmp/go-cache", "CGO_ENABLED": "0"})

        with pybuildah.Builder(BUSYBOX, store=store, name="hello-runtime") as runtime:
            print("==> runtime: copying the binary from the builder")
            runtime.copy("/out/hello", "/usr/local/bin/hello", from_=builder, chown="1001:1001")
            runtime.set_port("8080/tcp")
            runtime.set_cmd(["/usr/local/bin/hello"])
            runtime.set_user("1001")
            runtime.set_label("org.opencontainers.image.version", VERSION)
            runtime.set_label("org.opencontainers.image.title", "hello")
            image = runtime.commit(f"localhost/hello-world:{VERSION}")
            print(f"==> committed {image.names[0]} ({image.short_id})")

            print("==> artifact: taking the binary out through mount()")
            DIST.mkdir(exist_ok=True)
            artifact = DIST / f"hello-{VERSION}-linux-amd64.tar.gz"
            with runtime.mount() as rootfs, tarfile.open(artifact, "w:gz") as tar:
                tar.add(rootfs / "usr/local/bin/hello", arcname=f"hello-{VERSION}/hello")
                notes = RELEASE_NOTES.encode()
                info = tarfile.TarInfo(f"hello-{VERSION}/RELEASE_NOTES.md")
                info.size, info.mtime, info.mode = len(notes), int(time.time()), 0o644
                tar.addfile(info, io.BytesIO(notes))
            print(f"==> wrote {artifact} ({artifact.stat().st_size} bytes)")
    # leaving both blocks removed both working containers
    left = {c.name for c in store.containers()} & {"hello-builder", "hello-runtime"}
    assert not left, left
    print(f"==> build done in {time.monotonic() - started:.1f}s; working containers removed")

    print(f"==> running the server from {image.names[0]}")
    port = free_port()
    with pybuildah.Builder(image.id, store=store, name="hello-run") as run:
        config = run.config
        script = (
            f"PORT={port} {' '.join(config.cmd)} 2>/tmp/server.log & pid=$!; "
            f"for i in $(seq 50); do wget -qO- http://127.0.0.1:{port}/ && ok=1 && break; sleep 0.1; done; "
            'kill $pid; [ -n "$ok" ] || { cat /tmp/server.log >&2; exit 1; }'
        )
        page = run.run(["/bin/sh", "-c", script], user=config.user).stdout
    print(f"==> GET http://127.0.0.1:{port}/ inside the image answered:")
    print(page, end="")
    return 0 if page.startswith("Hello, World!") else 1


if __name__ == "__main__":
    sys.exit(main())
