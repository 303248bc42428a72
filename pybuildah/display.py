"""Rich display in Jupyter and IPython: ``_repr_html_`` and ``_repr_pretty_`` for pybuildah's objects.

Image, Builder, Store, BuildError and RunResult inherit RichRepr, whose two
methods find this module's renderers for the object's class.  The HTML is
plain (tables, <details>, <b>, <pre>), readable without CSS, and escapes
every value.  A renderer never raises: whatever goes wrong, the object's
plain repr is shown instead.

This module imports nothing from pybuildah (every module may import it),
so renderers read their objects by attribute.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import datetime

MAX_ROWS = 50  # images listed by a Store's repr
MAX_OUTPUT = 4000  # characters of stdout/stderr shown by a RunResult's repr
TABLE = '<table style="text-align:left">'

Renderer = Callable[[Any], str]


class RichRepr:
    """Mixin: IPython's rich display (``_repr_html_``) and pretty printer (``_repr_pretty_``)."""

    __slots__ = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # IPython's printer takes the first class in the MRO that defines _repr_pretty_ or
        # __repr__: each subclass (with its own __repr__) gets _repr_pretty_ in its own dict.
        cls._repr_pretty_ = RichRepr._repr_pretty_  # type: ignore[method-assign]

    def _repr_html_(self) -> str:
        return to_html(self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self) if cycle else to_text(self))


def to_html(obj: object) -> str:
    """The HTML that Jupyter shows for obj; never raises."""
    return _render(obj, 0)


def to_text(obj: object) -> str:
    """The text that IPython's pretty printer shows for obj; never raises."""
    return _render(obj, 1)


def _render(obj: object, which: int) -> str:
    try:
        for cls in type(obj).__mro__:
            renderers = _RENDERERS.get(f"{cls.__module__}.{cls.__qualname__}")
            if renderers is not None:
                return renderers[which](obj)
    except Exception as exc:  # a repr must not raise: fall back to the plain repr
        fallback = f"{_plain(obj)} (display failed: {type(exc).__name__})"
        return f"<pre>{esc(fallback)}</pre>" if which == 0 else fallback
    return f"<pre>{esc(_plain(obj))}</pre>" if which == 0 else _plain(obj)


def _plain(obj: object) -> str:
    try:
        return repr(obj)
    except Exception:
        return f"<{type(obj).__name__} object>"


# Formatting helpers -------------------------------------------------------------


def esc(value: object) -> str:
    """HTML-escape str(value), quotes included."""
    import html  # here, not at import: only Jupyter's HTML needs it (html.entities is large)

    return html.escape(str(value), quote=True)


def human_size(size: int | None) -> str:
    if size is None or size < 0:
        return "unknown"
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"  # pragma: no cover


def _when(value: datetime | None) -> str:
    return "unknown" if value is None else value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def _rows(pairs: Iterable[tuple[str, str]]) -> str:
    """Table rows of already-escaped HTML values, keyed by plain labels."""
    return "".join(f"<tr><th>{esc(key)}</th><td>{value}</td></tr>" for key, value in pairs)


def _cells(*values: str) -> str:
    """A table row of already-escaped HTML cells."""
    return "<tr>" + "".join(f"<td>{value}</td>" for value in values) + "</tr>"


def _code(value: object) -> str:
    return f"<code>{esc(value)}</code>"


def _listing(values: Iterable[object]) -> str:
    return ", ".join(_code(v) for v in values) or "<i>none</i>"


def _mapping(values: Mapping[str, object]) -> str:
    return "<br>".join(f"{_code(k)} = {_code(v)}" for k, v in values.items())


_CONFIG_FIELDS = ("cmd", "entrypoint", "env", "labels", "annotations", "ports", "user", "workdir",
                  "volumes", "shell", "stop_signal", "author")


def _config_rows(config: object) -> list[tuple[str, str]]:
    """The non-empty fields of an ImageConfig or ContainerConfig, as escaped table rows."""
    rows = []
    for name in _CONFIG_FIELDS:
        value = getattr(config, name, None)
        if not value:
            continue
        if isinstance(value, Mapping):
            rows.append((name, _mapping(value)))
        elif isinstance(value, list):
            rows.append((name, _code(value)))
        else:
            rows.append((name, _code(value)))
    return rows


def _config_text(config: object, indent: str = "  ") -> list[str]:
    lines = []
    for name in _CONFIG_FIELDS:
        value = getattr(config, name, None)
        if value:
            lines.append(f"{indent}{name}: {value!r}" if not isinstance(value, str) else f"{indent}{name}: {value}")
    return lines


def _details(summary: str, body: str, *, open_: bool = False) -> str:
    return f"<details{' open' if open_ else ''}><summary>{summary}</summary>{body}</details>"


# Image ------------------------------------------------------------------------------


def image_html(image: Any) -> str:
    names = list(image.names)
    title = _code(names[0]) if names else "<i>untagged</i>"
    summary = f"<b>pybuildah.Image</b> {title} {_code(image.short_id)} &middot; {esc(human_size(image.size))}"
    platform = "/".join(p for p in (image.os, image.architecture) if p)
    rows = [("ID", _code(image.id)), ("names", _listing(names))]
    if image.digest:
        rows.append(("digest", _code(image.digest)))
    if getattr(image, "_reference", None):
        rows.append(("reference", _code(image.reference)))
    rows += [("size", esc(human_size(image.size))), ("created", esc(_when(image.created)))]
    if platform:
        rows.append(("platform", esc(platform)))
    rows += _config_rows(image.config)
    steps = getattr(image, "build_steps", None)
    if steps:
        rows.append(("build steps", f"{esc(_build_summary(steps))} (<code>.build_steps</code>)"))
    body = TABLE + _rows(rows) + "</table>" + _history_html(list(image.history))
    return _details(summary, body, open_=True)


def _history_html(history: list[dict[str, Any]]) -> str:
    if not history:
        return ""
    rows = "".join(
        _cells(esc(str(entry.get("created") or "")[:19].replace("T", " ")), _code(entry.get("created_by") or ""),
               esc(entry.get("comment") or ("empty layer" if entry.get("empty_layer") else "")))
        for entry in history if isinstance(entry, Mapping)
    )
    table = f"{TABLE}<tr><th>created</th><th>created by</th><th>comment</th></tr>{rows}</table>"
    return _details(f"history ({len(history)} entries)", table)


def image_text(image: Any) -> str:
    lines = [repr(image), f"  id: {image.id}", f"  size: {human_size(image.size)}  created: {_when(image.created)}"]
    if image.digest:
        lines.append(f"  digest: {image.digest}")
    lines += _config_text(image.config)
    lines.append(f"  history: {len(image.history)} entries")
    return "\n".join(lines)


# Builder ----------------------------------------------------------------------------


def _builder_state(builder: Any) -> tuple[bool, object, str]:
    """(deleted, config or None, why the config is unavailable)."""
    if getattr(builder, "_deleted", False):
        return True, None, "deleted"
    try:
        return False, builder.config, ""
    except Exception as exc:  # deleted elsewhere, store closed, ...
        return False, None, f"config unavailable: {exc}"


def builder_html(builder: Any) -> str:
    deleted, config, why = _builder_state(builder)
    state = " <b>(deleted)</b>" if deleted else ""
    summary = f"<b>pybuildah.Builder</b> {_code(builder.name)}{state} from {_code(builder.from_image)}"
    rows = [("container", _code(builder.name)), ("ID", _code(builder.id)), ("base", _code(builder.from_image))]
    store = getattr(builder, "store", None)
    if store is not None:
        rows.append(("store", _code(getattr(store, "root", ""))))
    steps = getattr(getattr(builder, "_cache", None), "steps", None)
    if steps is not None:
        hits = sum(1 for step in steps if step.outcome == "hit")
        rows.append(("step cache", f"{len(steps)} steps, {hits} from the cache (<code>.steps</code>)"))
    if config is None:
        rows.append(("config", f"<i>{esc(why)}</i>"))
    else:
        rows += _config_rows(config) or [("config", "<i>empty</i>")]
    return _details(summary, TABLE + _rows(rows) + "</table>", open_=True)


def builder_text(builder: Any) -> str:
    _, config, why = _builder_state(builder)
    lines = [repr(builder), f"  id: {builder.id}"]
    lines += [f"  config: {why}"] if config is None else _config_text(config)
    return "\n".join(lines)


# Store --------------------------------------------------------------------------------


def _store_images(store: Any) -> tuple[list[Any] | None, str]:
    if getattr(store, "closed", False):
        return None, "closed"
    images = getattr(store, "images", None)
    if images is None:
        return None, ""
    try:
        return list(images()), ""
    except Exception as exc:
        return None, f"images unavailable: {exc}"


def store_html(store: Any) -> str:
    images, why = _store_images(store)
    state = " <b>(closed)</b>" if getattr(store, "closed", False) else ""
    summary = f"<b>pybuildah.Store</b> {_code(store.root)} ({esc(store.driver)}){state}"
    if images is None:
        return _details(summary, f"<i>{esc(why)}</i>" if why else "", open_=True)
    rows = "".join(_cells(_code(image.short_id), _listing(image.names), esc(human_size(image.size)),
                          esc(_when(image.created))) for image in images[:MAX_ROWS])
    more = f"<p>&hellip; and {len(images) - MAX_ROWS} more</p>" if len(images) > MAX_ROWS else ""
    table = f"{TABLE}<tr><th>ID</th><th>names</th><th>size</th><th>created</th></tr>{rows}</table>{more}"
    return _details(f"{summary}: {len(images)} image{'' if len(images) == 1 else 's'}", table, open_=True)


def store_text(store: Any) -> str:
    images, why = _store_images(store)
    lines = [repr(store)]
    if images is None:
        return "\n".join(lines + ([f"  {why}"] if why else []))
    lines += [f"  {image.short_id}  {human_size(image.size):>9}  {', '.join(image.names) or '<none>'}"
              for image in images[:MAX_ROWS]]
    if len(images) > MAX_ROWS:
        lines.append(f"  ... and {len(images) - MAX_ROWS} more")
    return "\n".join(lines)


# BuildError ---------------------------------------------------------------------------


def _failing_line(error: Any) -> int | None:
    """The index in log_tail of the STEP line of the failing step, if it is there."""
    step = getattr(error, "step", None)
    if step is None:
        return None
    stage_index = getattr(error, "stage_index", None)
    prefix = rf"(?:\[{stage_index + 1}/\d+\] )?" if isinstance(stage_index, int) else r"(?:\[\d+/\d+\] )?"
    pattern = re.compile(rf"^{prefix}STEP {step}(?:/\d+)?: ")
    tail = list(error.log_tail)
    for index in range(len(tail) - 1, -1, -1):
        if pattern.match(tail[index]):
            return index
    return None


def _error_fields(error: Any) -> list[tuple[str, object]]:
    names = ("stage", "step", "instruction", "exit_code", "file", "line", "container")
    return [(name.replace("_", " "), getattr(error, name, None)) for name in names
            if getattr(error, name, None) not in (None, "")]


def build_error_html(error: Any) -> str:
    message = str(error.args[0]) if error.args else ""
    summary = f"<b>{esc(type(error).__name__)}</b>: {esc(message.splitlines()[0] if message else '')}"
    rows = [(name, f"<b>{esc(value)}</b>" if name == "instruction" else esc(value))
            for name, value in _error_fields(error)]
    body = TABLE + _rows(rows) + "</table>" if rows else ""
    if len(message.splitlines()) > 1:
        body += f"<pre>{esc(message)}</pre>"
    tail = list(error.log_tail)
    if tail:
        failing = _failing_line(error)
        lines = [f"<b>&gt;&gt; {esc(line)}</b>" if i == failing else esc(line) for i, line in enumerate(tail)]
        body += _details(f"last {len(tail)} lines of the build log", "<pre>" + "\n".join(lines) + "</pre>",
                         open_=True)
    return _details(summary, body, open_=True)


def build_error_text(error: Any) -> str:
    message = str(error.args[0]) if error.args else ""
    lines = [f"{type(error).__name__}: {message}"]
    lines += [f"  {name}: {value}" for name, value in _error_fields(error)]
    tail = list(error.log_tail)
    failing = _failing_line(error)
    if tail:
        lines.append("  --- last lines of the build log ---")
        start = max(0, len(tail) - 15)
        lines += [(">> " if i == failing else "   ") + line for i, line in enumerate(tail[start:], start)]
    return "\n".join(lines)


# RunResult ----------------------------------------------------------------------------


def _clip(text: str) -> str:
    if len(text) <= MAX_OUTPUT:
        return text
    return f"[... {len(text) - MAX_OUTPUT} characters before ...]\n" + text[-MAX_OUTPUT:]


def run_result_html(result: Any) -> str:
    status = "ok" if result.exit_code == 0 else "failed"
    summary = f"<b>pybuildah.RunResult</b>: exit code <b>{esc(result.exit_code)}</b> ({status})"
    body = ""
    for name in ("stdout", "stderr"):
        text = str(getattr(result, name) or "")
        body += (_details(f"{name} ({len(text)} characters)", f"<pre>{esc(_clip(text))}</pre>", open_=True)
                 if text else f"<p>{name}: <i>empty</i></p>")
    return _details(summary, body, open_=True)


def run_result_text(result: Any) -> str:
    lines = [f"RunResult(exit_code={result.exit_code})"]
    for name in ("stdout", "stderr"):
        text = str(getattr(result, name) or "")
        if text:
            lines.append(f"  --- {name} ---")
            lines += ["  " + line for line in _clip(text).splitlines()]
    return "\n".join(lines)


_RENDERERS: dict[str, tuple[Renderer, Renderer]] = {
    "pybuildah.image.Image": (image_html, image_text),
    "pybuildah.builder.Builder": (builder_html, builder_text),
    "pybuildah._storecore.StoreHandle": (store_html, store_text),
    "pybuildah.errors.BuildError": (build_error_html, build_error_text),
    "pybuildah._records.RunResult": (run_result_html, run_result_text),
}


# Step report ----------------------------------------------------------------------


def step_report_html(report: Any) -> str:
    if _from_build(report):
        return _build_steps_html(report)
    hits = sum(1 for step in report if step.outcome == "hit")
    summary = f"<b>pybuildah steps</b>: {len(report)} steps, {hits} from the cache"
    head = "<tr><th>#</th><th>step</th><th>arguments</th><th>cache</th><th>seconds</th><th>why</th></tr>"
    rows = "".join(_cells(esc(s.index), _code(s.kind), _code(s.summary), f"<b>{esc(s.outcome)}</b>"
                          if s.outcome != "hit" else esc(s.outcome), f"{s.duration:.3f}", esc(s.reason))
                   for s in report)
    return _details(summary, TABLE + head + rows + "</table>", open_=True)


def step_report_text(report: Any) -> str:
    if _from_build(report):
        return _build_steps_text(report)
    lines = [f"{len(report)} steps, {sum(1 for s in report if s.outcome == 'hit')} from the cache"]
    for s in report:
        why = f"  ({s.reason})" if s.reason else ""
        lines.append(f"  {s.index:>3} {s.outcome:<8} {s.duration:7.3f}s {s.kind} {s.summary}{why}")
    return "\n".join(lines)


def _from_build(report: Any) -> bool:
    """Whether the records came from build() (they name their stage)."""
    return any(step.stage_index is not None for step in report)


def _build_summary(report: Any) -> str:
    stages = len({step.stage_index for step in report})
    hits = sum(1 for step in report if step.outcome == "hit")
    total = sum(step.duration for step in report)
    return (f"{len(report)} steps in {stages} stage{'' if stages == 1 else 's'}, {hits} from the cache, "
            f"{total:.3f} s")


def _build_cells(step: Any) -> tuple[str, str, str, str, str, str, str]:
    """Plain text cells: stage, #, cache, seconds, CPU seconds, layer, instruction."""
    cache = "" if step.kind == "from" else step.outcome
    cpu = step.cpu_time
    layer = f"{step.layer_digest.removeprefix('sha256:')[:12]} {human_size(step.layer_size)}" \
        if step.layer_digest else ""
    return (step.stage, str(step.step), cache, f"{step.duration:.3f}", "" if cpu is None else f"{cpu:.3f}",
            layer, step.instruction)


def _build_steps_html(report: Any) -> str:
    head = ("<tr><th>stage</th><th>step</th><th>cache</th><th>seconds</th><th>CPU s</th><th>layer</th>"
            "<th>instruction</th></tr>")
    rows = ""
    for step in report:
        stage, number, cache, seconds, cpu, layer, instruction = _build_cells(step)
        rows += _cells(esc(stage), esc(number), f"<b>{esc(cache)}</b>" if cache == "miss" else esc(cache),
                       esc(seconds), esc(cpu), _code(layer) if layer else "", _code(instruction))
    summary = f"<b>pybuildah build steps</b>: {esc(_build_summary(report))}"
    return _details(summary, TABLE + head + rows + "</table>", open_=True)


def _build_steps_text(report: Any) -> str:
    rows = [("stage", "step", "cache", "seconds", "CPU s", "layer", "instruction")]
    rows += [_build_cells(step) for step in report]
    widths = [max(len(row[i]) for row in rows) for i in range(6)]
    lines = [_build_summary(report)]
    for row in rows:
        lines.append("  " + "  ".join(cell.ljust(width) if i in (0, 2, 5) else cell.rjust(width)
                                      for i, (cell, width) in enumerate(zip(row[:6], widths, strict=True)))
                     + "  " + row[6])
    return "\n".join(lines)


_RENDERERS["pybuildah._records.StepReport"] = (step_report_html, step_report_text)
