"""The command line: parse flags, call the API, render, map errors to exit codes.

Nothing else happens here. NumPy, pandas and the math are imported inside the commands
that need them, so ``losscli --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import inspect
import json
import os
import signal
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

try:  # Typer bundles its own copy of Click
    from typer._click import exceptions as click_exceptions
    from typer._click.globals import get_current_context
except ImportError:  # pragma: no cover - a Typer that depends on Click instead
    from click import exceptions as click_exceptions  # type: ignore[no-redef]
    from click import get_current_context  # type: ignore[no-redef]

from losscli import __version__
from losscli.errors import ExitCode, LossCliError, Terminated, UsageError
from losscli.options import INPUT_FLAGS, Setting

EPILOG = (
    "Exit codes: 0 ok · 1 a gate failed · 2 usage or config error · "
    "3 input data error · 4 internal error (please report)."
)


def _json_in_argv(argv: list[str]) -> bool:
    """Whether a command line asks for JSON on stdout (``--json``, ``--format json``,
    ``-f json``, ``--format=json``, ``-fjson``), read from the raw words: used when the
    options could not be parsed."""
    words = argv[: argv.index("--")] if "--" in argv else argv
    formats = set()
    for i, word in enumerate(words):
        if word == "--json":
            formats.add("json")
        elif word in ("--format", "-f") and i + 1 < len(words):
            formats.add(words[i + 1])
        elif word.startswith(("--format=", "-f=")):
            formats.add(word.partition("=")[2])
        elif word.startswith("-f") and not word.startswith("--") and len(word) > 2:
            formats.add(word[2:])
    if not formats & {"table", "csv", "markdown"} and any(w in _FORMAT_COMMANDS for w in words):
        # no format on the command line (or only --json): LOSSCLI_FORMAT decides
        env = os.environ.get("LOSSCLI_FORMAT", "").strip()
        if env and not formats:
            formats.add(env)
    return formats == {"json"}  # --json with --format csv asks for no one format


#: The commands with a ``--format`` option (LOSSCLI_FORMAT applies to them).
_FORMAT_COMMANDS = frozenset({"evaluate", "compare", "recommend", "curves"})


def _command_in_argv(argv: list[str], ctx: Any) -> str:
    """The command a failed command line was for (``evaluate``, ``losses show``)."""
    names: list[str] = []
    while ctx is not None and ctx.parent is not None:
        names.insert(0, ctx.info_name or "")
        ctx = ctx.parent
    if names:
        return " ".join(names)
    known = {"evaluate", "compare", "recommend", "losses"}
    return next((w for w in argv if w in known), "")


def error_document(command: str, code: int, message: str, hint: str | None) -> str:
    """The JSON document of a failed run (SPEC §11 "Exit behaviour"): printed on stdout
    when the command line asks for JSON, whatever failed."""
    from losscli.files import encodable

    message, hint = encodable(message), (None if hint is None else encodable(hint))
    doc = {
        "schema_version": 1,
        "command": command,
        "ok": False,
        "error": {"code": int(code), "message": message, "hint": hint},
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _print_stdout(text: str) -> None:
    """Write ``text`` on stdout, giving up quietly when stdout cannot take it."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except (OSError, ValueError):
        _silence_stdout()


def _on_sigterm(signum: int, frame: Any) -> None:
    raise Terminated()


class _Signals:
    """While a command runs: SIGTERM raises :class:`~losscli.errors.Terminated` (so
    temporary files are removed and the exit is 143), and SIGXFSZ is ignored, so a
    file-size limit (``ulimit -f``) becomes an EFBIG write error that names the file
    instead of killing the process. The previous handlers are restored afterwards."""

    def __enter__(self) -> _Signals:
        self.saved: dict[int, Any] = {}
        wanted = {"SIGTERM": _on_sigterm, "SIGXFSZ": signal.SIG_IGN}
        for name, handler in wanted.items():
            number = getattr(signal, name, None)
            if number is None:
                continue
            with contextlib.suppress(ValueError):  # not the main thread: leave them alone
                self.saved[number] = signal.signal(number, handler)
        return self

    def __exit__(self, *exc: object) -> None:
        for number, handler in self.saved.items():
            signal.signal(number, handler)


class LossCliGroup(TyperGroup):
    """The root command: installs the signal handlers of a run (:class:`_Signals`), and
    when the options cannot be parsed still prints the JSON error document on stdout
    (besides click's message on stderr) if the command line asks for JSON."""

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        global _STOPPED_SAID
        _STOPPED_SAID = False
        argv = list(sys.argv[1:] if args is None else args)
        if not standalone_mode:
            return super().main(argv, prog_name, complete_var, standalone_mode, **extra)
        with _Signals():
            try:
                code = super().main(argv, prog_name, complete_var, False, **extra)
                if code in _STOPPED_LINES and not _STOPPED_SAID:
                    # Typer turns a Ctrl-C outside a command body into a silent 130
                    _last_words(typer.echo, _STOPPED_LINES[code])
            except click_exceptions.NoArgsIsHelpError as exc:
                exc.show()
                sys.exit(exc.exit_code)
            except click_exceptions.ClickException as exc:
                if _json_in_argv(argv):
                    command = _command_in_argv(argv, getattr(exc, "ctx", None))
                    hint = f"see 'losscli {command} --help'".replace("  ", " ")
                    _print_stdout(
                        error_document(command, exc.exit_code, exc.format_message(), hint)
                    )
                exc.show()
                sys.exit(exc.exit_code)
            except (typer.Abort, KeyboardInterrupt):
                _last_words(typer.echo, _STOPPED_LINES[ExitCode.INTERRUPTED])
                sys.exit(int(ExitCode.INTERRUPTED))
            except Terminated:
                _last_words(typer.echo, _STOPPED_LINES[ExitCode.TERMINATED])
                sys.exit(int(ExitCode.TERMINATED))
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=LossCliGroup,
    name="losscli",
    help="Choose a loss function for your task, and measure every applicable loss "
    "on your prediction files.",
    epilog=EPILOG,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
losses_app = typer.Typer(
    epilog=EPILOG,
    invoke_without_command=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(losses_app, name="losses")


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


class Framework(str, Enum):
    pytorch = "pytorch"
    keras = "keras"
    all = "all"


# ------------------------------------------------------------------ shared plumbing


def _consoles() -> tuple[Any, Any]:
    """Consoles are built per call: colour and terminal detection happen at construction,
    so NO_COLOR/COLUMNS set by the caller are honoured. A closed stdout pipe raises
    :class:`BrokenPipeError` (exit 141), not Rich's own exit 1."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            raise BrokenPipeError(errno.EPIPE, "broken pipe")

    width = None
    if not sys.stdout.isatty():
        width = int(os.environ.get("COLUMNS", "120") or 120)
    out = _Console(width=width, soft_wrap=False)
    err = Console(stderr=True)
    return out, err


def say(err: Any, line: str) -> None:
    """One line on stderr (notes, warnings, errors), as plain text: no Rich markup, and
    control characters shown, never obeyed (:func:`losscli.report.terminal.terminal_text`)."""
    from losscli.report.terminal import terminal_text

    err.print(terminal_text(line), markup=False, highlight=False, soft_wrap=True)


def _fail(err: Any, exc: LossCliError) -> None:
    say(err, f"Error: {exc.message}")
    if exc.hint:
        say(err, f"hint: {exc.hint}")


#: Warnings meant for the developers of libraries, never shown to users.
_DEVELOPER_WARNINGS = (
    DeprecationWarning,
    PendingDeprecationWarning,
    FutureWarning,
    ImportWarning,
    ResourceWarning,
)


def _warning_notes(err: Any, caught: list[warnings.WarningMessage], quiet: bool) -> None:
    """Python warnings raised during a run, as one ``note:`` line each (once per text);
    nothing with ``--quiet``. Non-finite loss values already carry their ``status``."""
    if quiet:
        return
    seen: set[str] = set()
    for w in caught:
        if issubclass(w.category, _DEVELOPER_WARNINGS):
            continue
        origin = "numpy" if "numpy" in str(w.filename) else w.category.__name__
        line = f"note: {origin}: {w.message}"
        if line not in seen:
            seen.add(line)
            say(err, line)


def _invocation() -> tuple[str, bool]:
    """The running command's name (``evaluate``, ``losses show``) and whether it prints
    JSON on stdout (``--json`` or ``--format json``)."""
    ctx = get_current_context(silent=True)
    if ctx is None:
        return "", False
    params = ctx.params
    fmt = getattr(params.get("fmt"), "value", params.get("fmt"))
    as_json = bool(params.get("as_json"))
    wants_json = fmt == "json" or (as_json and (fmt is None or _format_from_env()))
    return _command_in_argv([], ctx), wants_json


def run_command(debug: bool, body: Callable[[Any, Any], int], *, quiet: bool = False) -> None:
    """Run a command body, mapping every failure to its exit code (SPEC §2, §11).

    Errors become one or two lines on stderr; a traceback only with ``--debug``; when the
    command prints JSON, stdout still gets one JSON document (:func:`error_document`).
    Python warnings never print raw: they become ``note:`` lines (none with ``--quiet``);
    with ``--debug`` they are left alone. Ctrl-C exits 130 and SIGTERM 143, each with one
    line on stderr and no temporary file left; a closed stdout pipe exits 141 quietly;
    a stdout that cannot take the report (disk full) exits 2.
    """
    from losscli.files import remove_temp_files

    out, err = _consoles()
    command, wants_json = _invocation()

    def failed(code: int, message: str, hint: str | None) -> None:
        if wants_json:
            _print_stdout(error_document(command, code, message, hint))

    try:
        try:
            if debug:
                code = body(out, err)
            else:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    code = body(out, err)
                _warning_notes(err, caught, quiet)
            with stdout_writes():
                sys.stdout.flush()
        except OSError as exc:
            if isinstance(exc, BrokenPipeError) or exc.errno == errno.EPIPE:
                raise BrokenPipeError(errno.EPIPE, "broken pipe") from None
            raise
    except typer.Exit:
        raise
    except LossCliError as exc:
        remove_temp_files()
        if debug:
            traceback.print_exc()
        _fail(err, exc)
        failed(int(exc.exit_code), exc.message, exc.hint)
        raise typer.Exit(int(exc.exit_code)) from None
    except BrokenPipeError:
        remove_temp_files()
        _silence_stdout()
        raise typer.Exit(int(ExitCode.BROKEN_PIPE)) from None
    except KeyboardInterrupt:
        remove_temp_files()
        _last_words(err, _STOPPED_LINES[ExitCode.INTERRUPTED])
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    except Terminated:
        remove_temp_files()
        _last_words(err, _STOPPED_LINES[ExitCode.TERMINATED])
        raise typer.Exit(int(ExitCode.TERMINATED)) from None
    except Exception as exc:  # a bug: say so in one line
        remove_temp_files()
        if debug:
            traceback.print_exc()
        say(err, f"Error: internal error ({type(exc).__name__}: {exc})")
        hint = "this is a bug in losscli; re-run with --debug and report the output"
        say(err, f"hint: {hint}")
        failed(int(ExitCode.INTERNAL_ERROR), f"internal error ({type(exc).__name__}: {exc})", hint)
        raise typer.Exit(int(ExitCode.INTERNAL_ERROR)) from None
    raise typer.Exit(code)


@contextlib.contextmanager
def stdout_writes() -> Iterator[None]:
    """Writes to stdout inside this block that fail for lack of room (disk full, a
    file-size limit, an I/O error) are a usage error naming standard output (exit 2);
    a closed pipe stays a :class:`BrokenPipeError` (exit 141)."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        if exc.errno == errno.EPIPE:
            raise
        from losscli.files import stdout_error

        raise stdout_error(exc) from None


#: The one stderr line of a run stopped by a signal, by exit code.
_STOPPED_LINES: dict[int, str] = {
    ExitCode.INTERRUPTED: "Error: interrupted (Ctrl-C); no partial output file was left",
    ExitCode.TERMINATED: "Error: terminated (SIGTERM); no partial output file was left",
}
_STOPPED_SAID = False


def _last_words(err: Any, line: str) -> None:
    """The one stderr line of an interrupted run (``err`` a Rich console, or
    :func:`typer.echo` before one exists), said once; a second signal is ignored
    meanwhile."""
    global _STOPPED_SAID
    for name in ("SIGINT", "SIGTERM"):
        with contextlib.suppress(ValueError, AttributeError):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    try:
        if not _STOPPED_SAID:
            _STOPPED_SAID = True
            if err is typer.echo:
                with contextlib.suppress(OSError, ValueError):
                    typer.echo(line, err=True)
            else:
                say(err, line)
    finally:
        try:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, _on_sigterm)
        except ValueError:
            pass


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _check_output_flags(outputs: list[Path] | None) -> None:
    """Reject a bad ``-o`` extension or path before any data is read."""
    from losscli.files import check_writable
    from losscli.report import format_for_path

    for p in outputs or []:
        kind = format_for_path(p)
        check_writable(p)
        if kind == "html":
            from losscli.report.charts import require_matplotlib

            require_matplotlib()  # before any input is read or any file written


def _format_from_env() -> bool:
    """Whether the running command's ``--format`` came from ``LOSSCLI_FORMAT``: a
    ``--json`` flag then wins (flags > environment), it does not conflict."""
    ctx = get_current_context(silent=True)
    if ctx is None or "fmt" not in ctx.params:
        return False
    source = ctx.get_parameter_source("fmt")
    return getattr(source, "name", "") == "ENVIRONMENT"


def _resolve_format(fmt: Format | None, as_json: bool) -> str:
    if as_json and fmt not in (None, Format.json) and _format_from_env():
        fmt = None
    if as_json and fmt not in (None, Format.json):
        raise UsageError(
            f"--json conflicts with --format {fmt.value}",
            hint="use one of them",
        )
    if as_json:
        return "json"
    return (fmt or Format.table).value


def emit(
    doc: dict[str, Any],
    *,
    out: Any,
    fmt: str,
    outputs: list[Path] | None,
    precision: int,
    report: Any = None,
) -> None:
    """Write ``-o`` files (atomically, all rendered before any is written) and print the
    chosen format on stdout. ``report`` (evaluate, compare) feeds the HTML page's charts."""
    from losscli.files import encodable_doc
    from losscli.report import render, write_files

    _add_ok(doc)
    clean = encodable_doc(doc)  # a file name's undecodable bytes, shown as \xNN
    doc.clear()
    doc.update(clean)

    def text(kind: str) -> str:
        return render(doc, kind, precision=precision, report=report)

    write_files([str(p) for p in outputs or []], text)
    with stdout_writes():
        if fmt == "table":
            from losscli.report.table import render as table_render

            table_render(doc, out, precision)
        else:
            sys.stdout.write(text(fmt))
            sys.stdout.flush()


def _add_ok(doc: dict[str, Any]) -> None:
    """Give a document without one an ``"ok"`` after ``"command"`` (SPEC §3, §11): True
    unless one of its gates failed (a failed run prints :func:`error_document`)."""
    if "ok" in doc:
        return
    ok = all(g.get("passed", True) for g in doc.get("gates", []))
    items = list(doc.items())
    doc.clear()
    for key, value in items:
        doc[key] = value
        if key == "command":
            doc["ok"] = ok
    doc.setdefault("ok", ok)


def _wants_rows(outputs: list[Path] | None, plot: bool) -> bool:
    """Whether the run must keep per-row values: for ``--plot`` and ``-o *.html``."""
    from losscli.report import format_for_path

    return plot or any(format_for_path(p) == "html" for p in outputs or [])


def draw_plot(draw: Callable[[Any], None], *, out: Any, err: Any, fmt: str) -> None:
    """``--plot``: after the table on stdout; on stderr with a machine format, so stdout
    stays parseable."""
    with stdout_writes():
        draw(out if fmt == "table" else err)


def _version_callback(value: bool) -> None:
    if value:
        import platform
        from importlib.metadata import PackageNotFoundError, version

        def installed(name: str) -> str:  # without importing it (pandas alone: 0.3 s)
            try:
                return version(name)
            except PackageNotFoundError:
                return "not installed"

        libs = ", ".join(f"{n} {installed(n)}" for n in ("numpy", "pyarrow", "pandas"))
        typer.echo(f"losscli {__version__} (Python {platform.python_version()}, {libs})")
        raise typer.Exit(0)


class Shell(str, Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


def _completion_callback(value: Shell | None) -> None:
    """``--show-completion SHELL``: print the completion script of that shell (Typer's),
    for the shell's startup file: ``losscli --show-completion bash >> ~/.bashrc``."""
    if value is None:
        return
    from typer._completion_shared import get_completion_script
    from typer.completion import completion_init

    completion_init()
    typer.echo(
        get_completion_script(prog_name="losscli", complete_var=COMPLETE_VAR, shell=value.value)
    )
    raise typer.Exit(0)


#: The environment variable through which a shell asks for completions.
COMPLETE_VAR = "_LOSSCLI_COMPLETE"


@app.callback()
def _root(
    show_completion: Annotated[
        Shell | None,
        typer.Option(
            "--show-completion",
            help="Print the completion script of bash, zsh or fish and exit, e.g. "
            "losscli --show-completion bash >> ~/.bashrc.",
            callback=_completion_callback,
            is_eager=True,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Show losscli, Python, numpy and pandas versions and exit.",
            callback=_version_callback,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Choose a loss function for your task, and measure every applicable loss on your
    prediction files."""


# ------------------------------------------------------------------ options used twice

FormatOpt = Annotated[
    Format | None,
    typer.Option(
        "--format",
        "-f",
        help="Output on stdout: table, json, csv or markdown.",
        envvar="LOSSCLI_FORMAT",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json/--no-json", help="Shorthand for --format json.")]
OutputOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--output",
        "-o",
        help="Also write a file; its format follows the extension (.json .csv .md .html .txt; "
        ".metrics.json: only the numbers; .xml: the gates as JUnit XML). Repeatable. "
        "Written atomically.",
    ),
]
PlotOpt = Annotated[
    bool,
    typer.Option(
        "--plot/--no-plot",
        envvar="LOSSCLI_PLOT",
        help="Also draw the most telling chart as text (stdout after the table; stderr with "
        "--format json/csv/markdown). Keeps per-row values, so the input is read in one piece.",
    ),
]
PrecisionOpt = Annotated[
    int,
    typer.Option(
        "--precision",
        min=1,
        max=100,
        help="Significant digits in table and markdown output (1 to 100).",
        envvar="LOSSCLI_PRECISION",
    ),
]
QuietOpt = Annotated[
    bool,
    typer.Option(
        "--quiet/--no-quiet",
        "-q",
        help="No notes or warnings on stderr; results only.",
        envvar="LOSSCLI_QUIET",
    ),
]
DebugOpt = Annotated[
    bool,
    typer.Option("--debug/--no-debug", help="Show tracebacks of errors.", envvar="LOSSCLI_DEBUG"),
]


# ------------------------------------------------------------------ settings (options.py)


def _setting_params(s: Setting) -> list[inspect.Parameter]:
    """The Typer option(s) of one setting of :data:`losscli.options.SETTINGS`; every
    default is None (or False for ``--logits``/``--probs``): not given. Values are
    checked once, by :func:`losscli.config.from_flags`."""
    kw = inspect.Parameter.KEYWORD_ONLY
    if s.kind == "input":
        return [
            inspect.Parameter(
                name,
                kw,
                default=False,
                annotation=Annotated[bool, typer.Option(f"--{name}", help=s.help)],
            )
            for name in INPUT_FLAGS
        ]
    decl = f"{s.flag}/--no-{s.flag[2:]}" if s.kind == "bool" else s.flag
    extra: dict[str, Any] = {"metavar": s.metavar} if s.metavar else {}
    option = typer.Option(decl, help=s.help, **extra)
    value_type = list[str] if s.repeatable else s.py_type
    annotation = Annotated[value_type | None, option]  # type: ignore[valid-type]
    return [inspect.Parameter(s.name, kw, default=None, annotation=annotation)]


def _with_options(
    added: list[inspect.Parameter],
    gather: Callable[[dict[str, Any]], dict[str, Any]],
    *,
    after: int,
) -> Callable[[Callable[..., None]], Any]:
    """Give a Typer command the options ``added`` (after its first ``after`` parameters,
    the arguments); ``gather`` turns their values (popped from the call's) into the
    keyword arguments the command receives instead."""

    def wrap(fn: Callable[..., None]) -> Any:
        own = list(inspect.signature(fn, eval_str=True).parameters.values())
        own = [p for p in own if p.kind is not inspect.Parameter.KEYWORD_ONLY]

        @functools.wraps(fn)
        def run(**values: Any) -> None:
            gathered = gather(values)
            fn(**values, **gathered)

        params = [*own[:after], *added, *own[after:]]
        params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in params]
        run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in params}
        del run.__wrapped__  # Typer reads the signature above, not fn's
        return run

    return wrap


@dataclass(frozen=True)
class View:
    """The output options of evaluate and compare (not settings of the run)."""

    plot: bool
    fmt: Format | None
    as_json: bool
    output: list[Path] | None
    precision: int
    quiet: bool
    debug: bool


def _view_params() -> list[inspect.Parameter]:
    kw = inspect.Parameter.KEYWORD_ONLY
    return [
        inspect.Parameter("plot", kw, default=False, annotation=PlotOpt),
        inspect.Parameter("fmt", kw, default=None, annotation=FormatOpt),
        inspect.Parameter("as_json", kw, default=False, annotation=JsonOpt),
        inspect.Parameter("output", kw, default=None, annotation=OutputOpt),
        inspect.Parameter("precision", kw, default=4, annotation=PrecisionOpt),
        inspect.Parameter("quiet", kw, default=False, annotation=QuietOpt),
        inspect.Parameter("debug", kw, default=False, annotation=DebugOpt),
    ]


def with_settings(command: str, *, after: int) -> Callable[[Callable[..., None]], Any]:
    """The options of ``command``'s settings (:data:`losscli.options.SETTINGS`), then the
    output options; the command receives them as ``flags`` (for
    :func:`losscli.config.from_flags`) and ``view`` (a :class:`View`)."""
    from losscli.options import settings_of

    settings = [p for s in settings_of(command) for p in _setting_params(s)]
    view = _view_params()

    def gather(values: dict[str, Any]) -> dict[str, Any]:
        flags = {p.name: values.pop(p.name) for p in settings}
        return {"flags": flags, "view": View(**{p.name: values.pop(p.name) for p in view})}

    return _with_options([*settings, *view], gather, after=after)


#: ``losscli recommend`` condition flags (SPEC §4; names as in
#: :data:`losscli.rules.schema.CONDITIONS`, with hyphens on the command line).
CONDITION_HELP = {
    "outliers": "Targets have outliers.",
    "imbalanced": "Classes are imbalanced.",
    "noisy_labels": "Labels are noisy.",
    "overconfident": "The model is overconfident.",
    "sparse_features": "Inputs are sparse / want sparse weights.",
    "overfitting": "The model overfits.",
    "interpretable": "The loss must read in target units.",
    "large_scale": "Compute-constrained / very large data.",
    "margin": "Want a max-margin classifier.",
}


def _condition_param(name: str) -> inspect.Parameter:
    flag = "--" + name.replace("_", "-")
    annotation = Annotated[bool, typer.Option(f"{flag}/--no-{flag[2:]}", help=CONDITION_HELP[name])]
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=False, annotation=annotation
    )


# ------------------------------------------------------------------ losses


@losses_app.callback()
def losses_list(
    ctx: typer.Context,
    task: Annotated[
        str | None, typer.Option("--task", help="Only the losses of this task.")
    ] = None,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
    output: OutputOpt = None,
    precision: PrecisionOpt = 4,
    debug: DebugOpt = False,
) -> None:
    """The loss catalogue: every loss with its tasks, parameters and defaults;
    `losses show NAME` for formula, domain, when to use it and references.

    Example: losscli losses --task binary
    """
    if ctx.invoked_subcommand is not None:
        return
    _list_losses(task, fmt, as_json, output, precision, debug)


def _list_losses(
    task: str | None,
    fmt: Format | None,
    as_json: bool,
    output: list[Path] | None,
    precision: int,
    debug: bool,
) -> None:
    """The catalogue of `losses` and `losses list`."""

    def body(out: Any, err: Any) -> int:
        from losscli.catalogue import list_losses

        doc = list_losses(task)
        emit(doc, out=out, fmt=_resolve_format(fmt, as_json), outputs=output, precision=precision)
        return 0

    run_command(debug, body)


@losses_app.command("list")
def losses_list_command(
    task: Annotated[
        str | None, typer.Option("--task", help="Only the losses of this task.")
    ] = None,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
    output: OutputOpt = None,
    precision: PrecisionOpt = 4,
    debug: DebugOpt = False,
) -> None:
    """The loss catalogue, as `losscli losses`: installed plugins (entry points of
    losscli.losses) included, without importing them.

    Example: losscli losses list --task regression
    """
    _list_losses(task, fmt, as_json, output, precision, debug)


@losses_app.command("show")
def losses_show(
    name: Annotated[str, typer.Argument(help="Loss name or alias, e.g. focal.")],
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
    output: OutputOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Formula, parameters, domain, when to use it and references of one loss.

    Example: losscli losses show huber
    """

    def body(out: Any, err: Any) -> int:
        from losscli.catalogue import describe_loss

        doc = describe_loss(name)
        emit(doc, out=out, fmt=_resolve_format(fmt, as_json), outputs=output, precision=4)
        return 0

    run_command(debug, body)


# ------------------------------------------------------------------ evaluate


def _data_notes(err: Any, doc: dict[str, Any], quiet: bool) -> None:
    from losscli.report import plural

    if quiet:
        return
    task = doc["task"]
    how = "inferred" if task.get("inferred") else "given"
    kind = ""
    if task.get("input"):
        kind_how = "inferred" if task.get("input_inferred") else "given"
        kind = f"; predictions are {task['input']} ({kind_how})"
    say(err, f"task: {task['name']} ({how}){kind}; {plural(doc['n_samples'], 'sample')}")
    for line in doc.get("evidence", []):
        say(err, f"  because {line}")
    for w in doc.get("warnings", []):
        say(err, f"note: {w}")


def _per_class_csv_note(
    err: Any, doc: dict[str, Any], fmt: str, outputs: list[Path] | None, quiet: bool
) -> None:
    """The CSV view lists one value per loss (and model): say where per-class values are."""
    from losscli.report import format_for_path

    csv_out = fmt == "csv" or any(format_for_path(p) == "csv" for p in outputs or [])
    if quiet or not csv_out or not any(it.get("per_class") for it in doc["losses"]):
        return
    err.print(
        "note: the CSV view has one value per loss; per-class values are in the json, "
        "markdown and table views",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


class ReadProgress:
    """A Rich progress bar on stderr for the bytes read of the predictions file; only when
    stderr is a terminal (and not --quiet), and only once a second chunk is read."""

    def __init__(self, err: Any, *, enabled: bool) -> None:
        self.err = err
        self.enabled = enabled and bool(getattr(err, "is_terminal", False))
        self._progress: Any = None
        self._task: Any = None
        self._calls = 0

    def update(self, done: int, total: int) -> None:
        self._calls += 1
        if self._calls < 2 or not self.enabled:
            return
        if self._progress is None:
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("reading"),
                BarColumn(),
                DownloadColumn(),
                TimeRemainingColumn(),
                console=self.err,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("read", total=total or None)
        self._progress.update(self._task, completed=done)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def _baseline_file(baseline: Any) -> list[str]:
    """``--baseline`` when it names a file (an earlier JSON), never a model name."""
    return [str(baseline)] if baseline and os.path.isfile(str(baseline)) else []


def _measure(
    command: str,
    flags: Mapping[str, Any],
    view: View,
    produce: Callable[[Any, Any], Any],
    inputs: list[str | None],
) -> None:
    """The body of evaluate and compare: resolve the settings once
    (:func:`losscli.config.from_flags`), check the output flags before any input is
    read (an output is never one of the ``inputs``, the config or the weights file),
    ``produce(options, err)`` the report, render it, and exit 1 when a gate fails (one
    ``gate failed`` line each, :func:`losscli.gates.describe_failure`) — 0 with
    ``--exit-zero``."""

    def body(out: Any, err: Any) -> int:
        from losscli.config import from_flags
        from losscli.files import refuse_input_overwrite
        from losscli.gates import describe_failure

        fmt = _resolve_format(view.fmt, view.as_json)
        _check_output_flags(view.output)
        opts = from_flags(command, flags)
        refuse_input_overwrite(
            [*(view.output or []), opts.per_sample_path],
            [*inputs, opts.config, opts.model_weights, *_baseline_file(opts.baseline)],
        )
        report = produce(opts, err)
        doc = report.data
        _data_notes(err, doc, view.quiet)
        _per_class_csv_note(err, doc, fmt, view.output, view.quiet)
        emit(doc, out=out, fmt=fmt, outputs=view.output, precision=view.precision, report=report)
        if view.plot:
            from losscli.report.termplot import plot_result

            draw_plot(lambda c: plot_result(report, c), out=out, err=err, fmt=fmt)
        failed = [g for g in doc["gates"] if not g["passed"]]
        if not view.quiet:
            for g in failed:
                say(err, describe_failure(g))
        from losscli.report.github import report as github_report

        github_report(doc, os.environ, sys.stderr)
        return int(ExitCode.GATE_FAILED) if failed and not opts.exit_zero else 0

    run_command(view.debug, body, quiet=view.quiet)


@app.command(epilog=EPILOG)
@with_settings("evaluate", after=2)
def evaluate(
    preds: Annotated[
        str,
        typer.Argument(
            help="Predictions file (csv, tsv, parquet, npy, npz, "
            "compressed csv, a directory or glob; - for stdin)."
        ),
    ],
    targets: Annotated[
        str | None, typer.Argument(help="Targets file (omit when PREDS holds both).")
    ] = None,
    *,
    flags: Mapping[str, Any],
    view: View,
) -> None:
    """Compute every loss that applies to the task of PREDS vs TARGETS.

    Example: losscli evaluate sample_data/binary_probs.csv sample_data/binary_targets.csv --max bce=0.4
    """

    def produce(opts: Any, err: Any) -> Any:
        from losscli.api import evaluate_options

        bar = ReadProgress(err, enabled=not view.quiet)
        try:
            return evaluate_options(
                preds,
                targets,
                opts=opts,
                per_sample=_wants_rows(view.output, view.plot),
                progress=bar.update if bar.enabled else None,
            )
        finally:
            bar.stop()

    _measure("evaluate", flags, view, produce, [preds, targets])


@app.command(epilog=EPILOG)
@with_settings("compare", after=1)
def compare(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="PREDS [PREDS...] TARGETS: one predictions file per model, then the targets file."
        ),
    ],
    *,
    flags: Mapping[str, Any],
    view: View,
) -> None:
    """Several models side by side under every applicable loss, with who wins and whether
    the difference is real.

    Example: losscli compare model_a.csv model_b.csv targets.csv --bootstrap 1000
    """

    def produce(opts: Any, err: Any) -> Any:
        from losscli.comparison import compare_options

        return compare_options(paths, opts=opts, targets_last=True)

    _measure("compare", flags, view, produce, list(paths))


# ------------------------------------------------------------------ recommend


@app.command(epilog=EPILOG)
@_with_options(
    [_condition_param(c) for c in CONDITION_HELP],
    lambda values: {"flags": {c: values.pop(c) for c in CONDITION_HELP}},
    after=1,
)
def recommend(
    task: Annotated[
        str | None,
        typer.Option(
            "--task",
            help="regression, binary, multiclass, multilabel, segmentation, "
            "detection, embedding, distribution, vae or gan.",
        ),
    ] = None,
    from_data: Annotated[
        str | None,
        typer.Option(
            "--from-data", help="Measure task, imbalance and outliers from this targets file."
        ),
    ] = None,
    predictions: Annotated[
        str | None,
        typer.Option(
            "--predictions", help="With --from-data: predictions, to measure residual outliers."
        ),
    ] = None,
    rules: Annotated[
        str | None,
        typer.Option("--rules", help="Use this rules YAML instead of the built-in guide."),
    ] = None,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain/--no-explain", help="Show which rules fired and why others did not."
        ),
    ] = False,
    framework: Annotated[
        Framework, typer.Option("--framework", help="Code snippets for pytorch, keras or all.")
    ] = Framework.all,
    plot: Annotated[
        bool,
        typer.Option(
            "--plot/--no-plot",
            help="Draw the candidate losses as functions of the error, of p_t or of a "
            "distance (stdout after the table; stderr with other formats).",
        ),
    ] = False,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
    output: OutputOpt = None,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
    *,
    flags: Mapping[str, bool],
) -> None:
    """Rank losses for a task from the selection guide, with the reason and code.

    Example: losscli recommend --task segmentation --imbalanced
    """

    def body(out: Any, err: Any) -> int:
        from losscli.rules import recommend as api_recommend

        fmt_name = _resolve_format(fmt, as_json)
        if predictions is not None and from_data is None:
            raise UsageError("--predictions needs --from-data", hint="add --from-data TARGETS")
        from losscli.files import refuse_input_overwrite

        refuse_input_overwrite(output or [], [rules, from_data, predictions])
        conditions = {k for k, v in flags.items() if v}
        chosen_task = task
        evidence = None
        if from_data is not None:
            from losscli.advice import measure_conditions

            chosen_task, measured, evidence = measure_conditions(
                from_data, predictions, task=task, rules_path=rules
            )
            conditions |= measured
            if not quiet and fmt_name != "table":  # the table view shows the evidence
                for ev in evidence:
                    say(err, f"evidence: {ev['sentence']}")
        doc = api_recommend(
            chosen_task,
            sorted(conditions),
            rules_path=rules,
            framework=framework.value,
            explain=explain,
            evidence=evidence,
        )
        emit(doc, out=out, fmt=fmt_name, outputs=output, precision=4)
        if plot:
            from losscli.report.termplot import plot_recommendation

            draw_plot(lambda c: plot_recommendation(doc, c), out=out, err=err, fmt=fmt_name)
        return 0

    run_command(debug, body, quiet=quiet)


# ------------------------------------------------------------------ schema


@app.command(epilog=EPILOG)
def schema(
    name: Annotated[
        str, typer.Argument(help="evaluate, compare, recommend or curves.", metavar="COMMAND")
    ],
    debug: DebugOpt = False,
) -> None:
    """Print the JSON Schema (draft 2020-12) of a command's JSON output.

    Example: losscli schema evaluate > evaluate.schema.json
    """

    def body(out: Any, err: Any) -> int:
        from losscli.report.schemas import schema_text

        sys.stdout.write(schema_text(name))
        sys.stdout.flush()
        return 0

    run_command(debug, body)


# ------------------------------------------------------------------ curves


@app.command(epilog=EPILOG)
def curves(
    logs: Annotated[
        list[str],
        typer.Argument(
            metavar="LOG",
            help="Training log(s) of one run: Lightning metrics.csv, Keras CSVLogger, "
            "trainer_state.json, TensorBoard event files or folders, DVCLive folders, "
            "CSV/JSONL of step + metrics.",
        ),
    ],
    monitor: Annotated[
        str | None,
        typer.Option("--monitor", help="Monitored metric (default: val_loss, eval_loss, …)."),
    ] = None,
    train: Annotated[
        str | None, typer.Option("--train", help="Training loss (default: loss, train_loss, …).")
    ] = None,
    mode: Annotated[str, typer.Option("--mode", help="min or max: which way is better.")] = "min",
    early_stopping: Annotated[
        str | None,
        typer.Option(
            "--early-stopping",
            help="Replay keras, lightning or torch-plateau on the monitored curve.",
        ),
    ] = None,
    patience: Annotated[
        int | None, typer.Option("--patience", help="Checks without improvement.")
    ] = None,
    min_delta: Annotated[
        float | None, typer.Option("--min-delta", help="Smallest change that counts (threshold).")
    ] = None,
    min_delta_mode: Annotated[
        str | None,
        typer.Option("--min-delta-mode", help="abs or rel (torch-plateau's threshold_mode)."),
    ] = None,
    baseline: Annotated[float | None, typer.Option("--baseline", help="Keras baseline.")] = None,
    start_from_epoch: Annotated[
        int | None, typer.Option("--start-from-epoch", help="Keras: epochs before monitoring.")
    ] = None,
    cooldown: Annotated[
        int | None, typer.Option("--cooldown", help="torch-plateau cooldown.")
    ] = None,
    factor: Annotated[
        float | None, typer.Option("--factor", help="torch-plateau LR factor.")
    ] = None,
    min_lr: Annotated[
        float | None, typer.Option("--min-lr", help="torch-plateau lowest LR.")
    ] = None,
    smooth: Annotated[
        float | None, typer.Option("--smooth", help="TensorBoard smoothing weight in [0, 1].")
    ] = None,
    targets: Annotated[
        str | None,
        typer.Option("--targets", help="Validation targets: the chance level of the loss."),
    ] = None,
    loss: Annotated[
        str | None, typer.Option("--loss", help="Loss of the chance level (default by task).")
    ] = None,
    fail_on: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-on",
            help="Exit 1 when a finding of these kinds is found: "
            "nan,divergence,spike,overfit,plateau,oscillation.",
        ),
    ] = None,
    plot: Annotated[
        bool, typer.Option("--plot", help="Draw the curves as text (stderr with machine formats).")
    ] = False,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
    output: OutputOpt = None,
    precision: PrecisionOpt = 4,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """The training-log doctor: findings, early-stopping replays, smoothing, chance level.

    Example: losscli curves sample_data/training/metrics.csv --early-stopping lightning --patience 3
    """

    def body(out: Any, err: Any) -> int:
        from losscli.curves.api import CurveOptions, analyse
        from losscli.report import write_files
        from losscli.report.curves_view import plot as plot_curves
        from losscli.report.curves_view import render, render_rich

        fmt_name = _resolve_format(fmt, as_json)
        _check_output_flags(output)
        kinds = [k.strip() for part in fail_on or [] for k in part.split(",") if k.strip()]
        opts = CurveOptions(
            monitor=monitor,
            train=train,
            mode=mode,
            rule=early_stopping,
            patience=patience,
            min_delta=min_delta,
            min_delta_mode=min_delta_mode,
            baseline=baseline,
            start_from_epoch=start_from_epoch,
            cooldown=cooldown,
            factor=factor,
            min_lr=min_lr,
            smooth=smooth,
            targets=targets,
            loss=loss,
            fail_on=kinds,
        )
        doc = analyse(logs, opts).data
        write_files([str(p) for p in output or []], lambda k: render(doc, k, precision))
        if fmt_name == "table":
            render_rich(doc, out, precision)
        else:
            sys.stdout.write(render(doc, fmt_name, precision))
            sys.stdout.flush()
        if plot:
            draw_plot(lambda c: plot_curves(doc, c), out=out, err=err, fmt=fmt_name)
        failed = [g for g in doc["gates"] if not g["passed"]]
        if not quiet:
            for w in doc["warnings"]:
                err.print(f"note: {w}", markup=False, highlight=False, soft_wrap=True)
            for g in failed:
                err.print(
                    f"gate failed: --fail-on {g['kind']}: {g['found']} found",
                    markup=False,
                    highlight=False,
                )
        return int(ExitCode.GATE_FAILED) if failed else 0

    run_command(debug, body, quiet=quiet)


def main() -> None:
    """Console-script entry point (a shell asking for completions sets
    :data:`COMPLETE_VAR`; Typer's completion classes answer it)."""
    if os.environ.get(COMPLETE_VAR):
        from typer.completion import completion_init

        completion_init()
    app(prog_name="losscli")


if __name__ == "__main__":  # pragma: no cover
    main()
