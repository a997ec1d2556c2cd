"""One report from runs that each trained a part of a spec's losses into its own folder (``modes --losses``).

``lsgan-theory modes SPEC --losses ...`` trains some of a file's losses, each model with the id and random streams it
has in the whole run, so processes on separate cores can split a file's losses; each writes its own ``--out``.  This
loads each part's finished checkpoints and trains nothing (a part without a finished checkpoint for its losses is
refused before it is loaded, and nothing is written: run its command to the end first), merges them
(:func:`lsgan_theory.studies.modes.merge_results`: the parts' losses must be the file's losses, each once) and writes
the report of the whole loss set into ``--out``, as the ``modes`` command would.  Bad input is one line on stderr and
exit status 2.  Usage (from the repository root)::

    python experiments/mode_collapse/collect_parts.py experiments/mode_collapse/mao_ring.toml --variant mao \
        --setting update=alternating --out OUT --part OUT_A loss_sensitive hinge --part OUT_B glsgan wgan_gp ...
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lsgan_theory._claims.modes import modes_report
from lsgan_theory.studies.modes import load_modes_spec, merge_results, run_modes


def _parts(spec, parts: list[list[str]]):
    found = []
    for part in parts:
        folder, losses = Path(part[0]), part[1:]
        if not losses or not (folder / "state").is_dir():
            raise ValueError(f"--part {part[0]}: expected a part's --out folder (with state/) and the losses it trained")
        found.append((folder, spec.restrict_losses(losses, argument=f"--part {part[0]}")))
    return found


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
        if a.out.exists() and not a.out.is_dir():
            raise ValueError(f"--out {a.out}: exists and is not a folder")
        spec = load_modes_spec(a.spec, a.variant).restrict(a.setting, argument="--setting")
        found = _parts(spec, a.part)
        result = merge_results(spec, [run_modes(sub, folder / "state", threads=1, finished_only=True)
                                      for folder, sub in found])
        a.out.mkdir(parents=True, exist_ok=True)
        rep = modes_report(result, a.out)
    except (ValueError, OSError) as e:
        print(f"collect_parts.py: {e}", file=sys.stderr)
        return 2
    print("\n".join(rep["tables"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
