"""Rich display (Jupyter's _repr_html_, IPython's _repr_pretty_) of real objects in a temporary store."""

from __future__ import annotations

from pathlib import Path

import pytest
from IPython.lib.pretty import pretty

import pybuildah
from pybuildah import display

pytestmark = pytest.mark.fast  # ./dev check's quick tier

HOSTILE = '<script>alert("x")</script>\'"&'
ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#x27;&quot;&amp;"


def assert_safe(html: str) -> None:
    """No markup from the hostile value got through; its escaped form did."""
    assert "<script" not in html
    assert ESCAPED in html


@pytest.fixture
def hostile_image(store: pybuildah.Store, busybox: str) -> pybuildah.Image:
    with pybuildah.Builder(busybox, store=store) as b:
        b.set_label("evil", HOSTILE)
        b.set_env("EVIL", HOSTILE)
        b.set_cmd(["echo", HOSTILE])
        b.set_created_by(HOSTILE)
        return b.commit("hostile:1")


def test_image_html_shows_id_names_size_config_and_history(hostile_image: pybuildah.Image) -> None:
    html = hostile_image._repr_html_()
    assert hostile_image.id in html
    assert "localhost/hostile:1" in html
    assert display.human_size(hostile_image.size) in html
    assert "history (2 entries)" in html
    assert "<details" in html and "<table" in html
    assert_safe(html)


def test_image_pretty_is_the_ipython_pretty_printer_output(hostile_image: pybuildah.Image) -> None:
    text = pretty(hostile_image)
    assert text.startswith(repr(hostile_image))
    assert f"id: {hostile_image.id}" in text
    assert "labels: {'evil':" in text
    assert "history: 2 entries" in text


def test_builder_displays_its_container_base_and_config_then_still_displays_once_deleted(
        store: pybuildah.Store, busybox: str) -> None:
    b = pybuildah.Builder(busybox, store=store, name="display-me")
    b.set_label("evil", HOSTILE)
    b.set_workdir("/srv")
    html = b._repr_html_()
    assert "display-me" in html and b.id in html and busybox in html
    assert "/srv" in html
    assert_safe(html)
    assert "workdir: /srv" in pretty(b)
    b.delete()
    html = b._repr_html_()
    assert "(deleted)" in html and b.id in html
    assert "config: deleted" in pretty(b)


def test_builder_whose_container_was_deleted_elsewhere_still_displays(store: pybuildah.Store, busybox: str) -> None:
    b = pybuildah.Builder(busybox, store=store)
    pybuildah.Builder.open(b.id, store=store).delete()
    assert b.id in b._repr_html_() and b.id in pretty(b)  # Buildah still holds its config in memory
    b._finalizer()  # the Go handle released: reading the config now raises ContainerNotFound
    with pytest.raises(pybuildah.ContainerNotFound):
        _ = b.config
    assert "config unavailable" in b._repr_html_() and "config unavailable" in pretty(b)


def test_store_displays_an_images_table_and_a_closed_store_too(
        store: pybuildah.Store, hostile_image: pybuildah.Image, tmp_path: Path) -> None:
    html = store._repr_html_()
    assert hostile_image.short_id in html and "localhost/hostile:1" in html and "localhost/busybox:latest" in html
    assert str(store.root) in html
    assert hostile_image.short_id in pretty(store)
    other = pybuildah.Store(root=tmp_path / "other", driver="vfs")
    other.close()
    assert "(closed)" in other._repr_html_()
    assert "closed" in pretty(other)


def test_build_error_highlights_the_failing_step_and_shows_the_log_tail(
        store: pybuildah.Store, tmp_path: Path) -> None:
    (tmp_path / "Containerfile").write_text(
        "FROM localhost/busybox:latest\nRUN echo '<script>alert(1)</script>'\nRUN exit 7\n")
    with pytest.raises(pybuildah.BuildError) as caught:
        pybuildah.build(tmp_path, store=store, log=lambda line: None)
    error = caught.value
    html = error._repr_html_()
    assert "<b>&gt;&gt; STEP 3/3: RUN exit 7</b>" in html
    assert "<b>RUN exit 7</b>" in html  # the instruction
    assert "last " in html and "lines of the build log" in html
    assert "<script" not in html and "&lt;script&gt;" in html
    text = pretty(error)
    assert ">> STEP 3/3: RUN exit 7" in text and "exit code: 7" in text


def test_run_result_shows_exit_code_and_escaped_output(store: pybuildah.Store, busybox: str) -> None:
    with pybuildah.Builder(busybox, store=store) as b:
        result = b.run(["sh", "-c", "echo '<b>out</b>'; echo \"<i>err</i>\" >&2; exit 3"], check=False)
    html = result._repr_html_()
    assert "exit code <b>3</b>" in html
    assert "&lt;b&gt;out&lt;/b&gt;" in html and "&lt;i&gt;err&lt;/i&gt;" in html
    assert "<i>err" not in html
    text = pretty(result)
    assert text.startswith("RunResult(exit_code=3)") and "<b>out</b>" in text


def test_a_failing_renderer_falls_back_to_the_plain_repr() -> None:
    class Broken(display.RichRepr):
        names = property(lambda self: 1 / 0)

        def __repr__(self) -> str:
            return "<broken & bad>"

    display._RENDERERS[f"{Broken.__module__}.{Broken.__qualname__}"] = (display.image_html, display.image_text)
    try:
        assert Broken()._repr_html_() == "<pre>&lt;broken &amp; bad&gt; (display failed: ZeroDivisionError)</pre>"
        assert pretty(Broken()).startswith("<broken & bad> (display failed: ")
    finally:
        del display._RENDERERS[f"{Broken.__module__}.{Broken.__qualname__}"]


def test_every_rich_class_has_a_renderer() -> None:
    for cls in (pybuildah.Image, pybuildah.Builder, pybuildah.Store, pybuildah.BuildError, pybuildah.RunResult):
        assert issubclass(cls, display.RichRepr)
        assert "_repr_pretty_" in vars(cls), cls  # IPython stops at the first class defining __repr__
        assert any(f"{c.__module__}.{c.__qualname__}" in display._RENDERERS for c in cls.__mro__), cls
