"""``lsgan-theory train`` (one configuration or a small grid as one batched ensemble) and ``lsgan-theory modes`` (the
mode-collapse experiments): the subcommands that train."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from .common import _FINITE, _int_type, _os_reason, _print_json, _writable_dir


def _train_floats() -> tuple[tuple[str, str | None, str], ...]:
    """Per-model flags: (flag, registry parameter or None for options of any critic, help); the grid key is the flag
    with "_".  A family's own numbers come from its registry entry (lsgan_theory.families.Param)."""
    from ..families import FAMILIES, TRAINABLE

    own = {}
    for f in TRAINABLE:
        for p in FAMILIES[f].parameters:
            if p.per_model:
                own.setdefault(p.name, (p, []))[1].append(f)
    return (*((n.replace("_", "-"), n, f"{p.meaning} ({', '.join(users)}; default {p.default:g})")
              for n, (p, users) in own.items()),
            ("lr-d", None, "default 1e-3"), ("lr-g", None, "default 1e-3"),
            ("gp-weight", None, "gradient-penalty weight (default 0)"),
            ("clip", None, "weight clip of the critic (default 0: off)"))


def _train_description() -> str:
    """The description of ``train``: its family names and which family owns each flag, read from the registry."""
    from ..families import FAMILIES, TRAINABLE, owners

    flags = {n.replace("_", "-"): n for _, n, _ in _train_floats() if n is not None}
    owned = "; ".join(f"{', '.join('--' + fl for fl, n in flags.items() if f in owners(n))}: {f}"
                      for f in TRAINABLE if any(f in owners(n) for n in flags.values()))
    by_spec = [f for f in TRAINABLE if any(p.default is None for p in FAMILIES[f].parameters)]
    return ("Train every combination of the listed per-model values (x --seeds replicas) as one batched ensemble "
            "(CPU or CUDA) and write results.csv, curves.csv, meta.json and training-curve figures to --out. Family "
            "names: " + ", ".join(TRAINABLE) + " (loss_sensitive = " + FAMILIES["loss_sensitive"].title
            + "; least_squares = " + FAMILIES["least_squares"].title + ")"
            + (f"; {', '.join(by_spec)} needs parameters that are not flags (a sweep spec or the Python API)"
               if by_spec else "")
            + f". A family's own parameter ({owned}) given when no selected family uses it is refused; --gp-weight, "
              "--clip, --spectral-norm apply to every critic. Sizes that would not fit in memory are refused with "
              "the estimate before training.")


def _add_train(sub) -> None:
    p = sub.add_parser("train", help="train one configuration or a small grid of GANs as one batched ensemble",
                       description=_train_description())
    p.add_argument("--target", default="normal(0,1)", help="data density spec, e.g. 'normal(0,1)' or 'ring(8,1,0.01)'")
    _add_family_flags(p)
    p.add_argument("--n-data", nargs="+", type=_int_type(0), default=[4096],
                   help="data-set size per model (0: fresh target samples at every step, the population regime)")
    p.add_argument("--seeds", type=_int_type(1), default=1, help="replicas of each grid point (independent streams)")
    p.add_argument("--seed", type=_int_type(0, 2**32 - 1), default=0,
                   help="root seed of every random stream (data, initialisation, sampling)")
    p.add_argument("--steps", type=_int_type(1), default=1000, help="training steps")
    p.add_argument("--batch", type=_int_type(1), default=64, help="minibatch size of real and of generated points")
    p.add_argument("--width", type=_int_type(1), default=64, help="hidden width of both MLPs (two hidden layers)")
    p.add_argument("--noise-dim", type=_int_type(1), default=1, help="dimension of the generator's Gaussian noise")
    p.add_argument("--activation", default="relu", help="hidden activation: elu, leaky_relu, relu, softplus, tanh")
    p.add_argument("--optimizer", default="adam", choices=["adam", "rmsprop", "sgd"],
                   help="optimiser of both networks")
    p.add_argument("--n-critic", type=_int_type(1), default=1, help="critic steps per generator step")
    p.add_argument("--spectral-norm", action="store_true")
    p.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, cuda, cuda:N")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"], help="floating-point type")
    p.add_argument("--eval-samples", type=_int_type(2), default=2000,
                   help="generated samples per model for the final metrics (default 2000)")
    p.add_argument("--out", type=Path, default=Path("runs/train"), help="output folder")
    p.add_argument("--checkpoint-every", type=_int_type(1), default=None,
                   help="steps between checkpoints in OUT/checkpoint.pt (default ~5%% of --steps); a rerun with the "
                        "same arguments resumes an interrupted run")
    p.add_argument("--restart", action="store_true",
                   help="start afresh: first move the previous results and checkpoint into OUT/.previous-<time>/")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument("--json", action="store_true", help="print the results table as standard JSON (non-finite -> "
                                                       "null, listed in \"nonfinite\")")


def _add_family_flags(p) -> None:
    """``--family`` and the per-model float flags (:func:`_train_floats`) of ``train``: the one place the CLI derives
    flags from the family registry (read back by :func:`_train_grid`)."""
    from ..families import TRAINABLE

    p.add_argument("--family", nargs="+", default=["loss_sensitive"],
                   help="loss families (a grid axis): " + ", ".join(TRAINABLE))
    for flag, _, help_ in _train_floats():
        p.add_argument(f"--{flag}", dest=flag.replace("-", "_"), nargs="+", type=_FINITE, default=None, help=help_)


def _train_grid(args) -> dict:
    """The grid of per-model values; refuses a family parameter that no selected family uses (one line)."""
    from .. import families

    fams = [families.canonical(f, argument="--family") for f in args.family]
    used = {p for f in fams for p, _ in families.get(f).params}
    grid = {"family": fams}
    for flag, param, _ in _train_floats():
        vals = getattr(args, flag.replace("-", "_"))
        if vals is None:
            continue
        if param is not None and param not in used:
            raise ValueError(families.unused_parameter(param, fams, argument=f"--{flag}"))
        grid[flag.replace("-", "_")] = vals
    grid["n_data"] = args.n_data
    return grid


def _run_train(args) -> int:
    from ..plots import training_curves_figure
    from ..studies.runs import grid_config, metric_names, run_and_write

    grid = _train_grid(args)
    if args.out.exists() and not args.out.is_dir():
        raise ValueError(f"--out: {str(args.out)!r} exists and is not a folder")
    cfg, rows = grid_config(grid, seeds=args.seeds, by_family=True, target=args.target, seed=args.seed, steps=args.steps,
                            batch=args.batch, g_hidden=(args.width, args.width), d_hidden=(args.width, args.width),
                            noise_dim=args.noise_dim, activation=args.activation, optimizer=args.optimizer,
                            n_critic=args.n_critic, spectral_norm=args.spectral_norm, device=args.device,
                            dtype=args.dtype, record_every=max(1, args.steps // 200))

    def announce(msg: str) -> None:
        if not args.quiet:
            print(f"train: {msg}", file=sys.stderr, flush=True)

    try:
        summary = run_and_write(cfg, rows, args.out, n_eval=args.eval_samples,
                                checkpoint_every=args.checkpoint_every, resume=not args.restart, announce=announce,
                                callback=None if args.quiet else _train_progress(cfg), what="--out")
    except OSError as exc:
        raise ValueError(f"--out: cannot use {str(args.out)!r} ({_os_reason(exc)})") from None
    res = summary.pop("result")
    labels = [", ".join(f"{k}={v}" for k, v in g.items()) for g in rows]
    figs = training_curves_figure(res.steps, res.loss_d, res.loss_g, labels, args.out / "training_curves",
                                  title=f"{cfg.target}: {cfg.n_models} model(s), {cfg.steps} steps")
    summary["figures"] = [str(f) for f in figs]
    if args.json:
        _print_json(summary)
    else:
        varying = [k for k, v in grid.items() if len(v) > 1] + (["replica"] if args.seeds > 1 else [])
        metric = list(metric_names(cfg.target, cfg))

        def cell(v):
            return "-" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))

        print("  ".join(["model"] + varying + ["diverged"] + metric))
        for r in summary["results"]:
            print("  ".join([str(r["model"])] + [cell(r[k]) for k in varying] + [str(r["diverged_step"] >= 0)]
                            + [cell(r[k]) for k in metric]))
        print(f"results: {args.out / 'results.csv'}  ({summary['meta']['seconds']:.1f} s on {summary['meta']['device']})")
    return 0


def _train_progress(cfg):
    """stderr progress every ~5 % of the run: step, elapsed time, ETA, frozen (diverged) models."""
    t0 = time.perf_counter()
    every = max(1, cfg.steps // 20)
    state = {"first": None, "next": 0}

    def cb(step, loss_d, loss_g, active):
        if state["first"] is None:
            state["first"] = state["next"] = step
        if step < state["next"] and step != cfg.steps - 1:
            return
        state["next"] = step + every
        done = step + 1 - state["first"]
        el = time.perf_counter() - t0
        eta = el / max(done, 1) * (cfg.steps - step - 1)
        frozen = int((~active).sum())
        print(f"train: step {step + 1}/{cfg.steps} ({100 * (step + 1) / cfg.steps:.0f} %), {el:.1f} s, "
              f"ETA {eta:.0f} s, {frozen}/{cfg.n_models} frozen", file=sys.stderr, flush=True)

    return cb


def _add_modes(sub) -> None:
    p = sub.add_parser("modes", help="mode collapse on Mao's ring / PacGAN's grid: the loss zoo over training",
                       description="Train every loss × seed × setting of a mode-collapse experiment "
                                   "(experiments/mode_collapse/*.toml) as batched ensembles, evaluate PacGAN's "
                                   "metrics at the evaluation steps and write CSV tables, Markdown tables and figures "
                                   "to OUT.  Resumable: rerunning the same command continues from OUT/state.")
    p.add_argument("spec", type=Path, help="the experiment file (TOML)")
    p.add_argument("--variant", choices=("quick", "full", "hour", "mao", "packing"), default=None,
                   help="apply the file's [quick] / [full] / [hour] / [mao] / [packing] overrides (a file without "
                        "the table refuses it)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default results/modes/NAME-VARIANT)")
    p.add_argument("--setting", action="append", default=[], metavar="KEY=VALUE",
                   help="train only the grid points with KEY = VALUE (repeatable), e.g. update=alternating: split "
                        "a grid over processes sharing --out, then rerun without it to collect one report")
    p.add_argument("--losses", nargs="+", default=None, metavar="LOSS",
                   help="train only these losses of the file (each model keeps its id and random streams), e.g. "
                        "--losses gan_ns ls_m110; parts trained into separate --out folders merge into one report "
                        "with experiments/mode_collapse/collect_parts.py")
    p.add_argument("--threads", type=_int_type(1), default=1, help="torch CPU threads (default 1)")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda or auto")
    p.add_argument("--quiet", action="store_true", help="no progress lines")


def _run_modes(args) -> int:
    from .. import plots  # noqa: F401 -- the report's modules load before hours of training, so a checkout changed
    from .._claims.modes import modes_report  # mid-run cannot pair new report code with old loaded modules
    from ..ensemble import resolve_device
    from ..studies.modes import load_modes_spec, run_modes

    spec = load_modes_spec(args.spec, args.variant).restrict(args.setting, argument="--setting")
    if args.losses is not None:
        spec = spec.restrict_losses(args.losses, argument="--losses")
    device = str(resolve_device(args.device))
    out = args.out if args.out is not None else Path("results") / "modes" / f"{spec.name}-{args.variant or 'base'}"
    _writable_dir(out, "--out")
    t0 = time.time()

    def progress(si, n, step, steps):
        if not args.quiet:
            print(f"[{time.time() - t0:7.0f} s] setting {si + 1}/{n}: step {step}/{steps}", file=sys.stderr,
                  flush=True)

    result = run_modes(spec, out / "state", device=device, threads=args.threads, progress=progress)
    rep = modes_report(result, out)
    print("\n".join(rep["tables"]))
    for f in rep["files"]:
        print(f"file: {f}")
    return 0

