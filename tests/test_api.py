"""Every call of the public contract, against real stores, with real RUN steps."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

import pybuildah
from pybuildah import _ffi

SKOPEO = "/usr/bin/skopeo"


def test_init_reexec_starts_the_runtime_and_is_never_a_subroutine() -> None:
    assert pybuildah.init_reexec() is False
    assert _ffi.is_loaded()
    assert pybuildah.init_reexec() is False  # idempotent


def test_store_options_context_manager_and_close(tmp_path: Path) -> None:
    with pybuildah.Store(root=tmp_path / "root", runroot=tmp_path / "run", driver="vfs",
                         options=["vfs.ignore_chown_errors=true"]) as store:
        assert store.root == tmp_path / "root"
        assert store.runroot == tmp_path / "run"
        assert store.driver == "vfs"
        assert store.images() == []
        assert store.containers() == []
        assert set(store.config_sources) == {"policy", "registries", "registries.d"}
        assert "vfs" in repr(store)
    with pytest.raises(pybuildah.StoreError, match="closed"):
        store.images()
    assert "closed" in repr(store)
    store.close()  # idempotent
    assert (tmp_path / "root" / "vfs-images").is_dir()


def test_store_runroot_defaults_inside_root(tmp_path: Path) -> None:
    with pybuildah.Store(root=tmp_path / "r", driver="vfs") as store:
        assert store.runroot == tmp_path / "r" / "runroot"


def test_store_config_sources_name_the_host_files_when_present(tmp_path: Path) -> None:
    with pybuildah.Store(root=tmp_path / "r", driver="vfs") as store:
        for kind, path in (("policy", Path("/etc/containers/policy.json")),
                           ("registries", Path("/etc/containers/registries.conf"))):
            expected = str(path) if path.exists() else "embedded"
            assert store.config_sources[kind] == expected
        # registries.d is read as containers/image reads it: drop-in files only, in any of its directories.
        host = [f for d in (Path("/usr/share/containers/registries.d"), Path("/etc/containers/registries.d"),
                            Path.home() / ".config/containers/registries.d") if d.is_dir() for f in d.glob("*.yaml")]
        assert (store.config_sources["registries.d"] == "embedded") == (not host)


def test_store_additional_image_stores_are_read_only_views(store: pybuildah.Store, busybox: str,
                                                           base_store_root: Path) -> None:
    image = store.image(busybox)
    assert busybox in image.names
    assert not (Path(store.root) / "overlay-images" / image.id).exists()
    assert (base_store_root / "overlay-images" / image.id).exists()


def test_scratch_builder_name_and_isolation(store: pybuildah.Store, tmp_path: Path) -> None:
    with pybuildah.Builder("scratch", store=store, name="from-nothing", isolation="chroot") as b:
        assert b.name == "from-nothing"
        assert b.config.cmd == []
        assert [c.name for c in pybuildah.containers(store)] == ["from-nothing"]
        with b.mount() as root:
            assert list(root.iterdir()) == []
        b.copy("/bin/busybox", "/bin/busybox")
        assert b.run(["/bin/busybox", "echo", "scratch works"]).stdout == "scratch works\n"
        image = b.commit("scratch-made:1")
    assert len(image.layers) == 1
    assert pybuildah.containers(store) == []


def test_builder_open_reattaches_by_name_and_id(store: pybuildah.Store, busybox: str) -> None:
    with pybuildah.Builder(busybox, store=store, name="keeper") as b:
        b.set_label("step", "one")
        again = pybuildah.Builder.open("keeper", store=store)
        assert again.id == b.id
        assert again.config.labels == {"step": "one"}
        by_id = pybuildah.Builder.open(b.id, store=store)
        by_id.set_label("step", "two")
        assert pybuildah.Builder.open("keeper", store=store).config.labels == {"step": "two"}
        infos = pybuildah.containers(store)
        assert [(c.id, c.name) for c in infos] == [(b.id, "keeper")]
        assert infos[0].image_id == store.image(busybox).id


def test_add_extracts_local_tar_archives_and_copy_does_not(store: pybuildah.Store, busybox: str,
                                                           tmp_path: Path) -> None:
    archives = []
    for name in ("plain.tar", "packed.tar.gz"):
        path = tmp_path / name
        with tarfile.open(path, "w:gz" if name.endswith(".gz") else "w") as tar:
            data = f"from {name}\n".encode()
            info = tarfile.TarInfo(f"pkg/{name}.txt")
            info.size = len(data)
            info.mode = 0o640
            tar.addfile(info, io.BytesIO(data))
        archives.append(path)
    with pybuildah.Builder(busybox, store=store) as b:
        for path in archives:
            b.add(path, "/opt/")
        b.copy(archives[1], "/kept/")
        out = b.run("cat /opt/pkg/plain.tar.txt /opt/pkg/packed.tar.gz.txt; stat -c %a /opt/pkg/plain.tar.txt;"
                    " ls /kept").stdout
    assert out.splitlines() == ["from plain.tar", "from packed.tar.gz", "640", "packed.tar.gz"]


def test_copy_one_path_a_list_chown_and_chmod(store: pybuildah.Store, busybox: str, tmp_path: Path) -> None:
    files = []
    for i in range(3):
        path = tmp_path / f"f{i}.txt"
        path.write_text(f"content {i}\n")
        path.chmod(0o600)
        files.append(path)
    with pybuildah.Builder(busybox, store=store) as b:
        b.copy(files[0], "/one/renamed.txt")
        b.copy(files[1:], "/many/", chown="1001:1002", chmod=0o751)
        b.copy(str(files[0]), "/str/", chown="root", chmod="0444")
        out = b.run("cat /one/renamed.txt; stat -c '%n %u:%g %a' /one/renamed.txt /many/* /str/f0.txt").stdout
    assert out.splitlines() == [
        "content 0",
        "/one/renamed.txt 0:0 600",
        "/many/f1.txt 1001:1002 751",
        "/many/f2.txt 1001:1002 751",
        "/str/f0.txt 0:0 444",
    ]


def test_copy_from_another_builder_and_from_an_image(store: pybuildah.Store, busybox: str) -> None:
    with pybuildah.Builder(busybox, store=store) as stage:
        stage.run("mkdir -p /out && echo artifact > /out/app && chmod 700 /out/app")
        with pybuildah.Builder(busybox, store=store) as final:
            final.copy("/out/app", "/srv/app", from_=stage, chown="1001:1001")
            final.copy(["/bin/busybox", "/etc/passwd"], "/from-image/", from_=busybox)
            out = final.run("cat /srv/app; stat -c '%u:%g %a' /srv/app; ls /from-image").stdout
    assert out.splitlines() == ["artifact", "1001:1001 700", "busybox", "passwd"]


def test_config_setters_and_read_back(store: pybuildah.Store, busybox: str) -> None:
    with pybuildah.Builder(busybox, store=store) as b:
        b.set_cmd(["serve", "--port", "8080"])
        b.set_entrypoint(["/entry"])
        b.set_env("MODE", "prod")
        b.set_env("EMPTY", "")
        b.set_label("org.example.team", "build")
        b.set_port("8080/tcp")
        b.set_port(53)
        b.set_port("9000-9001/udp")
        b.set_user("1001:1001")
        b.set_workdir("/app")
        b.add_volume("/data")
        b.set_annotation("org.example.note", "hi")
        b.set_stop_signal("SIGTERM")
        b.set_author("pybuildah tests")
        config = b.config
        assert config.cmd == ["serve", "--port", "8080"]
        assert config.entrypoint == ["/entry"]
        assert config.env["MODE"] == "prod" and config.env["EMPTY"] == ""
        assert config.env["PATH"]  # inherited from the base image
        assert config.labels == {"org.example.team": "build"}
        assert sorted(config.ports) == ["53", "8080/tcp", "9000-9001/udp"]
        assert (config.user, config.workdir, config.volumes) == ("1001:1001", "/app", ["/data"])
        assert config.annotations["org.example.note"] == "hi"
        assert (config.stop_signal, config.author) == ("SIGTERM", "pybuildah tests")
        b.unset_env("MODE")
        b.unset_label("org.example.team")
        assert "MODE" not in b.config.env
        assert b.config.labels == {}
        image = b.commit("configured:1")
    assert image.config.cmd == ["serve", "--port", "8080"]
    assert image.config.entrypoint == ["/entry"]
    assert image.config.user == "1001:1001"
    assert image.config.stop_signal == "SIGTERM"
    assert image.annotations.get("org.example.note") == "hi"


def test_run_env_workdir_user_and_check(store: pybuildah.Store, busybox: str) -> None:
    with pybuildah.Builder(busybox, store=store) as b:
        b.set_env("FROM_CONFIG", "cfg")
        result = b.run(["sh", "-c", "pwd; id -u; id -g; echo $GREETING $FROM_CONFIG"],
                       env={"GREETING": "hello"}, workdir="/tmp", user="1001:1002")
        assert result.stdout.splitlines() == ["/tmp", "1001", "1002", "hello cfg"]
        assert result.exit_code == 0 and result.stderr == ""
        lines: list[str] = []
        b.run("echo one; echo two >&2", log=lines.append)
        assert sorted(lines) == ["one", "two"]
        failed = b.run(["sh", "-c", "echo partial; exit 42"], check=False)
        assert (failed.exit_code, failed.stdout) == (42, "partial\n")
        with pytest.raises(pybuildah.RunError, match="status 5") as caught:
            b.run("echo bad >&2; exit 5")
        assert caught.value.exit_code == 5 and caught.value.stderr == "bad\n"


def test_mount_exposes_the_root_filesystem(store: pybuildah.Store, busybox: str) -> None:
    with pybuildah.Builder(busybox, store=store) as b:
        with b.mount() as root:
            assert (root / "bin" / "busybox").is_file()
            (root / "written-on-host").write_text("via mount\n")
        assert b.run(["cat", "/written-on-host"]).stdout == "via mount\n"
        image = b.commit("mounted:1")
    with pybuildah.Builder(image.id, store=store) as again:
        assert again.run(["cat", "/written-on-host"]).stdout == "via mount\n"


def _skopeo_config_digest(ref: str) -> str:
    raw = subprocess.run([SKOPEO, "inspect", "--raw", ref], check=True, capture_output=True, text=True).stdout
    return str(json.loads(raw)["config"]["digest"])


def test_commit_to_store_names_and_transports(store: pybuildah.Store, busybox: str, tmp_path: Path) -> None:
    targets = {
        "oci-archive": f"oci-archive:{tmp_path / 'img.tar'}",
        "oci": f"oci:{tmp_path / 'layout'}:v1",
        "docker-archive": f"docker-archive:{tmp_path / 'docker.tar'}",
        "dir": f"dir:{tmp_path / 'dir'}",
    }
    before = datetime.now(UTC)
    with pybuildah.Builder(busybox, store=store) as b:
        b.run("echo payload > /payload")
        b.set_label("made-by", "test")
        stored = b.commit("committed:2.0.1")
        exported = {kind: b.commit(ref) for kind, ref in targets.items()}
    assert "localhost/committed:2.0.1" in stored.names
    assert stored.digest.startswith("sha256:") and stored.size > 0
    assert stored.created is not None and stored.created >= before.replace(microsecond=0)
    assert stored.labels == {"made-by": "test"}
    for kind, ref in targets.items():
        image = exported[kind]
        assert image.labels == {"made-by": "test"}, kind
        if kind != "docker-archive":  # skopeo reads the others the same way
            assert _skopeo_config_digest(ref) == "sha256:" + image.id, kind
    with pybuildah.Builder(targets["oci-archive"], store=store) as b:
        assert b.run(["cat", "/payload"]).stdout == "payload\n"
    with pybuildah.Builder(targets["docker-archive"], store=store) as b:
        assert b.run(["cat", "/payload"]).stdout == "payload\n"


def test_images_and_image_fields(store: pybuildah.Store, busybox: str) -> None:
    with pybuildah.Builder(busybox, store=store) as b:
        b.set_label("version", "3")
        image = b.commit("listed:3")
    listed = {i.id: i for i in pybuildah.images(store)}
    assert image.id in listed and store.image(busybox).id in listed
    found = listed[image.id]
    assert found.names == ["localhost/listed:3"]
    assert (found.digest, found.size, found.labels) == (image.digest, image.size, {"version": "3"})
    assert isinstance(found.created, datetime)
    assert abs(found.created.timestamp() - time.time()) < 600
    assert store.image("listed:3").id == image.id
    assert store.image(image.id[:12]).id == image.id
    assert store.image("localhost/listed:3").config.env["PATH"]
    assert image.reload().id == image.id
    assert json.loads(image.inspect()["Manifest"])["config"]["digest"] == "sha256:" + image.id
