"""The command line: parse flags, call the API, render, map errors to exit codes.

Nothing else happens here. NumPy, pandas and the math are imported inside the commands
that need them, so ``losscli --help`` stays fast.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
import traceback
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from losscli import __version__
from losscli.errors import ExitCode, LossCliError, UsageError
from losscli.options import INPUT_FLAGS, Setting

EPILOG = (
    "Exit codes: 0 ok · 1 a gate failed · 2 usage or config error · "
    "3 input data error · 4 internal error (please report)."
)

app = typer.Typer(
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
    so NO_COLOR/COLUMNS set by the caller are honoured."""
    from rich.console import Console

    width = None
    if not sys.stdout.isatty():
        width = int(os.environ.get("COLUMNS", "120") or 120)
    out = Console(width=width, soft_wrap=False)
    err = Console(stderr=True)
    return out, err


def _fail(err: Any, exc: LossCliError) -> None:
    err.print(f"Error: {exc.message}", markup=False, highlight=False, soft_wrap=True)
    if exc.hint:
        err.print(f"hint: {exc.hint}", markup=False, highlight=False, soft_wrap=True)


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
            err.print(line, markup=False, highlight=False, soft_wrap=True)


def run_command(debug: bool, body: Callable[[Any, Any], int], *, quiet: bool = False) -> None:
    """Run a command body, mapping every failure to its exit code (SPEC §2).

    Errors become one or two lines on stderr; a traceback only with ``--debug``. Python
    warnings never print raw: they become ``note:`` lines (none with ``--quiet``); with
    ``--debug`` they are left alone.
    """
    out, err = _consoles()
    try:
        if debug:
            code = body(out, err)
        else:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                code = body(out, err)
            _warning_notes(err, caught, quiet)
    except typer.Exit:
        raise
    except LossCliError as exc:
        if debug:
            traceback.print_exc()
        _fail(err, exc)
        raise typer.Exit(int(exc.exit_code)) from None
    except BrokenPipeError:
        _silence_stdout()
        raise typer.Exit(int(ExitCode.BROKEN_PIPE)) from None
    except KeyboardInterrupt:
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    except Exception as exc:  # a bug: say so in one line
        if debug:
            traceback.print_exc()
        err.print(
            f"Error: internal error ({type(exc).__name__}: {exc})",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        err.print(
            "hint: this is a bug in losscli; re-run with --debug and report the output",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(int(ExitCode.INTERNAL_ERROR)) from None
    raise typer.Exit(code)


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


def _resolve_format(fmt: Format | None, as_json: bool) -> str:
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
    from losscli.report import render, write_files

    def text(kind: str) -> str:
        return render(doc, kind, precision=precision, report=report)

    write_files([str(p) for p in outputs or []], text)
    if fmt == "table":
        from losscli.report.table import render as table_render

        table_render(doc, out, precision)
    else:
        sys.stdout.write(text(fmt))
        sys.stdout.flush()


def _wants_rows(outputs: list[Path] | None, plot: bool) -> bool:
    """Whether the run must keep per-row values: for ``--plot`` and ``-o *.html``."""
    from losscli.report import format_for_path

    return plot or any(format_for_path(p) == "html" for p in outputs or [])


def draw_plot(draw: Callable[[Any], None], *, out: Any, err: Any, fmt: str) -> None:
    """``--plot``: after the table on stdout; on stderr with a machine format, so stdout
    stays parseable."""
    draw(out if fmt == "table" else err)


def _version_callback(value: bool) -> None:
    if value:
        import platform

        import numpy
        import pandas

        typer.echo(
            f"losscli {__version__} (Python {platform.python_version()}, "
            f"numpy {numpy.__version__}, pandas {pandas.__version__})"
        )
        raise typer.Exit(0)


@app.callback()
def _root(
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
    typer.Option("--format", "-f", help="Output on stdout: table, json, csv or markdown."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Shorthand for --format json.")]
OutputOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--output",
        "-o",
        help="Also write a file; its format follows the extension (.json .csv .md .html .txt). "
        "Repeatable. Written atomically.",
    ),
]
PlotOpt = Annotated[
    bool,
    typer.Option(
        "--plot",
        help="Also draw the most telling chart as text (stdout after the table; stderr with "
        "--format json/csv/markdown). Keeps per-row values, so the input is read in one piece.",
    ),
]
PrecisionOpt = Annotated[
    int,
    typer.Option(
        "--precision", min=1, help="Significant digits in table and markdown output (≥ 1)."
    ),
]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="No notes or warnings on stderr; results only.")
]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")]


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
    annotation = Annotated[bool, typer.Option(flag, help=CONDITION_HELP[name])]
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

    def body(out: Any, err: Any) -> int:
        from losscli.catalogue import list_losses

        doc = list_losses(task)
        emit(doc, out=out, fmt=_resolve_format(fmt, as_json), outputs=output, precision=precision)
        return 0

    run_command(debug, body)


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
    err.print(
        f"task: {task['name']} ({how}){kind}; {plural(doc['n_samples'], 'sample')}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    for line in doc.get("evidence", []):
        err.print(f"  because {line}", markup=False, highlight=False, soft_wrap=True)
    for w in doc.get("warnings", []):
        err.print(f"note: {w}", markup=False, highlight=False, soft_wrap=True)


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


def _measure(
    command: str,
    flags: Mapping[str, Any],
    view: View,
    produce: Callable[[Any, Any], Any],
) -> None:
    """The body of evaluate and compare: resolve the settings once
    (:func:`losscli.config.from_flags`), check the output flags before any input is
    read, ``produce(options, err)`` the report, render it, and exit 1 when a gate fails
    (one ``gate failed`` line each, :func:`losscli.gates.describe_failure`)."""

    def body(out: Any, err: Any) -> int:
        from losscli.config import from_flags
        from losscli.gates import describe_failure

        fmt = _resolve_format(view.fmt, view.as_json)
        _check_output_flags(view.output)
        opts = from_flags(command, flags)
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
                err.print(describe_failure(g), markup=False, highlight=False)
        return int(ExitCode.GATE_FAILED) if failed else 0

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

    _measure("evaluate", flags, view, produce)


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

    _measure("compare", flags, view, produce)


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
        bool, typer.Option("--explain", help="Show which rules fired and why others did not.")
    ] = False,
    framework: Annotated[
        Framework, typer.Option("--framework", help="Code snippets for pytorch, keras or all.")
    ] = Framework.all,
    plot: Annotated[
        bool,
        typer.Option(
            "--plot",
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
                    err.print(
                        f"evidence: {ev['sentence']}", markup=False, highlight=False, soft_wrap=True
                    )
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


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
