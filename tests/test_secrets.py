"""Secrets and parameters: no password or secret value in any message, log line or repr, however
malformed; values joined into Buildah's flag strings are never re-interpreted."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from registry import USERNAME, Registry, auth_registry

import pybuildah

__all__ = ["auth_registry"]

# The awkward parts a password may hold: NUL, quotes, backslashes, newlines, unicode, shell and JSON syntax.
AWKWARD = st.text(alphabet=st.sampled_from(["\x00", '"', "'", "\\", "\n", "\r", "\t", ":", ",", "=", "%", "{",
                                            "}", "é", "€", "😀", "\u200b", "\x7f", " ", "$", "/", "a"]),
                  max_size=6)
PASSWORDS = st.tuples(AWKWARD, AWKWARD).map(lambda parts: parts[0] + uuid.uuid4().hex[:16] + parts[1])
SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))


def _token(password: str) -> str:
    """The distinctive 16 hex digits inside a drawn password: any escaping of it keeps them as they are."""
    return next(part for part in (password[i:i + 16] for i in range(len(password)))
                if len(part) == 16 and all(c in "0123456789abcdef" for c in part))


def assert_hidden(password: str, action: Callable[[], Any], caplog: pytest.LogCaptureFixture,
                  lines: list[str] | None = None) -> BaseException:
    """Run action, which must fail; neither the password nor its token may be in the error, its repr,
    its text attributes, the pybuildah log records or the given log lines."""
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="pybuildah"), pytest.raises(pybuildah.BuildahError) as caught:
        action()
    error = caught.value
    shown = [str(error), repr(error), *(str(v) for v in vars(error).values()),
             *(record.getMessage() for record in caplog.records), *(lines or [])]
    for text in shown:
        assert password not in text and _token(password) not in text, (password, text)
    return error


@SETTINGS
@given(password=PASSWORDS)
def test_login_never_shows_the_password(password: str, auth_registry: Registry, tmp_path: Path,
                                        caplog: pytest.LogCaptureFixture) -> None:
    error = assert_hidden(password, lambda: pybuildah.login(
        auth_registry.host, USERNAME, password, tls_verify=False, authfile=str(tmp_path / "never.json")), caplog)
    expected = pybuildah.InvalidArgument if "\x00" in password else pybuildah.AuthenticationError
    assert isinstance(error, expected), repr(error)


@SETTINGS
@given(password=PASSWORDS, as_tuple=st.booleans())
def test_creds_on_pull_and_push_never_show_the_password(password: str, as_tuple: bool, auth_registry: Registry,
                                                        store: pybuildah.Store, busybox: str,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    creds: str | tuple[str, str] = (USERNAME, password) if as_tuple else f"{USERNAME}:{password}"
    ref = auth_registry.ref("secret-leak:1")
    assert_hidden(password, lambda: pybuildah.pull(ref, store=store, tls_verify=False, creds=creds, retries=0),
                  caplog)
    image = store.image(busybox)
    assert_hidden(password, lambda: image.push(ref, tls_verify=False, creds=creds, retries=0, progress=None),
                  caplog)
    assert_hidden(password, lambda: pybuildah.Builder("docker://" + ref, store=store, tls_verify=False,
                                                      creds=creds, retries=0), caplog)


@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
@given(password=PASSWORDS)
def test_creds_and_secrets_of_a_build_never_show(password: str, auth_registry: Registry, store: pybuildah.Store,
                                                 busybox: str, tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    lines: list[str] = []
    pulling = io.StringIO(f"FROM {auth_registry.ref('secret-leak:1')}\n")
    assert_hidden(password, lambda: pybuildah.build(
        tmp_path, containerfile=pulling, store=store, tls_verify=False, creds=(USERNAME, password), retries=0,
        log=lines.append), caplog, lines)
    # The secret's value reaches the RUN step (it tests it), never the log or the error.
    lines.clear()
    os.environ["PYBUILDAH_TEST_SECRET"] = password.replace("\x00", "")
    try:
        failing = io.StringIO(f"FROM {busybox}\nRUN --mount=type=secret,id=a --mount=type=secret,id=b "
                              "test -s /run/secrets/a && test -s /run/secrets/b && false\n")
        secrets: dict[str, str | bytes] = {"a": password.encode(), "b": "env:PYBUILDAH_TEST_SECRET"}
        error = assert_hidden(password.replace("\x00", ""), lambda: pybuildah.build(
            tmp_path, containerfile=failing, store=store, secrets=secrets, log=lines.append), caplog, lines)
    finally:
        del os.environ["PYBUILDAH_TEST_SECRET"]
    assert isinstance(error, pybuildah.BuildError) and error.exit_code == 1, repr(error)


def test_a_nul_in_creds_is_refused_without_echo(store: pybuildah.Store) -> None:
    with pytest.raises(pybuildah.InvalidArgument) as caught:
        pybuildah.pull("localhost:1/x:1", store=store, creds="bob:" + "se\x00cret-value-42", retries=0)
    assert "cret-value-42" not in str(caught.value) and "NUL" in str(caught.value)
    with pytest.raises(pybuildah.InvalidArgument) as caught:
        pybuildah.pull("localhost:1/x:1", store=store, creds="no-colon\x00secret-value-42", retries=0)
    assert "secret-value-42" not in str(caught.value)


def test_a_user_name_with_a_colon_is_refused() -> None:
    """Go splits "user:password" at the first colon: a tuple's user with a colon would move the split."""
    with pytest.raises(pybuildah.InvalidArgument, match="user name"):
        pybuildah.RegistryOptions(creds=("a:b", "pw"))._wire()
    with pytest.raises(pybuildah.InvalidArgument, match="user name"):
        pybuildah.login("localhost:1", "a:b", "pw")


# Flag strings -----------------------------------------------------------------------------


def test_a_secret_path_with_a_comma_reads_that_file(store: pybuildah.Store, busybox: str, tmp_path: Path) -> None:
    """id=X,type=file,src=PATH: a comma in PATH used to start a new key, so "src=" could name another file."""
    decoy = tmp_path / "decoy"
    decoy.write_text("decoy")
    # A real file whose path reads, after the comma, as "src=<decoy>".
    real = Path(f"{tmp_path}/d,src={decoy}")
    real.parent.mkdir(parents=True)
    real.write_text("real")
    plain_with_comma = tmp_path / "a,b.txt"
    plain_with_comma.write_text("comma")
    lines: list[str] = []
    pybuildah.build(tmp_path, containerfile=io.StringIO(
        f"FROM {busybox}\nRUN --mount=type=secret,id=tok --mount=type=secret,id=other "
        "sh -c 'echo got:$(cat /run/secrets/tok):$(cat /run/secrets/other)'\n"),
        store=store, secrets={"tok": real, "other": str(plain_with_comma)}, log=lines.append)
    assert any("got:real:comma" in line for line in lines), lines


def test_a_missing_secret_path_with_a_comma_is_named_as_given(store: pybuildah.Store, tmp_path: Path) -> None:
    with pytest.raises(pybuildah.InvalidArgument, match=r"secrets: .*/gone,src=x does not exist"):
        pybuildah.build(tmp_path, containerfile=io.StringIO("FROM scratch\n"), store=store,
                        secrets={"tok": tmp_path / "gone,src=x"})


@pytest.mark.parametrize("secrets", [{"a,src=/etc/shadow": b"x"}, {"a=b": b"x"}])
def test_a_secret_id_with_a_separator_is_refused(secrets: dict[str, bytes], tmp_path: Path,
                                                 store: pybuildah.Store) -> None:
    with pytest.raises(pybuildah.InvalidArgument, match="secrets: the id"):
        pybuildah.build(tmp_path, containerfile=io.StringIO("FROM scratch\n"), store=store, secrets=secrets)


@pytest.mark.parametrize(("option", "value", "field"), [
    ("labels", {"a=b": "c"}, "labels: the name"),
    ("annotations", {"x=y": "z"}, "annotations: the name"),
    ("env", {"K=V": "w"}, "env: the name"),
    ("ssh", {"id=x": None}, "ssh: the id"),
    ("ssh", ["a,b"], "ssh: the id"),
])
def test_names_holding_a_separator_are_refused(option: str, value: Any, field: str, tmp_path: Path,
                                               store: pybuildah.Store) -> None:
    with pytest.raises(pybuildah.InvalidArgument, match=field):
        pybuildah.build(tmp_path, containerfile=io.StringIO("FROM scratch\n"), store=store, **{option: value})


def test_an_ssh_key_path_with_a_comma_is_one_key(store: pybuildah.Store, busybox: str, tmp_path: Path) -> None:
    """ID=KEY[,KEY...]: a comma in a key's path would split it into two (missing) keys."""
    key = tmp_path / "k,ey"
    key.write_bytes(b"not a key")
    with pytest.raises(pybuildah.BuildahError) as caught:
        pybuildah.build(tmp_path, containerfile=io.StringIO(f"FROM {busybox}\n"), store=store, ssh={"k": key})
    assert str(tmp_path / "k") + "\n" not in str(caught.value)
    assert "no such file" not in str(caught.value).lower(), caught.value  # the key was found, and is not a key


def test_an_additional_image_store_with_a_comma_is_refused(tmp_path: Path) -> None:
    """The overlay driver splits its imagestore= option at commas."""
    odd = tmp_path / "a,b"
    odd.mkdir()
    with pytest.raises(pybuildah.InvalidArgument, match="comma"):
        pybuildah.Store(root=tmp_path / "root", driver="overlay", additional_image_stores=[odd])


def test_a_relative_context_directory_that_looks_like_a_url_stays_a_directory(
        store: pybuildah.Store, busybox: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    extra = tmp_path / "odd:" / "" / "dir"
    extra.mkdir(parents=True)
    (extra / "f.txt").write_text("from the odd directory")
    image = pybuildah.build(tmp_path, containerfile=io.StringIO(
        f"FROM {busybox}\nCOPY --from=extra f.txt /f.txt\n"), store=store, build_contexts={"extra": "odd://dir"})
    with pybuildah.Builder(image.id, store=store) as b:
        assert b.run("cat /f.txt").stdout == "from the odd directory"


def test_run_env_names_holding_an_equals_sign_are_refused(store: pybuildah.Store, busybox: str) -> None:
    """run() joins env as NAME=VALUE too: {"A=B": "c"} would have set A to "B=c"."""
    with pybuildah.Builder(busybox, store=store) as b:
        with pytest.raises(pybuildah.InvalidArgument, match="env: the name"):
            b.run("true", env={"A=B": "c"})
        assert b.run("echo $A", env={"A": "B=c"}).stdout == "B=c\n"


DEBUG_CHILD = """
import io, logging, sys, pybuildah
host, user, root, log, token = sys.argv[1:6]
logging.basicConfig(level=logging.DEBUG, filename=log)
store = pybuildah.Store(root=root, driver="vfs")
shown = []
for password in ("q\\"u'o\\\\te" + token + "\\n", "nul\\x00" + token, token + "é€😀"):
    for action in (
        lambda: pybuildah.login(host, user, password, tls_verify=False, authfile=root + "/auth.json"),
        lambda: pybuildah.pull(host + "/x:1", store=store, tls_verify=False, creds=(user, password), retries=0),
        lambda: pybuildah.build(root, containerfile=io.StringIO("FROM " + host + "/x:1\\n"), store=store,
                                tls_verify=False, creds=user + ":" + password, retries=0, log=shown.append),
    ):
        try:
            action()
        except pybuildah.BuildahError as error:
            shown += [type(error).__name__, str(error), repr(error)]
        else:
            raise SystemExit("should have failed")
print("\\n".join(shown))
"""


def test_no_form_of_a_password_reaches_a_debug_log(tmp_path: Path, auth_registry: Registry) -> None:
    """At Buildah's debug log level, every line logged while the calls run (Go's and Python's) is free of it."""
    token = uuid.uuid4().hex
    log = tmp_path / "debug.log"
    result = subprocess.run([sys.executable, "-c", DEBUG_CHILD, auth_registry.host, USERNAME, str(tmp_path / "root"),
                             str(log), token], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYBUILDAH_LOG_LEVEL": "debug"})
    assert result.returncode == 0, result.stderr[-3000:]
    logged = log.read_text()
    assert logged.count("DEBUG:pybuildah") > 10, "the debug log should not be empty"
    assert result.stdout.count("AuthenticationError") >= 5 and "InvalidArgument" in result.stdout, result.stdout
    for text in (logged, result.stdout, result.stderr):
        assert token not in text
