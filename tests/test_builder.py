"""The step-by-step Builder API against real stores, with real RUN steps."""

from __future__ import annotations

from pathlib import Path

import pytest

import pybuildah
from pybuildah import _api


def test_copy_run_config_commit_round_trip(store: pybuildah.Store, busybox: str, tmp_path: Path) -> None:
    app = tmp_path / "app.sh"
    app.write_text("#!/bin/sh\necho served\n")
    with pybuildah.Builder(busybox, store=store) as b:
        b.copy(app, "/app/app.sh", chown="1001:1001", chmod="0750")
        result = b.run(["/bin/sh", "-c", "stat -c '%u:%g %a' /app/app.sh && /app/app.sh"])
        assert result.stdout.splitlines() == ["1001:1001 750", "served"]
        b.set_cmd(["/app/app.sh"])
        b.set_port("8080/tcp")
        b.set_user("1001")
        b.set_env("MODE", "production")
        b.set_label("org.example.role", "web")
        b.set_workdir("/app")
        b.add_volume("/data")
        image = b.commit("hello-pybuildah:1.0.0")
    assert "localhost/hello-pybuildah:1.0.0" in image.names
    assert image.config.cmd == ["/app/app.sh"]
    assert image.config.ports == ["8080/tcp"]
    assert image.config.user == "1001"
    assert image.config.env["MODE"] == "production"
    assert image.labels == {"org.example.role": "web"}
    assert image.config.workdir == "/app"
    assert image.config.volumes == ["/data"]
    assert store.image("hello-pybuildah:1.0.0").id == image.id
    with pybuildah.Builder(image.id, store=store) as again:
        assert again.run(["cat", "/app/app.sh"]).stdout == app.read_text()


def test_failing_run_raises_with_exit_code_and_output(store: pybuildah.Store, busybox: str) -> None:
    with pybuildah.Builder(busybox, store=store) as b:
        with pytest.raises(pybuildah.RunError) as caught:
            b.run("echo out; echo err >&2; exit 7")
        assert caught.value.exit_code == 7
        assert caught.value.stdout == "out\n"
        assert caught.value.stderr == "err\n"
        assert b.run("exit 3", check=False).exit_code == 3


def test_context_manager_deletes_container_even_on_error(store: pybuildah.Store, busybox: str) -> None:
    with pytest.raises(RuntimeError), pybuildah.Builder(busybox, store=store, name="doomed"):
        assert [c.name for c in store.containers()] == ["doomed"]
        raise RuntimeError("boom")
    assert store.containers() == []


def test_unknown_image_raises_image_not_found(store: pybuildah.Store) -> None:
    with pytest.raises(pybuildah.ImageNotFound):
        pybuildah.Builder("localhost/no-such-image:1", store=store, pull="never")
    with pytest.raises(pybuildah.ImageNotFound):
        store.image("no-such-image")


def test_mount_root_outlives_the_call_and_unmount_undoes_only_that(store: pybuildah.Store, busybox: str,
                                                                    tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pybuildah.Builder(busybox, store=store) as b:
        b.copy(tmp_path / "f", "/f")  # the copier keeps its own mount of the root
        assert b.unmount() is False   # which unmount() leaves alone: nothing was mounted by mount_root()
        root = b.mount_root()
        again = pybuildah.Builder.open(b.name, store=store)  # as `pybuildah umount` in another process would
        assert (root / "f").read_text() == "x" and again.unmount() is True and again.unmount() is False
        b.copy(tmp_path / "f", "/g")
        assert b.run(["cat", "/f", "/g"]).stdout == "xx"


def test_set_cmd_export_is_configure_with_its_checks(store: pybuildah.Store) -> None:
    # PyBuildahSetCmd (the design card's export) goes through Configure: same result, same errors.
    with pybuildah.Builder("scratch", store=store) as b:
        _api.set_cmd(builder=b.handle, cmd=["/bin/app", "--serve"])
        assert b.config.cmd == ["/bin/app", "--serve"]
        b.set_cmd([])
        assert b.config.cmd == []
        errors = []
        for call in (_api.set_cmd, _api.configure):
            with pytest.raises(pybuildah.InvalidArgument) as caught:
                call(builder=b.handle, cmd=["/bin/app", "a\0b"])
            errors.append(str(caught.value))
        assert errors[0] == errors[1] and "NUL" in errors[0]
        with pytest.raises(pybuildah.InvalidArgument, match="cmd is required"):
            _api.set_cmd(builder=b.handle, cmd=None)  # type: ignore[arg-type]
        assert b.config.cmd == []
        handle = b.handle
    stale = []
    for call in (_api.set_cmd, _api.configure):  # the Builder was deleted: its handle is gone
        with pytest.raises(pybuildah.InvalidArgument) as caught:
            call(builder=handle, cmd=["/x"])
        stale.append(str(caught.value))
    assert stale[0] == stale[1] and "handle" in stale[0]
