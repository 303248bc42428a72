"""Bad input gets a typed exception with a usable message; fuzzed input never crashes or hangs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pybuildah

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def builder(store: pybuildah.Store, busybox: str) -> Iterator[pybuildah.Builder]:
    with pybuildah.Builder(busybox, store=store) as b:
        yield b


def test_unknown_image(store: pybuildah.Store) -> None:
    with pytest.raises(pybuildah.ImageNotFound, match="no-such"):
        pybuildah.Builder("localhost/no-such:1", store=store, pull="never")
    with pytest.raises(pybuildah.ImageNotFound, match="no-such"):
        store.image("localhost/no-such:1")


def test_missing_source_file(builder: pybuildah.Builder, tmp_path: Path) -> None:
    missing = tmp_path / "not-there.txt"
    with pytest.raises(pybuildah.SourceNotFound, match=r"not-there\.txt"):
        builder.copy(missing, "/x")
    with pytest.raises(pybuildah.SourceNotFound):
        builder.add([missing], "/x")
    with pytest.raises(pybuildah.SourceNotFound):
        builder.copy("/no/such/path", "/x", from_=builder)


def test_bad_chown_and_chmod(builder: pybuildah.Builder) -> None:
    with pytest.raises(pybuildah.InvalidArgument, match="nosuchuser"):
        builder.copy("/etc/hostname", "/x", chown="nosuchuser")
    with pytest.raises(pybuildah.InvalidArgument, match="nosuchgroup"):
        builder.copy("/etc/hostname", "/x", chown="0:nosuchgroup")
    for chmod in ("999", "rwxr-xr-x", "-1"):
        with pytest.raises(pybuildah.InvalidArgument, match="chmod"):
            builder.copy("/etc/hostname", "/x", chmod=chmod)


def test_bad_port(builder: pybuildah.Builder) -> None:
    for port in ("99999", "http", "0", "80/icmp", "90-80", ""):
        with pytest.raises(pybuildah.InvalidArgument, match="port"):
            builder.set_port(port)
    assert builder.config.ports == []


def test_invalid_references(store: pybuildah.Store, builder: pybuildah.Builder) -> None:
    with pytest.raises(pybuildah.InvalidReference, match="invalid reference format"):
        pybuildah.Builder("Not::A//Ref", store=store)
    with pytest.raises(pybuildah.InvalidArgument, match="must not be empty"):
        pybuildah.Builder("", store=store)
    with pytest.raises(pybuildah.InvalidReference):
        builder.commit("UPPER/Case::tag")
    with pytest.raises(pybuildah.InvalidReference):
        builder.commit("oci-archive:")
    with pytest.raises(pybuildah.InvalidReference):
        store.image("Not::A//Ref")


def test_failing_run_and_empty_command(builder: pybuildah.Builder) -> None:
    with pytest.raises(pybuildah.RunError) as caught:
        builder.run(["sh", "-c", "echo to-out; echo to-err >&2; exit 3"])
    assert (caught.value.exit_code, caught.value.stdout, caught.value.stderr) == (3, "to-out\n", "to-err\n")
    assert "exited with status 3" in str(caught.value)
    with pytest.raises(pybuildah.RunError) as missing:
        builder.run(["/no/such/program"])
    assert missing.value.exit_code != 0
    empties: tuple[list[str] | str, ...] = ([], "", "   ")
    for empty in empties:
        with pytest.raises(pybuildah.InvalidArgument, match="no command"):
            builder.run(empty)
    with pytest.raises(pybuildah.InvalidType, match="a string or a list of strings, not int"):
        builder.set_cmd(42)  # type: ignore[arg-type]
    with pytest.raises(pybuildah.InvalidArgument, match="invalid command line"):
        builder.set_cmd('"unclosed')  # a string is read as buildah config --cmd reads it
    with pytest.raises(pybuildah.InvalidArgument, match="unknown user"):
        builder.run(["true"], user="nosuchuser")


def test_use_after_delete(store: pybuildah.Store, busybox: str) -> None:
    b = pybuildah.Builder(busybox, store=store, name="short-lived")
    other = pybuildah.Builder.open("short-lived", store=store)
    b.delete()
    b.delete()  # idempotent
    for action in (lambda: b.run(["true"]), lambda: b.set_cmd(["x"]), lambda: b.commit("x:1"),
                   lambda: b.config, lambda: b.copy("/etc/hostname", "/x")):
        with pytest.raises(pybuildah.ContainerNotFound, match="short-lived"):
            action()
    with pytest.raises(pybuildah.ContainerNotFound, match="no longer exists"):
        other.run(["true"])
    other.delete()  # the container is gone already: still fine
    with pytest.raises(pybuildah.ContainerNotFound):
        pybuildah.Builder.open("short-lived", store=store)


def test_other_bad_options(store: pybuildah.Store, busybox: str, builder: pybuildah.Builder) -> None:
    with pytest.raises(pybuildah.InvalidArgument, match="isolation"):
        pybuildah.Builder(busybox, store=store, isolation="vm")
    with pytest.raises(pybuildah.InvalidArgument, match="pull policy"):
        pybuildah.Builder(busybox, store=store, pull="sometimes")
    with pytest.raises(pybuildah.InvalidArgument, match="format"):
        pybuildah.Builder(busybox, store=store, format="tarball")
    with pytest.raises(pybuildah.InvalidArgument, match="already in use"):
        pybuildah.Builder(busybox, store=store, name=builder.name)
    with pytest.raises(pybuildah.InvalidArgument, match="environment variable"):
        builder.set_env("A=B", "x")
    with pytest.raises(pybuildah.InvalidArgument, match="absolute"):
        builder.add_volume("relative/path")
    with pytest.raises(pybuildah.InvalidArgument, match="from_"):
        builder.copy("/x", "/y", from_=42)  # type: ignore[arg-type]
    with pytest.raises(pybuildah.InvalidArgument, match="no source"):
        builder.copy([], "/y")
    with pytest.raises(pybuildah.ImageNotFound):
        builder.copy("/etc/passwd", "/y", from_="localhost/no-such:1")
    with pytest.raises(pybuildah.InvalidArgument, match="format"):
        builder.commit("x:1", format="tarball")
    with pytest.raises(pybuildah.InvalidArgument, match="compression"):
        builder.commit("x:1", compression="lzma")
    with pytest.raises(pybuildah.StoreError, match="additional image store"):
        pybuildah.Store(root=store.root.parent / "other", additional_image_stores=["/no/such/store"])


# Fuzzing: whatever the input, the answer is a value or a BuildahError subclass.

def _expect_buildah_error_or_value(fn: object) -> None:
    try:
        fn()  # type: ignore[operator]
    except pybuildah.BuildahError as exc:
        assert type(exc) is not pybuildah.InternalError, exc
        assert str(exc)
        assert "goroutine" not in str(exc)


@FUZZ
@given(port=st.one_of(st.text(max_size=20), st.integers(min_value=-(2**40), max_value=2**40)))
def test_fuzz_set_port(builder: pybuildah.Builder, port: str | int) -> None:
    _expect_buildah_error_or_value(lambda: builder.set_port(port))


@FUZZ
@given(chown=st.text(max_size=30), chmod=st.one_of(st.none(), st.text(max_size=8)))
def test_fuzz_copy_chown_chmod(builder: pybuildah.Builder, chown: str, chmod: str | None) -> None:
    _expect_buildah_error_or_value(lambda: builder.copy("/etc/hostname", "/fuzz/", chown=chown, chmod=chmod))


@FUZZ
@given(ref=st.text(max_size=60))
def test_fuzz_image_references(store: pybuildah.Store, ref: str) -> None:
    _expect_buildah_error_or_value(lambda: store.image(ref))
    _expect_buildah_error_or_value(lambda: pybuildah.Builder(ref, store=store, pull="never").delete())


@FUZZ
@given(key=st.text(max_size=20), value=st.text(max_size=40), path=st.text(max_size=30))
def test_fuzz_config_calls(builder: pybuildah.Builder, key: str, value: str, path: str) -> None:
    _expect_buildah_error_or_value(lambda: builder.set_env(key, value))
    _expect_buildah_error_or_value(lambda: builder.set_label(key, value))
    _expect_buildah_error_or_value(lambda: builder.set_workdir(path))
    _expect_buildah_error_or_value(lambda: builder.add_volume(path))
    _expect_buildah_error_or_value(lambda: builder.set_user(value))
    assert isinstance(builder.config, pybuildah.ContainerConfig)


def test_configure_rejects_unknown_fields_and_changes_nothing_on_bad_input(
    store: pybuildah.Store, busybox: str
) -> None:
    with pybuildah.Builder(busybox, store=store) as b:
        with pytest.raises(pybuildah.InvalidArgument, match="usr"):
            b.configure(usr="1001")
        with pytest.raises(pybuildah.InvalidArgument, match="label"):
            b.configure(env={"KEPT_OUT": "1"}, labels={"": "x"})
        with pytest.raises(pybuildah.InvalidArgument, match="annotation"):
            b.set_annotation("", "x")
        assert "KEPT_OUT" not in b.config.env
        assert "" not in b.config.labels


def test_commit_defaults_to_the_builders_format(store: pybuildah.Store, busybox: str) -> None:
    with pybuildah.Builder(busybox, store=store, format="docker") as b:
        assert b.commit("localhost/docker-format:1").manifest_type.startswith("application/vnd.docker")
        oci = b.commit("localhost/oci-format:1", format="oci")
        assert oci.manifest_type == "application/vnd.oci.image.manifest.v1+json"


def test_bad_log_level_fails_every_time_in_a_fresh_process() -> None:
    code = (
        "import pybuildah\n"
        "for _ in range(2):\n"
        "    try:\n"
        "        pybuildah.init_reexec()\n"
        "        print('loaded')\n"
        "    except pybuildah.InvalidArgument as exc:\n"
        "        print('refused', exc)\n"
    )
    env = dict(os.environ, PYBUILDAH_LOG_LEVEL="bogus", PYTHONPATH=str(Path(pybuildah.__file__).parent.parent))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60).stdout
    assert out.splitlines() == ['refused PYBUILDAH_LOG_LEVEL: not a valid logrus Level: "bogus"'] * 2
