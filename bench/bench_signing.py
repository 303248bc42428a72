#!/usr/bin/env python3
"""The cost of signing on push: the same push with and without a sigstore signature.

Each push is of a new image (--mb MB of random bytes in one layer, committed
to an overlay store) to a new repository of a local docker-registry, so both
kinds compress and upload the whole layer; plain and signed pushes alternate.
Medians of --repeat runs of each; ratio = signed / plain.  The signature adds
opening the key (scrypt decryption), signing the manifest and writing the
attachment (a config blob, a layer blob and a manifest).

A second measurement pushes one image again to new repositories: a plain push
then reuses the layer already compressed and uploaded (containers/image's blob
info cache), while a signed one cannot (containers/image does not substitute
blobs when it signs) and compresses and uploads it again.

Usage: PYTHONPATH=. python3 bench/bench_signing.py [--mb 20] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from registry import start_registry, stop_registry

import pybuildah


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-signing-") as tmp_name:
        tmp = Path(tmp_name)
        registry = start_registry(tmp / "registry")
        try:
            keys = pybuildah.generate_sigstore_key_pair(tmp, "bench passphrase")
            signing = {"sign_by_sigstore_key": keys.private_key, "sign_passphrase": "bench passphrase"}
            with pybuildah.Store(root=tmp / "store", driver="overlay") as store:
                times: dict[str, list[float]] = {"plain": [], "signed": [], "plain again": [], "signed again": []}
                for round_ in range(args.repeat + 1):  # round 0 warms up both paths
                    for kind in ("plain", "signed"):
                        image = new_image(store, tmp, args.mb, f"{kind}-{round_}")
                        options = signing if kind == "signed" else {}
                        pushed = push_time(image, f"docker://{registry.host}/bench/{kind}-{round_}:1", options)
                        again = push_time(image, f"docker://{registry.host}/bench/{kind}-{round_}-again:1", options)
                        if round_:
                            times[kind].append(pushed)
                            times[kind + " again"].append(again)
        finally:
            stop_registry(registry.process)
    print(f"push of a {args.mb} MB image, medians of {args.repeat}:")
    for label, suffix in [("new layer", ""), ("layer already in the registry", " again")]:
        plain, signed = statistics.median(times["plain" + suffix]), statistics.median(times["signed" + suffix])
        print(f"  {label}: plain {plain * 1000:.1f} ms, signed {signed * 1000:.1f} ms "
              f"(+{(signed - plain) * 1000:.1f} ms, ratio {signed / plain:.2f})")


def new_image(store: pybuildah.Store, tmp: Path, megabytes: int, name: str) -> pybuildah.Image:
    payload = tmp / "payload.bin"
    payload.write_bytes(os.urandom(megabytes * 1024 * 1024))
    with pybuildah.Builder("scratch", store=store) as b:
        b.copy(payload, "/payload.bin")
        return b.commit(f"localhost/bench-signing:{name}")


def push_time(image: pybuildah.Image, dest: str, signing: dict[str, Any]) -> float:
    start = time.perf_counter()
    image.push(dest, tls_verify=False, progress=None, **signing)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
