"""The ``stabletail`` command line.

::

    stabletail study NAME [--preset quick|paper] [--out DIR] [--dataset D,...] [--seeds N|S1,S2,...]
                          [--device cpu|cuda|auto] [--data-dir DIR] [--download] [--set KEY=VALUE ...]
                          [--engine serial|ray [--address ADDRESS]]
    stabletail study --list
    stabletail tail FILE [--method mohammadi|hill|...] [--level 0.95] [--column N] [--json]
    stabletail fit FILE [--method mle|...] [--parameterization S0|S1] [--level 0.95] [--column N] [--json]
                        [--gof [--n-boot B]] [--plot OUT.png]
    stabletail diagnose FILE [--fast] [--n-boot B] [--seed S] [--level 0.05] [--plot OUT.png] [--json]

``FILE`` holds a column of numbers (one per line; commas or whitespace separate
columns, a header line is skipped; ``-`` reads standard input).
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ._columns import read_column
from ._io import jsonable

__all__ = ["main", "read_column"]



def _result_dict(res: Any, fields: Sequence[str], level: float) -> dict[str, Any]:
    d: dict[str, Any] = {f: getattr(res, f) for f in fields if hasattr(res, f)}
    d["level"] = level
    d["ci"] = res.ci(level)
    return jsonable(d)


def _options(func: Any) -> dict[str, inspect.Parameter]:
    """The keyword options of an estimator (what ``--param`` may set)."""
    params = list(inspect.signature(func).parameters.values())[1:]  # the first is the data
    return {p.name: p for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}


def _cmd_tail(args: argparse.Namespace) -> int:
    from . import estimators

    if args.method not in estimators.ESTIMATORS:
        raise ValueError(f"--method must be one of {', '.join(estimators.ESTIMATORS)}; got {args.method!r}")
    func = estimators.ESTIMATORS[args.method]
    options = _options(func)
    params = _parse_sets(args.param, "--param")
    unknown = sorted(set(params) - set(options))
    if unknown:
        raise ValueError(f"--param {unknown[0]} is not an option of --method {args.method}; "
                         f"its options are: {', '.join(options)}")
    x = read_column(args.file, args.column, decimal_comma=args.decimal_comma)
    note = ""
    if "zeros" in options and "zeros" not in params:
        params["zeros"] = args.zeros
        n_zero = int(np.count_nonzero(x == 0))
        if n_zero and args.zeros == "omit":
            note = (f"note: {n_zero} of {x.size} values are exactly 0 and were dropped "
                    "(--zeros raise to refuse them)")
    try:
        res = func(x, **params)
    except TypeError as exc:  # a --param value of the wrong kind
        raise ValueError(f"--param: {exc}") from None
    except ValueError as exc:
        raise ValueError(str(exc).replace("use zeros='omit'", "use --zeros omit")
                         .replace("or eps > 0", "or --param eps=VALUE with VALUE > 0")) from None
    if args.json:
        d = _result_dict(res, ("method", "alpha", "stderr", "stderr_method", "n", "params"), args.level)
        print(json.dumps(d))
    else:
        _print_summary(res, args.level)
    if note:
        print(note, file=sys.stderr)
    return 0


def _print_summary(res: Any, level: float) -> None:
    print(res.summary())
    if level != 0.95:  # summary() reports 95 % intervals
        print(f"confidence interval at level {level:g}: {json.dumps(jsonable(res.ci(level)))}")


def _cmd_fit(args: argparse.Namespace) -> int:
    from .fit import fit

    x = read_column(args.file, args.column, decimal_comma=args.decimal_comma)
    res = fit(x, method=args.method, parameterization=args.parameterization)
    checks = None
    if args.gof:
        checks = res.gof(x, n_boot=args.n_boot, random_state=0, progress=None if not args.json else False)
    if args.plot:
        res.plot(x, args.plot)
    if args.json:
        d = _result_dict(res, ("method", "parameterization", "alpha", "beta", "scale", "loc", "stderr",
                               "converged", "message", "at_boundary"), args.level)
        if isinstance(d.get("stderr"), list) and len(d["stderr"]) == 4:
            d["stderr"] = dict(zip(("alpha", "beta", "scale", "loc"), d["stderr"]))
        d["n"] = int(x.size)
        if checks is not None:
            d["gof"] = jsonable({k: {"statistic": t.statistic, "pvalue": t.pvalue}
                                 for k, t in checks.tests.items()})
            d["gof_n_boot"] = checks.n_boot
        print(json.dumps(d))
    else:
        _print_summary(res, args.level)
        if checks is not None:
            print("goodness of fit:\n" + checks.summary())
    if args.plot:
        print(f"figure: {args.plot}", file=sys.stderr)
    if not getattr(res, "converged", True):
        print(f"warning: the fit did not converge: {res.message or 'no message'}", file=sys.stderr)
        return 1
    return 0


def _cmd_diagnose(args: argparse.Namespace) -> int:
    from ._diagnose import diagnose
    from ._io import json_text

    x = read_column(args.file, args.column, decimal_comma=args.decimal_comma)
    res = diagnose(x, level=args.level, n_boot=args.n_boot, fast=args.fast, random_state=args.seed,
                   progress=False if args.json else None)
    if args.plot and res.status == "ok":
        res.plot(args.plot)
    if args.json:
        print(json_text(res.to_dict(), indent=None))
    else:
        print(res.summary())
    if args.plot:
        print(f"figure: {args.plot}" if res.status == "ok" else "no figure: the verdict is undetermined",
              file=sys.stderr)
    return 0


def _parse_sets(items: Sequence[str] | None, flag: str = "--set") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or ():
        if "=" not in item or not item.split("=", 1)[0].strip():
            raise ValueError(f"{flag} expects KEY=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        try:
            out[k.strip()] = json.loads(v)
        except ValueError:
            out[k.strip()] = v
    return out


def _check_device(device: str) -> None:
    """Refuse a device that torch cannot use, before any cell runs."""
    if device == "auto":
        return
    import torch

    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError):
        raise ValueError(f"--device must be cpu, cuda, cuda:N or auto; got {device!r}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"--device {device}: CUDA is not available on this machine (use --device cpu or auto)"
        )
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"--device must be cpu, cuda, cuda:N or auto; got {device!r}")


def _cmd_study(args: argparse.Namespace) -> int:
    from .sgd.studies import STUDIES, run_study

    if args.list or args.name is None:
        for st in STUDIES.values():
            print(f"{st.name:15s} {st.description}\n{'':15s} tests: {st.claim}")
        return 0 if args.list else 2
    if args.address is not None and args.engine != "ray":
        raise ValueError("--address is an option of --engine ray")
    _check_device(args.device)
    overrides = _parse_sets(args.set)
    if args.dataset:
        overrides["dataset"] = args.dataset.split(",")
    seeds: Any = None
    if args.seeds:
        try:
            seeds = [int(s) for s in args.seeds.split(",")] if "," in args.seeds else int(args.seeds)
        except ValueError:
            raise ValueError(f"--seeds must be a number N or a comma-separated list of integers; "
                             f"got {args.seeds!r}") from None
    out = Path(args.out or f"results/{args.name}")
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file; give a directory (new or of an earlier run to resume)")
    run = run_study(
        args.name, out, preset=args.preset, overrides=overrides, seeds=seeds, device=args.device,
        data_dir=args.data_dir, download=args.download, progress=not args.quiet, figures=not args.no_figures,
        engine=args.engine, address=args.address,
    )
    print(f"study {args.name} (preset {args.preset}): {run.n_cells} cells, {run.n_skipped} already done, "
          f"{run.n_failed} failed, {run.seconds:.1f} s")
    print(f"table:    {run.table}")
    print(f"summary:  {run.summary}")
    print(f"metadata: {run.metadata}")
    for f in run.figures:
        print(f"figure:   {f}")
    return 1 if run.n_failed else 0


def _column(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0 (columns count from 0), got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    from . import __version__

    p = argparse.ArgumentParser(
        prog="stabletail", description="Alpha-stable laws, tail indices and gradient-noise studies."
    )
    p.add_argument("--version", action="version", version=f"stabletail {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    st = sub.add_parser("study", help="run (or resume) a named reproduction study",
                        description="Run a named study; re-running the same command resumes it.")
    st.add_argument("name", nargs="?", help="study name (see --list)")
    st.add_argument("--list", action="store_true", help="list the studies and the claims they test")
    st.add_argument("--preset", default="quick", choices=("quick", "paper"),
                    help="quick: minutes on a CPU, embedded data; paper: the published setup (default quick)")
    st.add_argument("--out", help="output directory (default results/NAME)")
    st.add_argument(
        "--dataset", help="comma-separated data sets: mnist5k (embedded), mnist, fashion-mnist, cifar10"
    )
    st.add_argument("--seeds", help="number of seeds N (seeds 0..N-1) or a comma-separated list")
    st.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:1, auto (default cpu)")
    st.add_argument("--data-dir", help="data directory (default $STABLETAIL_DATA or ~/.cache/stabletail)")
    st.add_argument("--download", action="store_true", help="download missing data sets (checksums verified)")
    st.add_argument("--set", action="append", metavar="KEY=VALUE",
                    help="override a preset entry, VALUE in JSON (e.g. --set lr=[0.01,0.1]); repeatable")
    st.add_argument("--engine", default="serial", choices=("serial", "ray"),
                    help="serial (default): cells one after another here; ray: one Ray task per cell")
    st.add_argument(
        "--address", help="with --engine ray: address of a Ray cluster (default: a local instance)"
    )
    st.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    st.add_argument("--quiet", action="store_true", help="no progress bar")
    st.set_defaults(func=_cmd_study)

    for name, helptext in (("tail", "tail index of a column of numbers"),
                           ("fit", "four-parameter stable fit of a column of numbers")):
        c = sub.add_parser(name, help=helptext, description=helptext.capitalize() + ".")
        c.add_argument("file", help="text file with a column of numbers ('-' for standard input)")
        c.add_argument("--column", type=_column, default=0, help="zero-based column (default 0)")
        c.add_argument("--decimal-comma", action="store_true",
                       help="read 0,5 as 0.5 (columns separated by semicolons, tabs or spaces)")
        c.add_argument(
            "--level", type=float, default=0.95, help="confidence level of the interval (default 0.95)"
        )
        c.add_argument("--json", action="store_true", help="print one JSON object instead of the summary")
        if name == "tail":
            c.add_argument(
                "--method",
                default="mohammadi",
                help="a name of stabletail.estimators.ESTIMATORS: mohammadi, mohammadi_quantile, log_moment, "
                "hill, pickands, moments, ... (default mohammadi)",
            )
            c.add_argument(
                "--param",
                action="append",
                metavar="KEY=VALUE",
                help="estimator option (JSON value); repeatable",
            )
            c.add_argument(
                "--zeros",
                default="omit",
                choices=("omit", "raise"),
                help="exact zeros, whose log is -inf: omit (default; the count is reported) or raise",
            )
            c.set_defaults(func=_cmd_tail)
        else:
            c.add_argument("--method", default="mle", help="fit method (default mle)")
            c.add_argument(
                "--parameterization", default="S0", choices=("S0", "S1"), help="Nolan's parameterization"
            )
            c.add_argument("--gof", action="store_true",
                           help="add Kolmogorov-Smirnov, Anderson-Darling and Cramer-von Mises tests with "
                                "parametric-bootstrap p-values (every bootstrap sample refitted)")
            c.add_argument("--n-boot", type=int, default=999, help="bootstrap samples of --gof (default 999)")
            c.add_argument("--plot", metavar="OUT.png",
                           help="write QQ, PP, density and tail plots of the fit")
            c.set_defaults(func=_cmd_fit)
    d = sub.add_parser("diagnose", help="which law describes the tail of a column of numbers",
                       description="Fit the Gaussian, Student-t, stable law and a power-law tail, test "
                                   "each, estimate the tail index three ways and print a verdict "
                                   "(docs/diagnose.md).")
    d.add_argument("file", help="text file with a column of numbers ('-' for standard input)")
    d.add_argument("--column", type=_column, default=0, help="zero-based column (default 0)")
    d.add_argument("--decimal-comma", action="store_true",
                   help="read 0,5 as 0.5 (columns separated by semicolons, tabs or spaces)")
    d.add_argument("--level", type=float, default=0.05, help="level of the tests (default 0.05)")
    d.add_argument("--n-boot", type=int, default=200,
                   help="bootstrap samples of the stable and Student-t tests (default 200)")
    d.add_argument("--fast", action="store_true", help="skip every bootstrap (the report says so)")
    d.add_argument("--seed", type=int, default=0, help="seed of the bootstraps (default 0)")
    d.add_argument("--plot", metavar="OUT.png", help="write the four-panel figure")
    d.add_argument("--json", action="store_true", help="print one JSON object instead of the report")
    d.set_defaults(func=_cmd_diagnose)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``stabletail`` console script.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 success, 1 a failed study cell or a fit that did not converge, 2 a usage or
        input error, 130 interrupted.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except (ValueError, OSError) as exc:
        print(f"stabletail {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except ImportError as exc:
        print(f"stabletail {args.command}: error: {exc} (the study command needs the sgd extra: "
              "pip install 'stabletail[sgd]')", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; finished cells are kept, re-run the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
