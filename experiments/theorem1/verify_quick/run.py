"""Regenerate this folder: the ``verify --quick`` reports of the Theorem 1 / Theorem 3 certificate claims, one claim per
process, with their times.

    python experiments/theorem1/verify_quick/run.py

For each claim: ``OMP_NUM_THREADS=1 lsgan-theory verify --quick --only CLAIM --out DIR --quiet`` into a temporary DIR;
its report.md and claims.json are copied here as CLAIM.md and CLAIM.json, its figures into figures/, and times.json
records per claim the verdict, the exit status, the process's wall time, the claim's own wall and CPU seconds (from
its JSON) and the 1-minute load average before and after, with the command, the machine and the git revision.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLAIMS = ("theorem1-certified-equilibrium", "theorem1-best-response-equilibrium", "clsgan-theorem3",
          "theorem1-verdict-controls", "theorem1-sharp-bound-attained")


def run_claim(claim: str, env: dict) -> dict:
    """Run one claim in its own process; copy its report, JSON and figures here; return its times.json entry."""
    with tempfile.TemporaryDirectory() as tmp:
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "lsgan_theory", "verify", "--quick", "--only", claim,
                               "--out", tmp, "--quiet"], env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        load1 = os.getloadavg()[0]
        out = Path(tmp)
        if not (out / "claims.json").exists():
            raise SystemExit(f"{claim}: verify wrote no claims.json (exit {proc.returncode}): {proc.stderr[-500:]}")
        shutil.copyfile(out / "report.md", HERE / f"{claim}.md")
        shutil.copyfile(out / "claims.json", HERE / f"{claim}.json")
        for fig in (out / "figures").glob("*.png") if (out / "figures").is_dir() else ():
            (HERE / "figures").mkdir(exist_ok=True)
            shutil.copyfile(fig, HERE / "figures" / fig.name)
        c = json.loads((out / "claims.json").read_text())["claims"][0]
    return {"claim": claim, "status": c["status"], "exit_status": proc.returncode, "process_wall_s": round(wall, 1),
            "claim_seconds": round(c["seconds"], 1), "claim_cpu_seconds": round(c["cpu_seconds"], 1),
            "loadavg_1min_before_after": [round(load0, 2), round(load1, 2)]}


def main(argv=None) -> int:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args(argv)  # --help; no options
    from lsgan_theory.provenance import git_revision

    env = dict(os.environ, OMP_NUM_THREADS="1")
    entries = [run_claim(c, env) for c in CLAIMS]
    times = {"command": "OMP_NUM_THREADS=1 lsgan-theory verify --quick --only CLAIM --out DIR --quiet (one claim per "
                        "process; python experiments/theorem1/verify_quick/run.py)",
             "machine": f"the project's shared {os.cpu_count()}-core x86-64 CPU, no GPU (load average as recorded)",
             "git": git_revision(), "claims": entries}
    (HERE / "times.json").write_text(json.dumps(times, indent=1) + "\n")
    for e in entries:
        print(f"{e['claim']}: {e['status']}, {e['process_wall_s']} s wall, {e['claim_cpu_seconds']} s CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
