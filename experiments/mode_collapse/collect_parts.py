"""One report from runs that each trained a part of a spec's losses into its own folder (``modes --losses``).

``lsgan-theory modes SPEC --losses ...`` trains some of a file's losses, each model with the id and random streams it
has in the whole run, so processes on separate cores can split a file's losses; each writes its own ``--out``.  This
loads each part's finished checkpoints (it trains nothing: a part that is not finished is refused, run its command to
the end first), merges them (:func:`lsgan_theory.studies.modes.merge_results`) and writes the report of the whole
loss set into ``--out``, as the ``modes`` command would.  Usage (from the repository root)::

    python experiments/mode_collapse/collect_parts.py experiments/mode_collapse/mao_ring.toml --variant mao \\
        --setting update=alternating --out OUT --part OUT_A loss_sensitive hinge --part OUT_B glsgan wgan_gp
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lsgan_theory._claims.modes import modes_report
from lsgan_theory.studies.modes import load_modes_spec, merge_results, run_modes


class _Unfinished(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("spec", type=Path)
    ap.add_argument("--variant", default=None)
    ap.add_argument("--setting", nargs="+", default=[], metavar="KEY=VALUE")
    ap.add_argument("--out", type=Path, required=True, help="folder for the merged report")
    ap.add_argument("--part", nargs="+", action="append", required=True, metavar=("OUT", "LOSS"),
                    help="a part's --out folder and the losses it trained (its --losses)")
    a = ap.parse_args(argv)
    try:
        spec = load_modes_spec(a.spec, a.variant).restrict(a.setting, argument="--setting")
        parts = []
        for part in a.part:
            folder, losses = Path(part[0]), part[1:]
            if not losses or not (folder / "state").is_dir():
                raise ValueError(f"--part {part[0]}: expected a part's --out folder (with state/) and its losses")
            sub = spec.restrict_losses(losses, argument=f"--part {part[0]}")

            def unfinished(si, n, step, steps, folder=folder):  # called only when a checkpoint evaluates again
                raise _Unfinished(f"--part {folder}: not finished (would train from step {step}); run its "
                                  f"command to the end first")

            parts.append(run_modes(sub, folder / "state", threads=1, progress=unfinished))
        spec = spec.restrict_losses([loss for p in parts for loss in p.spec.losses], argument="--part")
        result = merge_results(spec, parts)
    except (ValueError, OSError, _Unfinished) as e:
        print(f"collect_parts.py: {e}", file=sys.stderr)
        return 2
    rep = modes_report(result, a.out)
    print("\n".join(rep["tables"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
