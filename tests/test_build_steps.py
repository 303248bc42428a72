"""build()'s per-step records (Image.build_steps): what Buildah measured, as data, HTML and text."""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path

import pytest

import pybuildah
from pybuildah import aio
from pybuildah.cli import main

BASE = "localhost/busybox:latest"
# A RUN that burns CPU in the shell itself (no sleep): its user time is what rusage must see.
BUSY = "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"
MULTI_STAGE = f"""\
FROM {BASE} AS build
COPY app.txt /src/app.txt
RUN {BUSY}; tr a-z A-Z < /src/app.txt > /out.txt
ENV STAGE=build

FROM {BASE}
COPY --from=build /out.txt /srv/out.txt
LABEL step=records
RUN cat /srv/out.txt > /srv/copy.txt
"""


def quiet(line: str) -> None:
    pass


def context(tmp_path: Path, containerfile: str, **files: str) -> Path:
    ctx = tmp_path / "ctx"
    ctx.mkdir(parents=True, exist_ok=True)
    (ctx / "Containerfile").write_text(containerfile)
    for name, content in files.items():
        (ctx / name).write_text(content)
    return ctx


@pytest.fixture
def multi_stage(tmp_path: Path) -> Path:
    return context(tmp_path, MULTI_STAGE, **{"app.txt": "hello records\n"})


def test_multi_stage_records_with_layers_and_a_cached_rebuild(store: pybuildah.Store, multi_stage: Path) -> None:
    image = pybuildah.build(multi_stage, tag="records:1", layers=True, store=store, log=quiet)
    steps = image.build_steps
    assert isinstance(steps, pybuildah.StepReport)
    assert [(s.stage, s.stage_index, s.step, s.kind) for s in steps] == [
        ("build", 0, 1, "from"), ("build", 0, 2, "copy"), ("build", 0, 3, "run"), ("build", 0, 4, "env"),
        ("1", 1, 1, "from"), ("1", 1, 2, "copy"), ("1", 1, 3, "label"), ("1", 1, 4, "run")]
    assert [s.index for s in steps] == list(range(1, 9))
    assert steps[2].instruction == f"RUN {BUSY}; tr a-z A-Z < /src/app.txt > /out.txt"
    assert steps[5].instruction == "COPY --from=build /out.txt /srv/out.txt"
    assert steps[0].instruction == f"FROM {BASE}"
    assert [s.outcome for s in steps if s.kind != "from"] == ["miss"] * 6
    # The layers that the final stage's steps added are the image's own, on top of the base's.
    base_layers = store.image(BASE).layers
    final = [s for s in steps if s.stage_index == 1]
    made = [s.layer_digest for s in final if s.layer_digest]
    assert image.layers == base_layers + made
    assert [bool(s.layer_digest) for s in final] == [False, True, False, True]  # LABEL: an empty layer
    assert all(s.layer_size and s.layer_size > 0 for s in final if s.layer_digest)
    assert final[-1].image == image.id
    # The build stage's RUN ran the loop: its CPU time is there, and no more than its wall time allows.
    run = steps[2]
    assert run.user_time is not None and run.system_time is not None
    assert run.cpu_time is not None and 0.05 < run.cpu_time <= run.duration * (os.cpu_count() or 1) + 0.05
    assert run.duration > 0 and all(s.duration >= 0 for s in steps)
    assert run.layer_digest and (run.written_bytes or 0) >= 0

    again = pybuildah.build(multi_stage, tag="records:2", layers=True, store=store, log=quiet)
    assert again.id == image.id
    assert [s.outcome for s in again.build_steps if s.kind != "from"] == ["hit"] * 6
    assert again.build_steps.hits == 6
    # A hit reuses the image: the same layer is reported, and the loop did not run again.
    assert [s.layer_digest for s in again.build_steps] == [s.layer_digest for s in steps]
    assert (again.build_steps[2].cpu_time or 0) < run.cpu_time


def test_single_layer_build_reports_the_layer_on_each_stages_last_step(store: pybuildah.Store,
                                                                       multi_stage: Path) -> None:
    image = pybuildah.build(multi_stage, store=store, log=quiet)
    steps = image.build_steps
    assert len(steps) == 8
    assert {(s.outcome, s.reason) for s in steps if s.kind != "from"} == {("uncached", "layers=False")}
    # The build stage is only copied from: never committed, so it made no layer (nor image).
    assert [bool(s.layer_digest) for s in steps] == [False] * 7 + [True]
    assert [s.image for s in steps[1:4]] == ["", "", ""] and steps[-1].image == image.id
    assert image.layers == [*store.image(BASE).layers, steps[-1].layer_digest]
    assert steps[2].cpu_time is not None and steps[2].cpu_time > 0.05


def test_parallel_stages_are_reported_in_stage_order(store: pybuildah.Store, tmp_path: Path) -> None:
    stages = "".join(f"FROM {BASE} AS s{i}\nCOPY f{i} /f{i}\nRUN cat /f{i}\n\n" for i in range(3))
    ctx = context(tmp_path, stages + f"FROM {BASE}\n" + "".join(f"COPY --from=s{i} /f{i} /\n" for i in range(3)),
                  **{f"f{i}": str(i) for i in range(3)})
    image = pybuildah.build(ctx, jobs=3, layers=True, store=store, log=quiet)
    steps = image.build_steps
    assert [(s.stage, s.step) for s in steps] == [
        *[(f"s{i}", k) for i in range(3) for k in (1, 2, 3)], *[("3", k) for k in range(1, 5)]]
    assert [s.instruction for s in steps if s.kind == "copy"][:3] == [f"COPY f{i} /f{i}" for i in range(3)]
    assert image.layers[-3:] == [s.layer_digest for s in steps[-3:]]
    assert "13 steps in 4 stages" in image._repr_html_()


def test_no_secret_value_in_the_records(store: pybuildah.Store, tmp_path: Path) -> None:
    secret = "s3cr3t-Records-Value"
    ctx = context(tmp_path, f"FROM {BASE}\nARG TOKEN\n"
                            "RUN --mount=type=secret,id=tok test \"$(cat /run/secrets/tok)\" = \"$TOKEN\"\n"
                            "RUN --mount=type=secret,id=tok,env=TOK test -n \"$TOK\"\n")
    image = pybuildah.build(ctx, secrets={"tok": secret.encode()}, build_args={"TOKEN": secret}, store=store,
                            log=quiet)
    records = image.build_steps.to_records()
    assert [r["kind"] for r in records] == ["from", "arg", "run", "run"]
    assert records[2]["instruction"].startswith("RUN --mount=type=secret,id=tok ")
    shown = json.dumps(records) + image.build_steps._repr_html_() + str(image.build_steps)
    assert secret not in shown


def test_records_as_html_text_and_plain_records(store: pybuildah.Store, multi_stage: Path) -> None:
    steps = pybuildah.build(multi_stage, layers=True, store=store, log=quiet).build_steps
    html = steps._repr_html_()
    assert html.startswith("<details open><summary><b>pybuildah build steps</b>: 8 steps in 2 stages, 0 from")
    assert html.count("<tr>") == 9
    assert "<code>COPY --from=build /out.txt /srv/out.txt</code>" in html
    assert "&lt; /src/app.txt &gt; /out.txt" in html  # escaped
    assert steps[2].layer_digest.removeprefix("sha256:")[:12] in html
    text = str(steps)
    lines = text.splitlines()
    assert lines[0].startswith("8 steps in 2 stages, 0 from the cache, ")
    assert lines[1].split()[:5] == ["stage", "step", "cache", "seconds", "CPU"]
    assert lines[4].split()[:3] == ["build", "3", "miss"] and lines[4].endswith("/out.txt")
    records = steps.to_records()
    assert [r["instruction"] for r in records] == [s.instruction for s in steps]
    assert {type(v) for r in records for v in r.values()} <= {str, int, float, type(None)}
    assert records[2]["layer_size"] == steps[2].layer_size and records[2]["stage"] == "build"
    # What pandas.DataFrame(records) needs: one set of keys, the dataclass's fields.
    assert all(list(r) == list(records[0]) for r in records)


def test_builder_steps_keep_their_table(store: pybuildah.Store) -> None:
    with pybuildah.Builder(BASE, store=store, cache=True) as b:
        b.run("true")
        report = b.steps
        assert report.to_records()[0]["outcome"] in ("miss", "uncached")
        assert report.to_records()[0]["stage_index"] is None
        assert "<th>arguments</th>" in report._repr_html_()


def test_cli_timings_prints_the_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ctx = context(tmp_path, "FROM scratch AS a\nCOPY hello.txt /a.txt\nFROM scratch\nCOPY --from=a /a.txt /b.txt\n"
                            "LABEL x=y\n", **{"hello.txt": "hello\n"})
    argv = ["--root", str(tmp_path / "root"), "--storage-driver", "overlay", "build", "--layers", "-q", str(ctx)]
    assert main([*argv[:-1], "--timings", str(ctx)]) == 0
    out, err = capsys.readouterr()
    assert re.fullmatch(r"[0-9a-f]{64}\n", out)  # standard output is the image ID, as without --timings
    lines = err.splitlines()
    assert lines[0].startswith("5 steps in 2 stages, 0 from the cache, ")
    assert lines[1].split() == ["stage", "step", "cache", "seconds", "CPU", "s", "layer", "instruction"]
    assert lines[3].split()[:3] == ["a", "2", "miss"] and lines[3].endswith("COPY hello.txt /a.txt")
    assert main([*argv[:-1], "--timings", str(ctx)]) == 0
    assert ", 3 from the cache, " in capsys.readouterr().err.splitlines()[0]
    assert main(argv) == 0
    assert capsys.readouterr().err == ""  # no table without --timings


def test_aio_build_carries_the_records(store: pybuildah.Store, tmp_path: Path) -> None:
    ctx = context(tmp_path, "FROM scratch\nCOPY hello.txt /hello.txt\n", **{"hello.txt": "hello\n"})
    image = asyncio.run(aio.build(ctx, store=store, log=quiet))
    assert [(s.kind, s.instruction) for s in image.build_steps] == [("from", "FROM scratch"),
                                                                    ("copy", "COPY hello.txt /hello.txt")]
    assert image.build_steps[1].layer_digest == image.layers[-1]
