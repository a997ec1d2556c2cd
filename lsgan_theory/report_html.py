"""The verification report as one self-contained HTML file (report layer).

:func:`write_html` turns the verdicts of :func:`lsgan_theory.claims.run_claims` (as dicts, the records of
``claims.json``) into ``report.html``: a summary table first (claim, THEORY.md section, verdict in colour, statistic
against tolerance, power, seconds), filters by verdict and by area, one section per claim with its terms, evidence,
figures and the command that reproduces it, and the environment and provenance in a footer.  Figures are embedded as
``data:`` URIs and the page loads nothing from the network (no fonts, scripts or styles from elsewhere), so the file
can be mailed to a co-author as it is.

Filters also work from the address: ``report.html#verdict=fail&area=nonparametric`` opens with them applied.
"""

from __future__ import annotations

import base64
import html
import math
import re
from pathlib import Path

from .output import write_text

__all__ = ["write_html", "markdown_to_html", "area_of", "VERDICT_COLOURS"]

VERDICT_COLOURS = {"pass": "#1a7f37", "fail": "#cf222e", "inconclusive": "#9a6700", "hypothesis not met": "#0969da",
                   "error": "#8250df", "skipped": "#6e7781"}

# claim-id prefixes -> area (the claim modules of lsgan_theory/_claims); other ids use their first word
_AREAS = (("optimal-critic", "ensemble"), ("closed-forms", "foundation"), ("divergence", "foundation"),
          ("symbolic", "symbolic"), ("losses", "losses"), ("nonparametric", "nonparametric"),
          ("proof", "proofs"), ("theorem1", "theorem1"), ("modes", "modes"), ("clsgan", "clsgan"))


def area_of(claim: dict) -> str:
    """The claim's area: its ``area`` field, else from its id prefix."""
    if claim.get("area"):
        return str(claim["area"])
    cid = str(claim.get("id", ""))
    for prefix, area in _AREAS:
        if cid.startswith(prefix):
            return area
    return cid.split("-", 1)[0] or "other"


# ------------------------------------------------------------------------------------------------ Markdown subset
_INLINE = [
    (re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
    (re.compile(r"\*\*([^*]+)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])"), r"<em>\1</em>"),
]


def _inline(text: str) -> str:
    """Escape, then code spans (whose content is left alone), then bold and italics outside them."""
    parts = re.split(r"(`[^`]+`)", text)
    out = []
    for part in parts:
        if len(part) > 1 and part.startswith("`") and part.endswith("`"):
            out.append("<code>" + html.escape(part[1:-1], quote=False) + "</code>")
            continue
        chunk = html.escape(part, quote=False)
        for pat, rep in _INLINE[1:]:
            chunk = pat.sub(rep, chunk)
        out.append(chunk)
    return "".join(out)


def _cells(line: str) -> list[str]:
    """The cells of a pipe-table row; ``\\|`` is a literal pipe inside a cell."""
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", body)]


def markdown_to_html(md: str) -> str:
    """The Markdown the claims write (paragraphs, ``-`` lists, pipe tables, fenced code, inline code, bold,
    italics) as HTML.  Everything is escaped first: evidence text can never inject markup or scripts."""
    lines = (md or "").splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            out.append("<pre><code>" + html.escape("\n".join(lines[i + 1:j]), quote=False) + "</code></pre>")
            i = j + 1
        elif line.lstrip().startswith("|") and i + 1 < len(lines) and re.match(r"^\s*\|[\s:|-]+\|\s*$", lines[i + 1]):
            head = _cells(line)
            rows = []
            j = i + 2
            while j < len(lines) and lines[j].lstrip().startswith("|"):
                rows.append(_cells(lines[j]))
                j += 1
            t = ["<table class='md'><thead><tr>" + "".join(f"<th>{_inline(h)}</th>" for h in head) + "</tr></thead>",
                 "<tbody>"]
            t += ["<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>" for r in rows]
            out.append("\n".join(t) + "</tbody></table>")
            i = j
        elif re.match(r"^\s*[-*] ", line):
            items = []
            while i < len(lines) and re.match(r"^\s*[-*] ", lines[i]):
                items.append(re.sub(r"^\s*[-*] ", "", lines[i]))
                i += 1
            out.append("<ul>" + "".join(f"<li>{_inline(x)}</li>" for x in items) + "</ul>")
        elif not line.strip():
            i += 1
        else:
            para = [line]
            i += 1
            while i < len(lines) and lines[i].strip() and not re.match(r"^\s*([-*] |\||```)", lines[i]):
                para.append(lines[i])
                i += 1
            out.append("<p>" + _inline(" ".join(para)) + "</p>")
    return "\n".join(out)


# ------------------------------------------------------------------------------------------------ the page
def _num(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, (int, float)):
        if isinstance(v, float) and not math.isfinite(v):
            return str(v)
        return f"{v:.4g}"
    return html.escape(str(v))


def _headline(c: dict) -> dict:
    """The check that decides the claim's verdict: the first whose status is the claim's (a failing one, an
    inconclusive one, one whose hypothesis is not met), else the first failing one, else the first inconclusive,
    else the first; a record without ``checks`` is its own headline (older claims.json files)."""
    checks = c.get("checks") or []
    for want in (c.get("status"), "fail", "inconclusive"):  # the check whose status is the claim's, first
        for k in checks:
            if k.get("status") == want:
                return k
    return checks[0] if checks else c


def _terms(c: dict) -> tuple[str, str]:
    """(statistic vs tolerance, power) cells for the summary table."""
    kind = c.get("kind")
    c = _headline(c)
    stat, tol = c.get("statistic"), c.get("tolerance")
    if c.get("shown"):  # the check states its measured relation in the reader's terms
        st = html.escape(str(c["shown"]))
    elif stat is not None and tol is not None:
        try:  # the relation measured, not assumed: a failing check reads "0.79 > 0.066", never "0.79 ≤ 0.066"
            rel = "≤" if float(stat) <= float(tol) else ">" if float(stat) > float(tol) else "vs"
        except (TypeError, ValueError):
            rel = "vs"
        st = f"{_num(stat)} {rel} {_num(tol)}"
    elif stat is None and kind == "symbolic":
        st = "exact (symbolic, no statistic)"
    else:
        st = _num(stat)
    alt, alt_stat = c.get("alternative"), c.get("alternative_statistic")
    pw = f"{html.escape(str(alt))}: {_num(alt_stat)}" if alt else ""
    return st, pw


def _figure(path: str, base: Path | None) -> str:
    p = Path(path)
    if not p.is_absolute() and base is not None:
        p = base / p
    try:
        data = p.read_bytes()
    except OSError:
        return f"<p class='missing'>figure not found: {html.escape(str(path))}</p>"
    mime = "image/png" if p.suffix.lower() == ".png" else "image/svg+xml" if p.suffix.lower() == ".svg" else None
    if mime is None:
        return ""
    uri = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    return (f'<figure><img alt="{html.escape(p.stem, quote=True)}" src="{uri}">'
            f"<figcaption>{html.escape(p.stem)}</figcaption></figure>")


_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;
color:#1f2328;line-height:1.45}
h1{margin-bottom:.2em} .sub{color:#59636e;margin-top:0}
table{border-collapse:collapse;margin:.8em 0;font-size:.92em} th,td{border:1px solid #d1d9e0;padding:.3em .55em;
text-align:left;vertical-align:top} th{background:#f6f8fa}
.badge{display:inline-block;padding:.05em .55em;border-radius:1em;color:#fff;font-weight:600;font-size:.85em}
.filters{margin:1em 0;display:flex;gap:.5em;flex-wrap:wrap;align-items:center}
.filters button{border:1px solid #d1d9e0;background:#f6f8fa;border-radius:.4em;padding:.25em .7em;cursor:pointer}
.filters button.on{background:#0969da;color:#fff;border-color:#0969da}
section.claim{border-top:2px solid #d1d9e0;margin-top:1.6em;padding-top:.4em}
figure{margin:.8em 0} figure img{max-width:100%;border:1px solid #eee} figcaption{color:#59636e;font-size:.85em}
pre{background:#f6f8fa;padding:.6em;overflow:auto} code{background:#f6f8fa;padding:0 .2em}
footer{margin-top:3em;border-top:1px solid #d1d9e0;color:#59636e;font-size:.88em}
.hidden{display:none}
"""

_JS = """
(function(){
  var state={verdict:'all',area:'all'};
  function apply(){
    document.querySelectorAll('[data-verdict]').forEach(function(el){
      var ok=(state.verdict==='all'||el.dataset.verdict===state.verdict)&&(state.area==='all'||el.dataset.area===state.area);
      el.classList.toggle('hidden',!ok);
    });
    document.querySelectorAll('.filters button').forEach(function(b){
      b.classList.toggle('on',b.dataset.value===state[b.dataset.kind]);
    });
    var shown=document.querySelectorAll('tr[data-verdict]:not(.hidden)').length;
    document.getElementById('shown').textContent=shown;
  }
  function fromHash(){
    var h=location.hash.replace(/^#/,'');
    h.split('&').forEach(function(kv){var p=kv.split('=');if(p.length===2&&(p[0]==='verdict'||p[0]==='area'))
      state[p[0]]=decodeURIComponent(p[1]);});
  }
  document.querySelectorAll('.filters button').forEach(function(b){
    b.addEventListener('click',function(){state[b.dataset.kind]=b.dataset.value;
      history.replaceState(null,'','#verdict='+encodeURIComponent(state.verdict)+'&area='+encodeURIComponent(state.area));apply();});
  });
  fromHash();apply();
})();
"""


def _badge(status: str) -> str:
    colour = VERDICT_COLOURS.get(status, "#57606a")
    return f"<span class='badge' style='background:{colour}'>{html.escape(status.upper())}</span>"


def _anchor(cid: str) -> str:
    return "claim-" + re.sub(r"[^A-Za-z0-9_-]", "_", cid)


def _summary_row(c: dict) -> str:
    """One row of the summary table: claim, reference, verdict, statistic vs tolerance, power, seconds."""
    st, pw = _terms(c)
    cid = str(c.get("id", ""))
    return (f"<tr data-verdict='{html.escape(c.get('status', ''))}' data-area='{html.escape(area_of(c))}'>"
            f"<td><a href='#{_anchor(cid)}'>{html.escape(cid)}</a></td><td>{html.escape(str(c.get('ref', '')))}"
            f"</td><td>{_badge(str(c.get('status', '')))}</td><td>{st}</td><td>{pw}</td>"
            f"<td>{_num(c.get('seconds'))}</td></tr>")


def _claim_section(c: dict, quick: bool, base: Path) -> str:
    """A claim's section: its statement, the terms of its checks, its evidence, figures and the command."""
    cid = str(c.get("id", ""))
    command = c.get("command") or f"lsgan-theory verify --only {cid}{'' if quick else ' --full'}"
    terms = []
    checks = c.get("checks") or ([c] if c.get("statistic") is not None else [])
    if checks:
        terms.append("<tr><th>check</th><th>statistic</th><th>tolerance</th><th>basis</th><th>alternative "
                     "(power)</th><th>its statistic</th><th>verdict</th></tr>")
    for k in checks:
        terms.append(f"<tr><td>{html.escape(str(k.get('name', '')))}</td><td>{_num(k.get('statistic'))}</td>"
                     f"<td>{_num(k.get('tolerance'))}</td><td>{html.escape(str(k.get('tolerance_basis', '')))}"
                     f"</td><td>{html.escape(str(k.get('alternative', '')))}</td>"
                     f"<td>{_num(k.get('alternative_statistic'))}</td><td>{_badge(str(k.get('status', '')))}</td>"
                     "</tr>")
    figs = "".join(_figure(f, base) for f in c.get("figures", []) if str(f).lower().endswith((".png", ".svg")))
    return (f"<section class='claim' id='{_anchor(cid)}' data-verdict='{html.escape(c.get('status', ''))}' "
            f"data-area='{html.escape(area_of(c))}'><h2>{html.escape(cid)} {_badge(str(c.get('status', '')))}</h2>"
            f"<p><em>{html.escape(str(c.get('ref', '')))}</em> — {html.escape(str(c.get('statement', '')))}</p>"
            + (f"<table class='terms'>{''.join(terms)}</table>" if terms else "")
            + markdown_to_html(str(c.get("evidence", ""))) + figs
            + f"<p>Reproduce: <code>{html.escape(command)}</code> ({_num(c.get('seconds'))} s)</p></section>")


def _filter_buttons(n_claims: int, counts: dict, verdicts: list, areas: list) -> list[str]:
    buttons = ["<span>verdict:</span>"] + [f"<button data-kind='verdict' data-value='all'>all ({n_claims})</button>"]
    buttons += [f"<button data-kind='verdict' data-value='{html.escape(v)}'>{html.escape(v)} ({counts[v]})</button>"
                for v in verdicts]
    buttons += ["<span>area:</span>", "<button data-kind='area' data-value='all'>all</button>"]
    buttons += [f"<button data-kind='area' data-value='{html.escape(a)}'>{html.escape(a)}</button>" for a in areas]
    return buttons


def write_html(claims: list[dict], meta: dict, path: str | Path, *, figures_base: str | Path | None = None) -> Path:
    """Write the self-contained report to ``path`` and return it.

    ``claims``: records with ``id``, ``ref``, ``statement``, ``status``, ``evidence`` (Markdown), ``figures``
    (paths), ``seconds`` and, where a claim states them, ``statistic``, ``tolerance``, ``tolerance_basis``,
    ``alternative``, ``alternative_statistic``, ``command``.  ``meta``: provenance (version, git, device, seed, quick,
    python, time, …), shown in the footer.  Figure paths are read relative to ``figures_base`` and embedded.
    """
    path = Path(path)
    base = Path(figures_base) if figures_base is not None else path.parent
    quick = meta.get("quick", True)
    counts: dict[str, int] = {}
    for c in claims:
        counts[c.get("status", "?")] = counts.get(c.get("status", "?"), 0) + 1
    areas = sorted({area_of(c) for c in claims})
    verdicts = [v for v in VERDICT_COLOURS if v in counts] + sorted(v for v in counts if v not in VERDICT_COLOURS)
    rows = [_summary_row(c) for c in claims]
    sections = [_claim_section(c, quick, base) for c in claims]
    buttons = _filter_buttons(len(claims), counts, verdicts, areas)
    summary = ", ".join(f"{counts[v]} {v}" for v in verdicts)
    foot = " · ".join(f"{html.escape(str(k))}: {html.escape(str(v))}" for k, v in meta.items())
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>lsgan-theory verification report</title><style>{_CSS}</style></head><body>
<h1>lsgan-theory verification report</h1>
<p class="sub">{'quick' if quick else 'full'} run · {html.escape(summary)} · <span id="shown">{len(claims)}</span> shown</p>
<div class="filters">{''.join(buttons)}</div>
<table class="summary"><thead><tr><th>claim</th><th>THEORY.md</th><th>verdict</th><th>statistic vs tolerance</th>
<th>power (alternative: its statistic)</th><th>seconds</th></tr></thead><tbody>
{''.join(rows)}
</tbody></table>
{''.join(sections)}
<footer><p>{foot}</p></footer>
<script>{_JS}</script>
</body></html>
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_text(path, page, what="report")  # the package's one atomic writer
