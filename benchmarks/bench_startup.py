"""Start-up: ``losscli --help`` and ``losscli recommend`` against a minimal Typer app.

The reference app has two commands and imports nothing else; it is written to a temp
file. Every command runs ``--runs`` times (default 15) as a fresh process, alternating
between losscli and the reference; the table shows median wall times and their ratios.

    python benchmarks/bench_startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

MINIMAL_APP = '''
import typer

app = typer.Typer(add_completion=False)


@app.command()
def hello(name: str = "world") -> None:
    """Say hello."""
    typer.echo(f"hello {name}")


@app.command()
def version() -> None:
    """Print a version."""
    typer.echo("0.0")


if __name__ == "__main__":
    app()
'''


def wall(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = os.path.join(tmp, "minimal_app.py")
        with open(app, "w") as fh:
            fh.write(MINIMAL_APP)
        py = sys.executable
        pairs = [
            ("--help", [py, "-m", "losscli", "--help"], [py, app, "--help"]),
            (
                "recommend --task binary --json",
                [py, "-m", "losscli", "recommend", "--task", "binary", "--json"],
                [py, app, "version"],
            ),
        ]
        print("| command | losscli s | minimal Typer app s | ratio |")
        print("|---|---|---|---|")
        for label, ours, ref in pairs:
            wall(ours)  # warm-up (.pyc files, page cache)
            wall(ref)
            a, b, r = [], [], []
            for _ in range(args.runs):
                x, y = wall(ours), wall(ref)
                a.append(x)
                b.append(y)
                r.append(x / y)
            med = statistics.median
            print(f"| `{label}` | {med(a):.3f} | {med(b):.3f} | {med(r):.2f} |", flush=True)


if __name__ == "__main__":
    main()
