"""The self-contained HTML report (issue 21): structure, escaping, embedded figures, no network references, and the
page checked in a real browser (Debian's chromium, headless; installed by the test's own set-up step).

The browser is driven through the Chrome DevTools protocol over ``--remote-debugging-pipe`` (file descriptors 3 and 4,
NUL-separated JSON), standard library only.  Chosen over parsing ``--enable-logging=stderr`` output: the protocol
reports console calls (``Runtime.consoleAPICalled``), uncaught exceptions (``Runtime.exceptionThrown``) and browser
log errors (``Log.entryAdded``) as structured events of the page itself, whereas chromium's stderr mixes them with
its own noise (D-Bus, GPU) whose format changes between versions; and one browser serves every page of the module.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import queue
import re
import shutil
import struct
import subprocess
import threading
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from lsgan_theory.report_html import area_of, markdown_to_html, write_html


def _claims(tmp_path: Path) -> list[dict]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [0, 1])
    fig.savefig(tmp_path / "fig.png")
    plt.close(fig)
    return [
        {"id": "nonparametric-lp-exact", "ref": "THEORY.md §5", "statement": "LP exact", "status": "pass",
         "evidence": "| a | b |\n|---|---|\n| 1 | 2 |\n\n- item **bold**", "figures": ["fig.png"], "seconds": 1.5,
         "statistic": 1e-12, "tolerance": 1e-9, "tolerance_basis": "numerical error of HiGHS",
         "alternative": "LP with κ·0.9", "alternative_statistic": 0.03},
        {"id": "optimal-critic-hinge", "ref": "THEORY.md §3", "statement": "hinge D*", "status": "fail",
         "evidence": "<script>alert(1)</script> measured `0.07`", "figures": [], "seconds": 20.0},
        {"id": "symbolic-gan-jsd", "ref": "THEORY.md §1", "statement": "GAN JSD", "status": "inconclusive",
         "evidence": "", "figures": [], "seconds": 0.2},
    ]


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.srcs, self.hrefs, self.scripts = [], [], [], 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-verdict" in a:
            self.rows.append(a["data-verdict"])
        if "src" in a:
            self.srcs.append(a["src"])
        if "href" in a:
            self.hrefs.append(a["href"])
        if tag == "script":
            self.scripts += 1


def test_report_is_written_atomically_by_the_packages_one_writer(tmp_path, monkeypatch):
    # issue 31: write_html goes through lsgan_theory.output.write_atomic.  A failure at the rename leaves the previous
    # report whole, no temporary file, and a ValueError naming the file (before: its own writer left report.html.tmp
    # behind and raised the bare OSError)
    from lsgan_theory import output

    claims, path = _claims(tmp_path), tmp_path / "report.html"
    path.write_text("old report\n")

    def fail(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(output.os, "replace", fail)
    with pytest.raises(ValueError, match="report.html.*No space left"):
        write_html(claims, {"quick": True}, path)
    assert path.read_text() == "old report\n"
    assert sorted(f.name for f in tmp_path.iterdir()) == ["fig.png", "report.html"]
    monkeypatch.undo()  # negative control: the same call without the fault writes the report
    assert write_html(claims, {"quick": True}, path).read_text().startswith("<!DOCTYPE html>")


def test_report_is_self_contained_and_escapes_evidence(tmp_path):
    page = write_html(_claims(tmp_path), {"version": "0.1.0", "git": "abc", "quick": True}, tmp_path / "report.html")
    text = page.read_text()
    p = _Collect()
    p.feed(text)
    assert p.rows == ["pass", "fail", "inconclusive"]
    assert p.srcs and all(s.startswith("data:image/png;base64,") for s in p.srcs)  # figures embedded
    assert all(h.startswith("#") for h in p.hrefs)  # only in-page links: nothing fetched from the network
    assert not re.search(r"(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text.replace("http://www.w3.org", ""))
    assert p.scripts == 1  # our filter script only: the evidence's <script> was escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "1e-12 ≤ 1e-09" in text and "LP with κ·0.9: 0.03" in text
    assert "lsgan-theory verify --only optimal-critic-hinge" in text


def test_summary_cell_states_the_measured_relation_of_statistic_and_tolerance(tmp_path):
    # a failing check's cell read "0.789 ≤ 0.06593" (the relation was printed, not measured) and a symbolic claim's
    # cells were empty; mutation: restore the fixed "≤" in report_html._terms -> the first assertion fails
    def check(stat, tol, status):
        return {"name": "s", "statistic": stat, "tolerance": tol, "tolerance_basis": "b", "alternative": "alt",
                "alternative_statistic": 1.0, "status": status}
    claims = [
        {"id": "a-fail", "ref": "§0", "statement": "", "status": "fail", "evidence": "", "figures": [], "seconds": 1,
         "checks": [check(0.789, 0.06593, "fail")]},
        {"id": "b-pass", "ref": "§0", "statement": "", "status": "pass", "evidence": "", "figures": [], "seconds": 1,
         "checks": [check(0.01, 1.0, "pass")]},
        {"id": "c-nan", "ref": "§0", "statement": "", "status": "fail", "evidence": "", "figures": [], "seconds": 1,
         "checks": [check(float("nan"), 1.0, "fail")]},
        {"id": "symbolic-x", "ref": "§1", "statement": "", "status": "pass", "evidence": "", "figures": [],
         "seconds": 1, "kind": "symbolic", "checks": []},
    ]
    text = write_html(claims, {"quick": True}, tmp_path / "report.html").read_text()
    rows = {m.group(1): m.group(0) for m in re.finditer(r"<tr data-verdict=.*?href='#claim-([\w-]+)'.*?</tr>", text)}
    assert "0.789 &gt; 0.06593" in rows["a-fail"] or "0.789 > 0.06593" in rows["a-fail"], rows["a-fail"]
    assert "≤" not in rows["a-fail"]
    assert "0.01 ≤ 1" in rows["b-pass"]
    assert "nan vs 1" in rows["c-nan"] and "≤" not in rows["c-nan"], rows["c-nan"]
    assert "exact (symbolic, no statistic)" in rows["symbolic-x"]


def test_write_report_footer_states_the_device_with_version_git_seed_and_quick(tmp_path):
    # issue 21: "environment and provenance (version, git revision, device, seeds, quick/full) in a footer"; the
    # device was missing from claims.py's meta (this test failed before it was added)
    from lsgan_theory.claims import Context, Verdict, write_report
    from lsgan_theory.provenance import device_description

    v = Verdict("symbolic-gan-jsd", "THEORY.md §1", "GAN JSD", "pass", "exact", [], 0.1, {}, kind="symbolic")
    page = write_report([v], Context(out=tmp_path, quick=True, seed=7))
    meta = json.loads((tmp_path / "claims.json").read_text())["meta"]
    assert meta["device"] == device_description() and meta["seed"] == 7 and meta["quick"] is True
    foot = page.read_text().split("<footer>", 1)[1]
    for key in ("version: ", "git: ", "device: ", "seed: 7", "quick: True"):
        assert key in foot, (key, foot[:300])
    assert device_description() in (tmp_path / "report.md").read_text()


def test_device_description_names_cores_and_the_gpu_or_its_absence():
    import torch  # imported first: device_description consults torch only when it is loaded

    from lsgan_theory.provenance import device_description

    text = device_description()
    if torch.cuda.is_available():
        assert torch.cuda.get_device_name(0) in text and "(CUDA)" in text
    else:
        assert text.startswith("CPU only (") and "no GPU" in text
    assert re.search(r"\d+ (CPU )?cores", text)


def test_markdown_subset():
    h = markdown_to_html("para *it* and **b** `c`\n\n- one\n- two\n\n| x | y |\n|---|---|\n| 1 | 2 |\n\n```\n<raw>\n```")
    assert "<p>para <em>it</em> and <strong>b</strong> <code>c</code></p>" in h
    assert "<ul><li>one</li><li>two</li></ul>" in h
    assert "<th>x</th>" in h and "<td>2</td>" in h
    assert "<pre><code>&lt;raw&gt;</code></pre>" in h


def test_code_spans_are_left_alone_and_escaped_pipes_stay_in_their_cell():
    # regressions seen in a real report: `u**u` inside a code span was turned into bold, and `\\|p − q\\|` split a
    # table cell in two
    assert markdown_to_html("`4*u**u*x` and **b**") == "<p><code>4*u**u*x</code> and <strong>b</strong></p>"
    h = markdown_to_html("| ∫\\|p − q\\| | n |\n|---|---|\n| 0.5 | 3 |")
    assert "<th>∫|p − q|</th><th>n</th>" in h and h.count("<td>") == 2


def test_area_from_id():
    assert area_of({"id": "optimal-critic-gan"}) == "ensemble"
    assert area_of({"id": "nonparametric-allocation"}) == "nonparametric"
    assert area_of({"id": "x", "area": "custom"}) == "custom"


def _chromium() -> str | None:
    """Debian's chromium; installed here (the test's own set-up step) when missing and apt-get is usable (root):
    ``apt-get install chromium``, after ``apt-get update`` when the package lists do not know it yet."""
    exe = shutil.which("chromium")
    if exe is None and shutil.which("apt-get") and os.geteuid() == 0:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        install = ["apt-get", "install", "-y", "-q", "chromium"]
        if subprocess.run(install, capture_output=True, timeout=900, env=env).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], capture_output=True, timeout=600, env=env)
            subprocess.run(install, capture_output=True, timeout=900, env=env)
        exe = shutil.which("chromium")
    return exe


class _DevTools:
    """A headless chromium driven over ``--remote-debugging-pipe``: chromium reads commands on its fd 3 and writes
    replies and events on its fd 4, one JSON message per NUL-terminated record."""

    def __init__(self, exe: str, profile: Path, timeout: float = 60.0):
        self.timeout = timeout
        to_chrome_r, to_chrome_w = os.pipe()
        from_chrome_r, from_chrome_w = os.pipe()
        # move chromium's ends above fd 9 so that the redirections below cannot clobber each other
        cr, cw = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10), fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--remote-debugging-pipe", f"--user-data-dir={profile}", "about:blank"]
        self.stderr = open(profile.parent / "chromium.stderr", "wb")
        self.proc = subprocess.Popen(["bash", "-c", f'exec "$0" "$@" 3<&{cr} 4>&{cw} {cr}<&- {cw}>&-', exe, *flags],
                                     pass_fds=(cr, cw), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self.stderr)
        os.close(cr)
        os.close(cw)
        self._w = os.fdopen(to_chrome_w, "wb", buffering=0)
        self._r = os.fdopen(from_chrome_r, "rb", buffering=0)
        self._q: queue.Queue = queue.Queue()
        self._n = 0
        self.events: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        buf = b""
        while chunk := self._r.read(1 << 16):
            buf += chunk
            *msgs, buf = buf.split(b"\0")
            for m in msgs:
                self._q.put(json.loads(m))
        self._q.put(None)

    def _next(self, deadline: float) -> dict:
        try:
            msg = self._q.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            raise TimeoutError(f"chromium did not answer within {self.timeout} s") from None
        if msg is None:
            raise RuntimeError(f"chromium exited (status {self.proc.poll()}); see {self.stderr.name}")
        return msg

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._n += 1
        msg = {"id": self._n, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self._w.write(json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._next(deadline)
            if reply.get("id") == self._n:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def wait_for(self, method: str, session: str) -> dict:
        deadline = time.monotonic() + self.timeout
        while True:
            for e in self.events:
                if e.get("method") == method and e.get("sessionId") == session:
                    return e
            self.events.append(self._next(deadline))

    def open(self, url: str, screenshot: Path | None = None) -> dict:
        """Load ``url`` in a fresh tab (1200×900) and return what the checks need: ``images`` (alt, complete,
        naturalWidth, decoded), ``rows`` (the summary table's claim ids in order), ``visible`` (the verdicts of
        the rows the filters leave visible), ``errors`` (console errors, uncaught exceptions, browser log errors
        of that tab) and ``screenshot`` (PNG bytes, when ``screenshot`` is a path to write them to)."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        sid = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        try:
            for domain in ("Runtime", "Log", "Page"):
                self.send(f"{domain}.enable", session=sid)
            self.send("Emulation.setDeviceMetricsOverride",
                      {"width": 1200, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session=sid)
            self.send("Page.navigate", {"url": url}, session=sid)
            self.wait_for("Page.loadEventFired", sid)
            expr = """(async () => {
              const imgs = Array.from(document.images);
              const decoded = await Promise.all(imgs.map(i => i.decode().then(() => true, () => false)));
              return {images: imgs.map((i, k) => [i.alt, i.complete, i.naturalWidth, decoded[k]]),
                      rows: Array.from(document.querySelectorAll('table.summary tbody tr'))
                              .map(r => r.querySelector('td').textContent),
                      visible: Array.from(document.querySelectorAll('table.summary tbody tr'))
                              .filter(r => getComputedStyle(r).display !== 'none').map(r => r.dataset.verdict),
                      shown: (document.getElementById('shown') || {}).textContent};
            })()"""
            res = self.send("Runtime.evaluate", {"expression": expr, "awaitPromise": True, "returnByValue": True},
                            session=sid)
            if "exceptionDetails" in res:
                raise RuntimeError(f"the checking script failed: {res['exceptionDetails']}")
            out = res["result"]["value"]
            if screenshot is not None:
                data = base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"}, session=sid)["data"])
                screenshot.write_bytes(data)
                out["screenshot"] = data
            out["errors"] = [_error_text(e) for e in self.events if e.get("sessionId") == sid and _is_error(e)]
            return out
        finally:
            self.send("Target.closeTarget", {"targetId": target})
            self.events = [e for e in self.events if e.get("sessionId") != sid]

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()


def _is_error(event: dict) -> bool:
    m, p = event.get("method"), event.get("params", {})
    return (m == "Runtime.exceptionThrown"
            or (m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"))
            or (m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error"))


def _error_text(event: dict) -> str:
    p = event["params"]
    if event["method"] == "Runtime.exceptionThrown":
        d = p["exceptionDetails"]
        return f"exception: {d.get('exception', {}).get('description') or d.get('text')}"
    if event["method"] == "Runtime.consoleAPICalled":
        return "console." + p["type"] + ": " + " ".join(str(a.get("value", a.get("description"))) for a in p["args"])
    return f"log: {p['entry'].get('text')}"


def _page_problems(seen: dict, claim_ids: list[str], n_figures: int) -> list[str]:
    """Everything wrong with a loaded report page: a broken image (not decoded, naturalWidth 0), a figure missing,
    a summary table that is not one row per claim in order, a console error or uncaught exception."""
    problems = [f"broken image {alt!r} (complete={c}, naturalWidth={w}, decoded={d})"
                for alt, c, w, d in seen["images"] if not (c and w > 0 and d)]
    if len(seen["images"]) != n_figures:
        problems.append(f"{len(seen['images'])} images on the page for {n_figures} figures")
    if seen["rows"] != claim_ids:
        problems.append(f"summary rows {seen['rows']} != claims {claim_ids}")
    problems += seen["errors"]
    return problems


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    exe = _chromium()
    if exe is None:
        pytest.skip("Debian's chromium is not installed and cannot be installed here (needs root and apt-get)")
    b = _DevTools(exe, tmp_path_factory.mktemp("chromium") / "profile")
    yield b
    b.close()


# three cheap claims (≈ 2 CPU s together), two of them with figures drawn by lsgan_theory.plots
REAL_CLAIMS = ["symbolic-gls-costs", "symbolic-figure-vanishing-gradient", "symbolic-figure-generator-loss"]


@pytest.fixture(scope="module")
def real_report(tmp_path_factory):
    """A report written by ``lsgan-theory verify`` itself (not a hand-made page), and its claims.json."""
    import contextlib
    import io

    from lsgan_theory.cli import main

    # Issue 27: as a user runs it — a RELATIVE --out from a working directory of their own (before, claims.json stored
    # "report/figures/x.png" and the writer joined it to --out again: `make report` gave a page with no figure).
    cwd = tmp_path_factory.mktemp("cwd")
    here = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
            rc = main(["verify", "--only", *REAL_CLAIMS, "--out", "report", "--quiet"])
    finally:
        os.chdir(here)
    assert rc == 0, err.getvalue()
    out = cwd / "report"
    doc = json.loads((out / "claims.json").read_text())
    figures = [f for c in doc["claims"] for f in c["figures"] if f.lower().endswith((".png", ".svg"))]
    return out / "report.html", [c["id"] for c in doc["claims"]], len(figures)


def test_a_report_written_with_a_relative_out_embeds_every_figure_of_claims_json(real_report):
    # no browser needed: every figure listed in claims.json is an <img> with a data: URI, none is "not found"
    page, ids, n_figures = real_report
    text = page.read_text()
    assert n_figures >= 2 and "figure not found" not in text
    srcs = re.findall(r"""<img [^>]*src=["']([^"']*)["']""", text)
    assert len(srcs) == n_figures and all(s.startswith("data:image/png;base64,") for s in srcs)
    doc = json.loads((page.parent / "claims.json").read_text())
    for f in (f for c in doc["claims"] for f in c["figures"]):
        assert not Path(f).is_absolute() and (page.parent / f).is_file(), f  # stored relative to the report folder


def test_the_real_report_loads_with_every_figure_one_row_per_claim_no_console_error_and_a_screenshot(
        browser, real_report, tmp_path):
    page, ids, n_figures = real_report
    assert ids == REAL_CLAIMS and n_figures >= 2  # the premise: figures to check
    shot = tmp_path / "report.png"
    seen = browser.open(page.as_uri(), screenshot=shot)
    assert _page_problems(seen, ids, n_figures) == [], seen
    assert seen["shown"] == str(len(ids))  # the filter script ran to the end
    width, height = _png_size(shot.read_bytes())
    assert (width, height) == (1200, 900)
    import matplotlib.image

    pixels = matplotlib.image.imread(str(shot))
    assert pixels[..., :3].std() > 0.05, "the screenshot is a blank page"  # text, badges and the table drawn


def test_a_broken_image_is_caught(browser, real_report, tmp_path):
    # negative control: one figure's bytes replaced by bytes that are not an image -> naturalWidth 0 for it only
    page, ids, n_figures = real_report
    text = page.read_text()
    uris = re.findall(r"data:image/png;base64,[A-Za-z0-9+/=]+", text)
    assert len(uris) == n_figures
    bad = tmp_path / "broken.html"
    bad.write_text(text.replace(uris[1], "data:image/png;base64," + base64.b64encode(b"not a png" * 50).decode()))
    problems = _page_problems(browser.open(bad.as_uri()), ids, n_figures)
    assert len(problems) == 1 and problems[0].startswith("broken image"), problems


def test_a_javascript_error_and_a_console_error_are_caught(browser, real_report, tmp_path):
    # negative controls: an uncaught TypeError in a script, and console.error
    page, ids, n_figures = real_report
    text = page.read_text()
    for script, expect in (("document.getElementById('no-such-id').textContent = 1;", "exception: TypeError"),
                           ("console.error('figure failed');", "console.error: figure failed")):
        bad = tmp_path / "js.html"
        bad.write_text(text.replace("</body>", f"<script>{script}</script></body>"))
        problems = _page_problems(browser.open(bad.as_uri()), ids, n_figures)
        assert len(problems) == 1 and problems[0].startswith(expect), problems


def test_a_missing_summary_row_is_caught(browser, real_report, tmp_path):
    # negative control: the summary table loses a claim's row
    page, ids, n_figures = real_report
    text = page.read_text()
    row = re.search(r"<tr data-verdict=[^>]*><td><a href='#claim-symbolic-gls-costs'>.*?</tr>", text).group(0)
    bad = tmp_path / "rows.html"
    bad.write_text(text.replace(row, ""))
    problems = _page_problems(browser.open(bad.as_uri()), ids, n_figures)
    assert len(problems) == 1 and problems[0].startswith("summary rows"), problems


def test_filters_work_in_a_real_browser(browser, tmp_path):
    # Mutation tried: the verdict filter ignored in the script (`true` for the verdict test) -> this test fails.
    page = write_html(_claims(tmp_path), {"version": "0.1.0", "quick": True}, tmp_path / "report.html")
    everything = browser.open(page.as_uri())
    assert everything["visible"] == ["pass", "fail", "inconclusive"] and everything["shown"] == "3"
    assert everything["errors"] == []
    only_fail = browser.open(page.as_uri() + "#verdict=fail")
    assert only_fail["visible"] == ["fail"] and only_fail["shown"] == "1"
    assert browser.open(page.as_uri() + "#area=nonparametric")["visible"] == ["pass"]


def test_a_check_that_states_its_measured_relation_is_shown_in_the_summary(tmp_path):
    # issue 27: a one-sided statistic such as max(0, lower CI end) read "0 ≤ 0" in the summary; a check's `shown`
    # says what was measured.  Negative control: without `shown` the cell is "statistic relation tolerance".
    from lsgan_theory.claims import interval_relation

    assert interval_relation(-0.907, -0.053, 0.0) == "[-0.907, -0.053] < 0"
    assert interval_relation(0.1, 0.4, 0.0) == "[0.1, 0.4] > 0"
    assert interval_relation(-0.1, 0.4, 0.0) == "[-0.1, 0.4] ∋ 0"
    base = {"id": "sample-complexity-x", "ref": "THEORY.md §5", "statement": "s", "status": "pass", "evidence": "",
            "figures": [], "seconds": 1.0, "kind": "statistical"}
    check = {"name": "slope", "statistic": 0.0, "tolerance": 0.0, "tolerance_basis": "b", "alternative": "flat",
             "alternative_statistic": 0.05, "status": "pass"}
    with_shown = dict(base, checks=[dict(check, shown="slope -0.53 [-0.907, -0.053] < 0")])
    without = dict(base, id="sample-complexity-y", checks=[check])
    text = write_html([with_shown, without], {"quick": True}, tmp_path / "report.html").read_text()
    assert "slope -0.53 [-0.907, -0.053] &lt; 0" in text
    assert "0 ≤ 0" in text  # the other row, without `shown`
