"""Reading a sweep's store as pandas: one row per run, the training curves, and mean ± CI over seeds; the summary as
aligned text and the runs as standard JSON (what ``lsgan-theory results`` prints)."""

from __future__ import annotations

import json
from pathlib import Path

from .store import Store, StoreError

__all__ = ["load", "load_curves", "summarize", "figure_tables", "format_table", "records_json", "METRIC_ORDER",
           "TABLE_METRICS", "TIMING_COLUMNS", "UNCERTAINTY_METRICS"]

METRIC_ORDER = ("w1", "ks", "l1", "l1_noise_floor", "l1_noise_floor_std", "l1_exact", "l1_exact_abserr", "w1_exact",
                "ratio_inf", "mass_outside", "atom_mass", "mmd2", "modes", "high_quality", "reverse_kl",
                "final_loss_d", "final_loss_g",
                # the equilibrium certificates of an LS-GAN run (studies.runs.CERTIFICATE_METRICS)
                "critic_gap", "critic_gap_err", "gen_gap", "gen_gap_err", "gen_gap_lp", "gen_gap_lp_err", "lip_ratio",
                "clip_fraction", "off_mass", "certified")
#: the columns that are the uncertainty of another column (shown on request: ``metrics=[...]`` / ``results --metric``)
UNCERTAINTY_METRICS = ("l1_exact_abserr", "l1_noise_floor_std", "critic_gap_err", "gen_gap_err", "gen_gap_lp_err")
# the metrics of the default summary table: every final metric, less the uncertainty columns
TABLE_METRICS = tuple(m for m in METRIC_ORDER if m not in UNCERTAINTY_METRICS)
_RUN_COLUMNS = ("id", "status", "pack", "slot", "pack_size", "seconds", "started", "finished", "version", "git",
                "device", "host", "worker", "attempts", "diverged_step", "error")


def load(out):
    """The runs of the sweep in ``out`` as a tidy pandas DataFrame, one row per run in expansion order.

    Columns: ``id``, ``status``, the canonical configuration (every training field, ``replica``, ``n_eval``, ``schema``;
    family parameters a run's family does not use are NaN/None), the final metrics (``w1``, ``ks``, ``l1``, ...,
    ``final_loss_d``, ``final_loss_g``; NaN for unfinished or diverged runs) and provenance (``version``, ``git``,
    ``device``, ``host``, ``worker``, ``seconds``, ``pack``, ``slot``).  ``df.attrs`` holds the sweep's meta
    (``name``, ``grid_keys``, ``spec_text``, ...).
    """
    import pandas as pd

    with Store(out, readonly=True) as st:
        meta = st.meta()
        rows = st.query(f"SELECT config, {', '.join(_RUN_COLUMNS)} FROM runs ORDER BY seq")
        final = st.query("SELECT run_id, name, value FROM final")
    table = []
    for row in rows:
        cfg = _json_cell(st, row[0], row[1])
        rec = dict(zip(_RUN_COLUMNS, row[1:]))
        table.append({"id": rec["id"], "status": rec["status"],
                      **{k: (tuple(v) if isinstance(v, list) else v) for k, v in cfg.items()},
                      **{k: v for k, v in rec.items() if k not in ("id", "status")}})
    df = pd.DataFrame(table)
    if final:
        f = pd.DataFrame(final, columns=["id", "name", "value"]).pivot(index="id", columns="name", values="value")
        names = [m for m in METRIC_ORDER if m in f.columns] + sorted(c for c in f.columns if c not in METRIC_ORDER)
        f = f[names].astype(float)
        df = df.merge(f, left_on="id", right_index=True, how="left")
    df.attrs.update(meta)
    return df


def load_curves(out):
    """The recorded training curves of the sweep in ``out``: a long DataFrame with columns ``id``, ``step``,
    ``name`` (``loss_d``, ``loss_g``), ``value`` (NaN once a model is frozen) and the sweep's grid keys and
    ``replica``."""
    import pandas as pd

    with Store(out, readonly=True) as st:
        meta = st.meta()
        curves = pd.DataFrame(st.query("SELECT run_id AS id, step, name, value FROM metrics ORDER BY run_id, name, step"),
                              columns=["id", "step", "name", "value"])
        grid = st.query("SELECT id, grid FROM runs ORDER BY seq")
    g = pd.DataFrame([{"id": rid, **_json_cell(st, gr, rid)} for rid, gr in grid], columns=None if grid else ["id"])
    curves["value"] = curves["value"].astype(float)
    df = curves.merge(g, on="id", how="left")
    df.attrs.update(meta)
    return df


def summarize(df, by=None, metrics=None, level: float = 0.95):
    """Mean and two-sided ``level`` confidence half-width over seeds (replicas) for each group of ``by`` (default:
    the sweep's grid keys).

    CI half-width = t_{(1+level)/2, n-1} · s / √n, with s the sample standard deviation over the n finished,
    non-diverged replicas of a group with a value (:func:`lsgan_theory.studies.stats.t_half_width`: NaN when
    n < 2).  Returns a DataFrame with columns ``by``, ``n``
    (finished runs), ``diverged``, and ``<metric>_mean``, ``<metric>_ci`` per metric (default: those of
    :data:`TABLE_METRICS` present with at least one value).
    """
    import pandas as pd

    from ..studies.stats import t_half_width

    if not 0 < level < 1:
        raise ValueError(f"level: must be in (0, 1), got {level!r}")
    by = list(df.attrs.get("grid_keys", []) if by is None else by)
    if metrics is None:  # those of TABLE_METRICS present with at least one value
        metrics = [m for m in TABLE_METRICS if m in df.columns and df[m].notna().any()]
    for c in list(by) + list(metrics):
        if c not in df.columns:
            raise ValueError(f"column: {c!r} is not in the results; columns are {', '.join(df.columns)}")
    rows = []
    groups = df.groupby(by, sort=False, dropna=False) if by else [((), df)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(by, key))
        ok = g[g["status"] == "done"]
        row["n"] = len(ok)
        row["diverged"] = int((g["status"] == "diverged").sum())
        for m in metrics:
            row[f"{m}_mean"], row[f"{m}_ci"] = t_half_width(ok[m].astype(float).to_numpy(), level)
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs.update(df.attrs)
    return out


def _json_cell(store: Store, text, rid) -> dict:
    """A run's JSON cell (config or grid) as a dict; a damaged cell is one error naming the store file."""
    try:
        v = json.loads(text)
    except (TypeError, ValueError):
        v = None
    if not isinstance(v, dict):
        raise StoreError(f"OUT: {str(store.path)!r}: run {str(rid)[:20]!r} has a cell that is not a JSON object "
                         f"({str(text)[:40]!r}); the store is damaged or foreign") from None
    return v


def _is_store(out) -> bool:
    return (Path(out) / "results.sqlite").exists()


def figure_tables(out) -> list:
    """The figures the sweep's spec declares (``[[figure]]``), each as ``(figure, table)``: the figure's settings
    (name, x, y, hue, facet, logx, logy, reference, ...) and :func:`summarize` of its metric ``y`` grouped by ``x``
    (and ``hue``, ``facet``): mean and 95 % Student-t half-width over seeds.  ``lsgan-theory plot OUT`` draws them
    (:func:`lsgan_theory.plots.sweep_figure`)."""
    from .spec import parse_spec

    df = load(out)
    text = df.attrs.get("spec_text")
    if not text:
        raise ValueError(f"out: {str(out)!r} holds no spec text (a sweep store written by lsgan-theory sweep)")
    spec = parse_spec(text, df.attrs.get("spec_path", "<spec>"), expand=False)
    result = []
    for fig in spec.figures:
        by = [fig["x"]] + [fig[k] for k in ("hue", "facet") if fig.get(k)]
        result.append((fig, summarize(df, by=by, metrics=[fig["y"]])))
    return result


#: Columns of ``results`` that differ between two runs of the same sweep (left out by ``--no-timing``).
TIMING_COLUMNS = ("started", "finished", "seconds", "worker", "attempts")


def records_json(df) -> str:
    """``results --format json``: ``{"runs": [one object per run], "nonfinite": {...}}`` written by the package's
    JSON writer (:func:`lsgan_theory.output.dumps`): standard JSON, a non-finite value as ``null`` listed under
    ``"nonfinite"`` (e.g. ``"/runs/3/w1": "Infinity"``), floats with every digit (as the CSV export)."""
    import math

    from ..output import dumps

    records = []
    for rec in df.to_dict(orient="records"):
        # pandas' missing values (NaN in an object column, None) of configuration cells become null, unlisted
        records.append({k: (None if v is None or (isinstance(v, float) and math.isnan(v) and k not in METRIC_ORDER)
                            else v) for k, v in rec.items()})
    return dumps({"runs": records}) + "\n"


def format_table(t, df) -> str:
    """The summary as aligned text: grid keys, n, then ``mean ± ci`` per metric."""
    meta = df.attrs
    by = [c for c in t.columns if c not in ("n", "diverged") and not c.endswith(("_mean", "_ci"))]
    metrics = [c[:-5] for c in t.columns if c.endswith("_mean")]
    head = by + ["n", "diverged"] + metrics
    rows = []
    for _, r in t.iterrows():
        rows.append([_cell(r[c]) for c in by] + [str(int(r["n"])), str(int(r["diverged"]))]
                    + [f"{r[m + '_mean']:.4g} ± {r[m + '_ci']:.2g}" for m in metrics])
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(head)]
    counts = df["status"].value_counts().to_dict()
    lines = [f"sweep {meta.get('name', '?')}{' (' + meta['variant'] + ')' if meta.get('variant') else ''}: "
             f"{len(df)} runs ({', '.join(f'{v} {k}' for k, v in counts.items())}); mean ± 95% CI half-width "
             f"(Student t over seeds)"]
    lines.append("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows]
    return "\n".join(lines) + "\n"


def _cell(v) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)
