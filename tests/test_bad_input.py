"""The bad-input corpus: every public entry point, fed wrong types and bad values.

Each bad call raises a pybuildah.BuildahError subclass that is also the
matching builtin (TypeError for a wrong type, None and bool included;
ValueError for a bad value; LookupError or FileNotFoundError for what does
not exist), never an AttributeError, an InternalError or a bare BuildahError,
and it changes nothing: the images, the working containers, the builder's
config and the working directory are the same afterwards.

The corpus is built from "slots" (one argument of one call, with the kind of
value it takes) and explicit value cases; hypothesis then draws more bad
values for the same slots.  "Domains" go further for the parameters whose
values have a range (modes, ports, IDs, signals, env names, timestamps,
ulimits, jobs, timeouts, callbacks): hypothesis draws from the valid region,
which must be accepted, and from the invalid one, which must be refused as
above, so that the boundary itself is tested.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pybuildah
from pybuildah import bases

TYPE, VALUE, LOOKUP, MISSING = TypeError, ValueError, LookupError, FileNotFoundError


@dataclass
class Ctx:
    store: pybuildah.Store
    builder: pybuildah.Builder
    image: pybuildah.Image
    tmp: Path


Call = Callable[[Ctx, Any], object]


@dataclass(frozen=True)
class Slot:
    """One argument of one call: name, how to call with a value, and whether None means "not given"."""

    name: str
    call: Call
    optional: bool = False  # None is a valid value
    path: bool = False  # bytes and os.PathLike are valid values
    empty_ok: bool = False  # "" is a valid value (an env value, a label value)
    accepts: tuple[type, ...] = ()  # other types it takes (int for ports and user IDs)


B = "localhost/busybox:latest"

SLOTS = [
    # Store
    Slot("Store(root=)", lambda c, v: pybuildah.Store(root=v, driver="vfs"), optional=True, path=True),
    Slot("Store(runroot=)", lambda c, v: pybuildah.Store(root=c.tmp / "s2", runroot=v), optional=True, path=True),
    Slot("Store(driver=)", lambda c, v: pybuildah.Store(root=c.tmp / "s3", driver=v), optional=True),
    Slot("Store(options=[])", lambda c, v: pybuildah.Store(root=c.tmp / "s4", options=[v])),
    Slot("Store(additional_image_stores=[])",
         lambda c, v: pybuildah.Store(root=c.tmp / "s5", additional_image_stores=[v]), path=True),
    Slot("Store.image", lambda c, v: c.store.image(v)),
    Slot("Store.load", lambda c, v: c.store.load(v), path=True),
    Slot("Store.tag(ref)", lambda c, v: c.store.tag(v, ["localhost/t:1"])),
    Slot("Store.tag(names)", lambda c, v: c.store.tag(c.image.id, [v])),
    Slot("Store.remove_image", lambda c, v: c.store.remove_image(v)),
    Slot("Store.exists", lambda c, v: c.store.exists(v)),
    Slot("Store.images(filters=[])", lambda c, v: c.store.images(filters=[v])),
    Slot("Store.containers(filters=[])", lambda c, v: c.store.containers(filters=[v])),
    # Builder
    Slot("Builder(image)", lambda c, v: pybuildah.Builder(v, store=c.store, pull="never")),
    Slot("Builder(name=)", lambda c, v: pybuildah.Builder(B, store=c.store, name=v), optional=True),
    Slot("Builder(isolation=)", lambda c, v: pybuildah.Builder(B, store=c.store, isolation=v)),
    Slot("Builder(pull=)", lambda c, v: pybuildah.Builder(B, store=c.store, pull=v)),
    Slot("Builder(format=)", lambda c, v: pybuildah.Builder(B, store=c.store, format=v)),
    Slot("Builder.open", lambda c, v: pybuildah.Builder.open(v, store=c.store)),
    Slot("diff(image)", lambda c, v: c.builder.diff(v), optional=True),
    Slot("shell([argv])", lambda c, v: c.builder.shell([v])),  # refused before it looks for a terminal
    Slot("shell(env=)", lambda c, v: c.builder.shell(env={"A": v}), empty_ok=True),
    Slot("shell(workdir=)", lambda c, v: c.builder.shell(workdir=v), optional=True),
    Slot("copy(src)", lambda c, v: c.builder.copy(v, "/x/"), path=True, accepts=(list,)),
    Slot("copy([src])", lambda c, v: c.builder.copy(["/etc/hostname", v], "/x/"), path=True),
    Slot("copy(dest)", lambda c, v: c.builder.copy("/etc/hostname", v)),
    Slot("copy(chown=)", lambda c, v: c.builder.copy("/etc/hostname", "/x/", chown=v), optional=True),
    Slot("copy(from_=)", lambda c, v: c.builder.copy("/etc/hostname", "/x/", from_=v), optional=True),
    Slot("add(src)", lambda c, v: c.builder.add(v, "/x/"), path=True, accepts=(list,)),
    Slot("add(dest)", lambda c, v: c.builder.add("/etc/hostname", v)),
    Slot("set_cmd([])", lambda c, v: c.builder.set_cmd(["sh", v]), empty_ok=True),
    Slot("set_entrypoint([])", lambda c, v: c.builder.set_entrypoint([v]), empty_ok=True),
    Slot("set_env(key)", lambda c, v: c.builder.set_env(v, "x")),
    Slot("set_env(value)", lambda c, v: c.builder.set_env("K", v), empty_ok=True),
    Slot("unset_env", lambda c, v: c.builder.unset_env(v)),
    Slot("set_label(key)", lambda c, v: c.builder.set_label(v, "x")),
    Slot("set_label(value)", lambda c, v: c.builder.set_label("k", v), empty_ok=True),
    Slot("unset_label", lambda c, v: c.builder.unset_label(v)),
    Slot("set_annotation(key)", lambda c, v: c.builder.set_annotation(v, "x")),
    Slot("unset_annotation", lambda c, v: c.builder.unset_annotation(v)),
    Slot("set_port", lambda c, v: c.builder.set_port(v), accepts=(int,)),
    Slot("unset_port", lambda c, v: c.builder.unset_port(v), accepts=(int,)),
    Slot("remove_volume", lambda c, v: c.builder.remove_volume(v)),
    Slot("add_onbuild", lambda c, v: c.builder.add_onbuild(v)),
    Slot("set_domainname", lambda c, v: c.builder.set_domainname(v), empty_ok=True),
    Slot("set_healthcheck([])", lambda c, v: c.builder.set_healthcheck(["CMD", v]), empty_ok=True),
    Slot("set_healthcheck(interval=)", lambda c, v: c.builder.set_healthcheck(None, interval=v), optional=True),
    Slot("set_user", lambda c, v: c.builder.set_user(v), accepts=(int,)),
    Slot("set_workdir", lambda c, v: c.builder.set_workdir(v)),
    Slot("add_volume", lambda c, v: c.builder.add_volume(v)),
    Slot("set_shell([])", lambda c, v: c.builder.set_shell(["/bin/sh", v]), empty_ok=True),
    Slot("set_stop_signal", lambda c, v: c.builder.set_stop_signal(v)),
    Slot("set_author", lambda c, v: c.builder.set_author(v), empty_ok=True),
    Slot("set_created_by", lambda c, v: c.builder.set_created_by(v), empty_ok=True),
    Slot("configure(user=)", lambda c, v: c.builder.configure(user=v), accepts=(int,)),
    Slot("configure(os=)", lambda c, v: c.builder.configure(os=v)),
    Slot("run(shell)", lambda c, v: c.builder.run(v), accepts=(list,)),
    Slot("run([argv])", lambda c, v: c.builder.run([v, "x"])),
    Slot("run(env=)", lambda c, v: c.builder.run("true", env={"A": v}), empty_ok=True),
    Slot("run(workdir=)", lambda c, v: c.builder.run("true", workdir=v), optional=True),
    Slot("run(user=)", lambda c, v: c.builder.run("true", user=v), optional=True),
    Slot("run(hostname=)", lambda c, v: c.builder.run("true", hostname=v), optional=True),
    Slot("run(network=)", lambda c, v: c.builder.run("true", network=v), optional=True),
    Slot("run(cap_add=[])", lambda c, v: c.builder.run("true", cap_add=[v])),
    Slot("run(cap_drop=[])", lambda c, v: c.builder.run("true", cap_drop=[v])),
    Slot("run(volumes=[])", lambda c, v: c.builder.run("true", volumes=[v])),
    Slot("run(mounts=[])", lambda c, v: c.builder.run("true", mounts=[v])),
    Slot("copy(exclude=[])", lambda c, v: c.builder.copy("/etc/hostname", "/x/", exclude=[v])),
    Slot("add(checksum=)", lambda c, v: c.builder.add("http://127.0.0.1:9/x", "/x", checksum=v), optional=True),
    Slot("commit(dest)", lambda c, v: c.builder.commit(v), optional=True),
    Slot("commit(format=)", lambda c, v: c.builder.commit(format=v), optional=True),
    Slot("commit(compression=)", lambda c, v: c.builder.commit(compression=v), optional=True),
    # Image
    Slot("Image.tag", lambda c, v: c.image.tag(v)),
    Slot("Image.untag", lambda c, v: c.image.untag(v)),
    Slot("Image.save(path)", lambda c, v: c.image.save(v), path=True),
    Slot("Image.save(format=)", lambda c, v: c.image.save(c.tmp / "out.tar", format=v)),
    Slot("Image.push(dest)", lambda c, v: c.image.push(v)),
    Slot("Image.push(format=)", lambda c, v: c.image.push(f"oci:{c.tmp}/p", format=v), optional=True),
    # module functions
    Slot("pull", lambda c, v: pybuildah.pull(v, store=c.store)),
    Slot("pull(policy=)", lambda c, v: pybuildah.pull(B, store=c.store, policy=v)),
    Slot("push(image_ref)", lambda c, v: pybuildah.push(v, f"oci:{c.tmp}/p", store=c.store)),
    Slot("push(dest)", lambda c, v: pybuildah.push(c.image.id, v, store=c.store)),
    Slot("push(compression=)", lambda c, v: pybuildah.push(c.image.id, f"oci:{c.tmp}/p", store=c.store,
                                                           compression=v), optional=True),
    Slot("login(registry)", lambda c, v: pybuildah.login(v, "u", "p", authfile=c.tmp / "auth.json")),
    Slot("login(username)", lambda c, v: pybuildah.login("localhost:1", v, "p", authfile=c.tmp / "auth.json")),
    Slot("logout(registry)", lambda c, v: pybuildah.logout(v, authfile=c.tmp / "auth.json"), optional=True),
    Slot("logout(authfile=)", lambda c, v: pybuildah.logout("localhost:1", authfile=v), optional=True, path=True),
    Slot("load", lambda c, v: pybuildah.load(v, store=c.store), path=True),
    Slot("tag", lambda c, v: pybuildah.tag(v, "localhost/t:2", store=c.store)),
    Slot("remove_image", lambda c, v: pybuildah.remove_image(v, store=c.store)),
    Slot("build(context)", lambda c, v: pybuildah.build(v, store=c.store), path=True),
    Slot("build(containerfile=)", lambda c, v: pybuildah.build(c.tmp, containerfile=v, store=c.store),
         optional=True, path=True, accepts=(list,)),
    Slot("build(tag=)", lambda c, v: pybuildah.build(c.tmp, tag=[v], store=c.store)),
    Slot("build(target=)", lambda c, v: pybuildah.build(c.tmp, target=v, store=c.store), optional=True),
    Slot("build(isolation=)", lambda c, v: pybuildah.build(c.tmp, isolation=v, store=c.store)),
    Slot("RegistryOptions(cert_dir=)", lambda c, v: pybuildah.pull(
        B, store=c.store, registry=pybuildah.RegistryOptions(cert_dir=v)), optional=True, path=True),
    Slot("RegistryOptions(authfile=)", lambda c, v: pybuildah.pull(B, store=c.store, authfile=v),
         optional=True, path=True),
    Slot("bases.busybox(arch=)", lambda c, v: bases.busybox(c.store, arch=v), optional=True),
]

# Wrong types, one drawn per slot in turn for the fixed corpus (all of them under hypothesis).
WRONG_TYPES: list[Any] = [None, True, 1.5, b"x", ["x"], {"x": 1}, object(), 7]


def _wrong_types(slot: Slot) -> list[Any]:
    out = []
    for value in WRONG_TYPES:
        if value is None and slot.optional:
            continue
        if isinstance(value, bytes) and slot.path:
            continue
        if isinstance(value, slot.accepts) and not isinstance(value, bool):
            continue
        out.append(value)
    return out


@dataclass(frozen=True)
class Case:
    name: str
    call: Callable[[Ctx], object]
    expected: type[BaseException]


def _calling(slot: Slot, value: object) -> Callable[[Ctx], object]:
    return lambda c: slot.call(c, value)


def _slot_cases() -> list[Case]:
    cases = []
    for i, slot in enumerate(SLOTS):
        wrong = _wrong_types(slot)
        for value in (wrong[i % len(wrong)], wrong[(i + 3) % len(wrong)]):
            cases.append(Case(f"{slot.name} <- {value!r}", _calling(slot, value), TYPE))
        if not slot.empty_ok:
            cases.append(Case(f"{slot.name} <- ''", _calling(slot, ""), VALUE))
        cases.append(Case(f"{slot.name} <- NUL", _calling(slot, "a\0b"), VALUE))
    return cases


def _b(method: str, *args: Any, **kwargs: Any) -> Callable[[Ctx], object]:
    return lambda c: getattr(c.builder, method)(*args, **kwargs)


VALUE_CASES = [
    # bad chown / chmod / port / signal strings and out-of-range ints
    Case("copy chown=':'", _b("copy", "/etc/hostname", "/x/", chown=":"), VALUE),
    Case("copy chown='a:b:c'", _b("copy", "/etc/hostname", "/x/", chown="a:b:c"), VALUE),
    Case("copy chmod='999'", _b("copy", "/etc/hostname", "/x/", chmod="999"), VALUE),
    Case("copy chmod=-1", _b("copy", "/etc/hostname", "/x/", chmod=-1), VALUE),
    Case("copy chmod=''", _b("copy", "/etc/hostname", "/x/", chmod=""), VALUE),
    Case("copy chmod=True", _b("copy", "/etc/hostname", "/x/", chmod=True), TYPE),
    Case("copy from_=''", _b("copy", "/etc/hostname", "/x/", from_=""), VALUE),
    Case("set_port(0)", _b("set_port", 0), VALUE),
    Case("set_port(65536)", _b("set_port", 65536), VALUE),
    Case("set_port(-80)", _b("set_port", -80), VALUE),
    Case("set_port('80/icmp')", _b("set_port", "80/icmp"), VALUE),
    Case("set_port('90-80')", _b("set_port", "90-80"), VALUE),
    Case("set_stop_signal('SIGFOO')", _b("set_stop_signal", "SIGFOO"), VALUE),
    Case("set_stop_signal('99')", _b("set_stop_signal", "99"), VALUE),
    Case("set_env('A=B')", _b("set_env", "A=B", "x"), VALUE),
    Case("add_volume('relative')", _b("add_volume", "relative"), VALUE),
    Case("configure(usr=)", _b("configure", usr="1"), VALUE),
    Case("configure(env=None)", _b("configure", env=None), TYPE),
    Case("configure(ports='80')", _b("configure", ports="80"), TYPE),
    Case("configure(cmd=1)", _b("configure", cmd=1), TYPE),
    Case("set_cmd(unclosed quote)", _b("set_cmd", 'echo "unclosed'), VALUE),
    Case("set_shell(unclosed quote)", _b("set_shell", "/bin/sh '-c"), VALUE),
    Case("set_healthcheck(unclosed quote)", _b("set_healthcheck", 'CMD-SHELL "x'), VALUE),
    Case("set_healthcheck(interval='soon')", _b("set_healthcheck", ["CMD", "true"], interval="soon"), VALUE),
    Case("set_healthcheck(timeout='-1s')", _b("set_healthcheck", ["CMD", "true"], timeout="-1s"), VALUE),
    Case("set_healthcheck(retries=-1)", _b("set_healthcheck", ["CMD", "true"], retries=-1), VALUE),
    Case("set_healthcheck(retries='3')", _b("set_healthcheck", ["CMD", "true"], retries="3"), TYPE),
    Case("set_healthcheck(test=3)", _b("set_healthcheck", 3), TYPE),
    Case("configure(healthcheck=[])", _b("configure", healthcheck=[]), TYPE),
    Case("unset_port(0)", _b("unset_port", 0), VALUE),
    Case("remove_volume('relative')", _b("remove_volume", "relative"), VALUE),
    Case("commit(timestamp=True)", _b("commit", "localhost/x:1", timestamp=True), TYPE),
    Case("commit(timestamp=2**70)", _b("commit", "localhost/x:1", timestamp=2**70), VALUE),
    Case("commit(squash='yes')", _b("commit", "localhost/x:1", squash="yes"), TYPE),
    Case("commit('oci-archive:')", _b("commit", "oci-archive:"), VALUE),
    Case("commit('UPPER:1')", _b("commit", "UPPER:1"), VALUE),
    Case("run([])", _b("run", []), VALUE),
    Case("run('  ')", _b("run", "  "), VALUE),
    Case("run(check='no')", _b("run", "true", check="no"), TYPE),
    Case("run(env=list)", _b("run", "true", env=["A=1"]), TYPE),
    Case("copy(src=list of int)", _b("copy", [1], "/x/"), TYPE),
    Case("copy(src=42)", _b("copy", 42, "/x/"), TYPE),
    Case("copy([])", _b("copy", [], "/x/"), VALUE),
    # unknown transports and references
    Case("pull('nosuch:x')", lambda c: pybuildah.pull("nosuchtransport://x", store=c.store), VALUE),
    Case("push(dest='bogus://x')", lambda c: pybuildah.push(c.image.id, "bogus://x", store=c.store), VALUE),
    Case("Image.push('oci-archive:')", lambda c: c.image.push("oci-archive:"), VALUE),
    Case("Image.save(format='tar')", lambda c: c.image.save(c.tmp / "o.tar", format="tar"), VALUE),
    Case("Image.push(compression_level=True)",
         lambda c: c.image.push(f"oci:{c.tmp}/q", compression_level=True), TYPE),
    Case("pull(all_tags='yes')", lambda c: pybuildah.pull(B, store=c.store, all_tags="yes"), TYPE),  # type: ignore[arg-type]
    Case("pull(registry='x')", lambda c: pybuildah.pull(B, store=c.store, registry="x"), TYPE),  # type: ignore[arg-type]
    Case("pull(retries=True)", lambda c: pybuildah.pull(B, store=c.store, retries=True), TYPE),
    Case("pull(tls_verify='no')", lambda c: pybuildah.pull(B, store=c.store, tls_verify="no"), TYPE),  # type: ignore[arg-type]
    Case("pull(creds=1)", lambda c: pybuildah.pull(B, store=c.store, creds=1), TYPE),  # type: ignore[arg-type]
    Case("pull(creds=('u',))", lambda c: pybuildah.pull(B, store=c.store, creds=("u",)), TYPE),  # type: ignore[arg-type]
    Case("build(jobs=0)", lambda c: pybuildah.build(c.tmp, jobs=0, store=c.store), VALUE),
    Case("build(jobs=True)", lambda c: pybuildah.build(c.tmp, jobs=True, store=c.store), TYPE),
    Case("build(build_args={'A': None})",
         lambda c: pybuildah.build(c.tmp, build_args={"A": None}, store=c.store), TYPE),  # type: ignore[dict-item]
    Case("build(labels={'': 'x'})", lambda c: pybuildah.build(c.tmp, labels={"": "x"}, store=c.store), VALUE),
    Case("build(keep_failed='yes')", lambda c: pybuildah.build(c.tmp, keep_failed="yes", store=c.store),  # type: ignore[call-overload]
         TYPE),
    Case("diff(missing image)", lambda c: c.builder.diff("localhost/no-such-image:1"), LOOKUP),
    Case("build(log=1)", lambda c: pybuildah.build(c.tmp, log=1, store=c.store), TYPE),  # type: ignore[call-overload]
    Case("images(store=1)", lambda c: pybuildah.images(store=1), TYPE),  # type: ignore[arg-type]
    Case("containers(store='x')", lambda c: pybuildah.containers(store="x"), TYPE),  # type: ignore[arg-type]
    Case("remove_image(force=1)", lambda c: c.store.remove_image(c.image.id, force=1), TYPE),  # type: ignore[arg-type]
    Case("Image.remove(force='y')", lambda c: c.image.remove(force="y"), TYPE),  # type: ignore[arg-type]
    Case("logout(all='y')", lambda c: pybuildah.logout(all="y", authfile=c.tmp / "auth.json"), TYPE),  # type: ignore[arg-type]
    Case("login(tls_verify='no')",
         lambda c: pybuildah.login("localhost:1", "u", "p", tls_verify="no"), TYPE),  # type: ignore[arg-type]
    Case("bases.busybox(arch='vax')", lambda c: bases.busybox(c.store, arch="vax"), VALUE),
    # what does not exist
    Case("Store.image(missing)", lambda c: c.store.image("localhost/no-such:1"), LOOKUP),
    Case("Builder(missing image)", lambda c: pybuildah.Builder("localhost/no-such:1", store=c.store, pull="never"),
         LOOKUP),
    Case("Builder.open(missing)", lambda c: pybuildah.Builder.open("no-such-container", store=c.store), LOOKUP),
    Case("copy(missing source)", lambda c: c.builder.copy(c.tmp / "not-there", "/x/"), MISSING),
    Case("copy(from_=missing image)", _b("copy", "/etc/passwd", "/x/", from_="localhost/no-such:1"), LOOKUP),
    Case("Image.untag(missing name)", lambda c: c.image.untag("localhost/never-had:1"), LOOKUP),
    Case("remove_image(missing)", lambda c: pybuildah.remove_image("localhost/no-such:1", store=c.store), LOOKUP),
    Case("tag(missing)", lambda c: pybuildah.tag("localhost/no-such:1", "localhost/t:3", store=c.store), LOOKUP),
    Case("load(missing)", lambda c: pybuildah.load(c.tmp / "no-such.tar", store=c.store), MISSING),
    Case("pull(missing archive)", lambda c: pybuildah.pull(f"oci-archive:{c.tmp}/no.tar", store=c.store), LOOKUP),
    Case("push(missing image)", lambda c: pybuildah.push("localhost/no-such:1", f"oci:{c.tmp}/p", store=c.store),
         LOOKUP),
    Case("build(missing context)", lambda c: pybuildah.build(c.tmp / "no-such-dir", store=c.store), MISSING),
    Case("bases.busybox(busybox=missing)", lambda c: bases.busybox(c.store, busybox=c.tmp / "no-busybox"), MISSING),
]

CORPUS = _slot_cases() + VALUE_CASES


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory, base_store_root: Path) -> Iterator[Ctx]:
    tmp = tmp_path_factory.mktemp("bad-input")
    (tmp / "Containerfile").write_text("FROM localhost/busybox:latest\n")
    with (pybuildah.Store(root=tmp / "root", driver="overlay", additional_image_stores=[base_store_root]) as store,
          pybuildah.Builder(B, store=store) as builder):
        image = builder.commit("localhost/corpus:1")
        yield Ctx(store, builder, image, tmp)


def _snapshot(c: Ctx) -> object:
    images = sorted((i.id, tuple(sorted(i.names))) for i in c.store.images())
    containers = sorted((i.id, i.name) for i in c.store.containers())
    config = c.builder.config  # ports and volumes come from maps upstream: their order is not kept
    config = dataclasses.replace(config, ports=sorted(config.ports), volumes=sorted(config.volumes))
    return images, containers, config, sorted(os.listdir("."))


@pytest.fixture
def empty_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory: what "" would mean if it slipped through."""
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def _check(c: Ctx, call: Callable[[Ctx], object], expected: type[BaseException]) -> None:
    before = _snapshot(c)
    with pytest.raises(pybuildah.BuildahError) as caught:
        call(c)
    exc = caught.value
    assert isinstance(exc, expected), f"{type(exc).__name__}: {exc}"
    assert type(exc) not in (pybuildah.BuildahError, pybuildah.InternalError), f"{type(exc).__name__}: {exc}"
    assert str(exc) and "goroutine" not in str(exc) and "pipe" not in str(exc)
    assert _snapshot(c) == before


def test_corpus_size() -> None:
    kinds = [case.expected for case in CORPUS]
    assert len(CORPUS) >= 80
    assert kinds.count(TYPE) >= 30 and kinds.count(VALUE) >= 30 and kinds.count(LOOKUP) + kinds.count(MISSING) >= 10
    assert len({case.name for case in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("case", CORPUS, ids=[case.name for case in CORPUS])
def test_bad_input(ctx: Ctx, empty_cwd: Path, case: Case) -> None:
    _check(ctx, case.call, case.expected)


def _bad_values(slot: Slot) -> st.SearchStrategy[tuple[Any, type[BaseException]]]:
    wrong = st.sampled_from(_wrong_types(slot)).map(lambda v: (v, TYPE))
    nul = st.tuples(st.text(max_size=10), st.text(max_size=10)).map(lambda p: (p[0] + "\0" + p[1], VALUE))
    options = [wrong, nul]
    if not slot.empty_ok:
        options.append(st.just(("", VALUE)))
    return st.one_of(*options)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_bad_input_drawn(ctx: Ctx, empty_cwd: Path, data: st.DataObject) -> None:
    slot = data.draw(st.sampled_from(SLOTS), label="slot")
    value, expected = data.draw(_bad_values(slot), label="value")
    _check(ctx, lambda c: slot.call(c, value), expected)


# Parameter domains: hypothesis draws from each parameter's valid and invalid regions. A valid value
# is accepted; an invalid one raises the typed error that is also the matching builtin and changes
# nothing.  One shared store; a fresh working container per parameter, so accepted values (a user, an
# env) do not leak into other tests.

MIN_TS, MAX_TS = -62135596800, 253402300799  # years 1 to 9999: what an image's JSON time can hold
MAX_ID = 2**32 - 2
NOT_CALLABLE = st.one_of(st.integers(), st.text(max_size=5), st.binary(max_size=5), st.lists(st.integers(), max_size=2))
ENV_NAMES = st.text(min_size=1, max_size=12).filter(lambda s: "=" not in s and "\0" not in s)
BAD_ENV_NAMES = st.one_of(st.just(""), st.tuples(st.text(max_size=5), st.text(max_size=5)).map("=".join))
HOST_CHARS = st.characters(codec="ascii", categories=["L", "N"])
MODES = st.integers(0, 0o7777)
BAD_MODES = st.one_of(st.integers(0o10000, 2**62), st.integers(max_value=-1))
PORTS = st.integers(1, 65535)
BAD_PORTS = st.one_of(st.integers(max_value=0), st.integers(min_value=65536, max_value=2**40))


def _octal(mode: st.SearchStrategy[int]) -> st.SearchStrategy[str]:
    return mode.map(lambda n: f"{n:o}" if n >= 0 else f"-{-n:o}")


def _removed(image: pybuildah.Image | object) -> None:
    """Accepted calls that make images leave none behind (the store stays small)."""
    if isinstance(image, pybuildah.Image):
        image.remove(force=True)


@dataclass(frozen=True)
class Domain:
    """A parameter: how to call with a value, its valid region, its invalid region and their error."""

    name: str
    call: Call
    valid: st.SearchStrategy[Any]
    invalid: st.SearchStrategy[Any]
    expected: type[BaseException] = VALUE
    examples: int = 12


def _build(c: Ctx, **kwargs: Any) -> None:
    context = c.tmp / "domain-build"
    if not context.exists():
        context.mkdir()
        (context / "Containerfile").write_text(f"FROM {B}\nLABEL domain=1\n")  # a new image, never the base
    _removed(pybuildah.build(context, store=c.store, **{"log": lambda line: None, **kwargs}))


DOMAINS = [
    Domain("copy(chmod=int)", lambda c, v: c.builder.copy("/etc/hostname", "/x", chmod=v), MODES, BAD_MODES),
    Domain("copy(chmod=str)", lambda c, v: c.builder.copy("/etc/hostname", "/x", chmod=v), _octal(MODES),
           st.one_of(_octal(BAD_MODES), st.from_regex(r"\A[0-7]*[89][0-9]*\Z"), st.sampled_from(["0o7", "0x1ff"]))),
    Domain("copy(chown=) IDs", lambda c, v: c.builder.copy("/etc/hostname", "/x", chown=v),
           st.tuples(st.integers(0, 65535), st.integers(0, 65535)).map(lambda p: f"{p[0]}:{p[1]}"),
           st.tuples(st.integers(max_value=-1), st.integers(0, 9)).map(lambda p: f"{p[0]}:{p[1]}")),
    Domain("set_env(name)", lambda c, v: c.builder.set_env(v, "x"), ENV_NAMES, BAD_ENV_NAMES),
    Domain("configure(env=) names", lambda c, v: c.builder.configure(env={v: "x"}), ENV_NAMES, BAD_ENV_NAMES),
    Domain("run(env=) names", lambda c, v: c.builder.run("true", env={v: "x"}), ENV_NAMES, BAD_ENV_NAMES,
           examples=6),
    Domain("build(env=) names", lambda c, v: _build(c, env={v: "x"}), ENV_NAMES, BAD_ENV_NAMES, examples=5),
    Domain("set_port(int)", lambda c, v: c.builder.set_port(v), PORTS, BAD_PORTS),
    Domain("set_port(str)", lambda c, v: c.builder.set_port(v),
           st.tuples(PORTS, st.sampled_from(["tcp", "udp", "sctp"])).map(lambda p: f"{p[0]}/{p[1]}"),
           st.one_of(BAD_PORTS.map(str), PORTS.map(lambda p: f"{p}/icmp"))),
    Domain("set_user(int)", lambda c, v: c.builder.set_user(v), st.integers(0, MAX_ID),
           st.one_of(st.integers(max_value=-1), st.integers(min_value=MAX_ID + 1, max_value=2**62))),
    Domain("set_stop_signal", lambda c, v: c.builder.set_stop_signal(v), st.integers(1, 64).map(str),
           st.one_of(st.integers(max_value=0), st.integers(65, 2**31)).map(str)),
    Domain("set_stop_signal(SIGRT)", lambda c, v: c.builder.set_stop_signal(v),
           st.one_of(st.integers(0, 30).map("SIGRTMIN+{}".format), st.integers(0, 30).map("SIGRTMAX-{}".format)),
           st.one_of(st.integers(31, 2**40).map("SIGRTMIN+{}".format), st.integers(1, 99).map("SIGRTMAX+{}".format))),
    Domain("run(hostname=)", lambda c, v: c.builder.run("true", hostname=v),
           st.text(HOST_CHARS, min_size=1, max_size=64), st.text(HOST_CHARS, min_size=65, max_size=300), examples=6),
    Domain("Image.push(compression_level=) gzip",
           lambda c, v: c.image.push(f"oci:{c.tmp}/levels:1", compression_level=v, progress=None),
           st.integers(-2, 9), st.one_of(st.integers(max_value=-3), st.integers(min_value=10)), examples=6),
    Domain("commit(timestamp=)", lambda c, v: _removed(c.builder.commit("localhost/domain:ts", timestamp=v)),
           st.integers(MIN_TS, MAX_TS), st.one_of(st.integers(max_value=MIN_TS - 1), st.integers(min_value=MAX_TS + 1)),
           examples=6),
    Domain("build(source_date_epoch=)", lambda c, v: _build(c, source_date_epoch=v), st.integers(0, MAX_TS),
           st.one_of(st.integers(max_value=-1), st.integers(min_value=MAX_TS + 1)), examples=5),
    Domain("build(timestamp=)", lambda c, v: _build(c, timestamp=v), st.integers(MIN_TS, MAX_TS),
           st.one_of(st.integers(max_value=MIN_TS - 1), st.integers(min_value=MAX_TS + 1)), examples=5),
    Domain("build(ulimits=)", lambda c, v: _build(c, ulimits=[v]),
           st.tuples(st.integers(0, 4096), st.integers(0, 4096)).map(lambda p: f"nofile={min(p)}:{max(p)}"),
           st.one_of(st.integers(max_value=-2).map(lambda n: f"nofile={n}:{n}"),
                     st.tuples(st.integers(1, 4096), st.integers(1, 4096)).filter(lambda p: p[0] != p[1])
                     .map(lambda p: f"nofile={max(p)}:{min(p)}")), examples=5),
    Domain("build(jobs=)", lambda c, v: _build(c, jobs=v), st.integers(1, 64), st.integers(max_value=0), examples=5),
    Domain("run(timeout=)", lambda c, v: c.builder.run("true", timeout=v),
           st.floats(1, 365 * 86400), st.one_of(st.floats(max_value=0), st.floats(min_value=365 * 86400 + 1),
                                                 st.just(float("nan"))), examples=6),
    Domain("run(log=)", lambda c, v: c.builder.run("echo hi", log=v), st.just([].append), NOT_CALLABLE, TYPE,
           examples=6),
    Domain("build(log=)", lambda c, v: _build(c, log=v), st.just([].append), NOT_CALLABLE, TYPE, examples=6),
]


@pytest.fixture
def fresh(ctx: Ctx) -> Iterator[Ctx]:
    """The shared store with a working container of its own."""
    with pybuildah.Builder(B, store=ctx.store) as builder:
        yield Ctx(ctx.store, builder, ctx.image, ctx.tmp)


@pytest.mark.parametrize("domain", DOMAINS, ids=[domain.name for domain in DOMAINS])
def test_parameter_domain(fresh: Ctx, empty_cwd: Path, domain: Domain) -> None:
    regions = {"valid": 0, "invalid": 0}

    @settings(max_examples=domain.examples, deadline=None, database=None)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        if data.draw(st.booleans(), label="valid region"):
            regions["valid"] += 1
            domain.call(fresh, data.draw(domain.valid, label="valid value"))  # accepted
        else:
            regions["invalid"] += 1
            value = data.draw(domain.invalid, label="invalid value")
            _check(fresh, lambda c: domain.call(c, value), domain.expected)

    check()
    assert regions["valid"] and regions["invalid"], regions  # both regions were drawn
