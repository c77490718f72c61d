"""index.html opened in a real headless Chromium: the matrix renders, a click opens a cell's
divergences, the target and feature filters hide what they should, and a #cell= link opens
its cell on load.

The report comes from a real run of two properties on a planted-bug copy of the
reference model (fast and deterministic), the reference model itself, and a target that
cannot be reached, gated against a baseline that accepts one of the divergences.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import html.parser
import json
import os
import select
import shutil
import subprocess
import textwrap
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from rolecall.ledger import Baseline
from rolecall.reports import write_report

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1280,900"]
PROPERTIES = ["assume_role_trust_and_identity", "session_duration_and_expiry"]  # quick to shrink
PLANTED = "html_targets:factory"

TARGETS = (Path(__file__).parent / "renamed_target.py").read_text() + textwrap.dedent('''
    from rolecall.targets.base import Target, TargetUnavailable


    class Down(Target):
        name = "html_targets:down"

        def open(self):
            raise TargetUnavailable("down: cannot reach http://127.0.0.1:9")

        def admin(self, account_id):
            raise TargetUnavailable("down")

        def call(self, credentials, service, action, params):
            raise TargetUnavailable("down")


    def down():
        return Down()
''')


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(["apt-get", "update"], capture_output=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "chromium"], capture_output=True, timeout=1200,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        found = shutil.which("chromium")
        if found:
            return found
    pytest.skip("chromium is not installed and could not be installed with apt-get")


@pytest.fixture(scope="module")
def chromium() -> str:
    return chromium_binary()


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    import sys

    from rolecall.conformance import select as select_properties
    from rolecall.engine import Profile
    from rolecall.session import run

    work = tmp_path_factory.mktemp("html")
    (work / "html_targets.py").write_text(TARGETS)
    sys.path.insert(0, str(work))
    try:
        result = run(select_properties(PROPERTIES), [PLANTED, "reference", "html_targets:down"],
                     profile=Profile("test", max_examples=10, rounds=1, seed=0))
    finally:
        sys.path.remove(str(work))
    planted = [c for c in result.cells if c.target == PLANTED and c.divergences]
    assert planted, "the planted bug must show"
    # accept one whose reference outcome carries a decision trace (policy evaluation decided it)
    accepted = next(f.divergence for c in planted for f in c.divergences.values() if f.divergence.expected.trace)
    from rolecall.reports.records import build

    findings = build(result)["findings"]
    baseline = Baseline(work / "baselines")
    # accept the finding the divergence is a symptom of: the divergence is then known
    baseline.update([f for f in findings if f["target"] == accepted.target and accepted.id in f["divergences"]],
                    reason="accepted", day=dt.date.today())
    verdicts = Baseline.load(work / "baselines").judge(findings)
    path = write_report(result, work / "reports", verdicts=verdicts)
    return {"path": path, "result": result, "accepted": accepted}


# ----------------------------------------------------------------------------- a DOM reader

class Dom(html.parser.HTMLParser):
    """The elements of a page, each with its attributes and text, for assertions."""

    def __init__(self, text: str):
        super().__init__()
        self.elements: list[dict] = []
        self._open: list[dict] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        el = {"tag": tag, "attrs": dict(attrs), "text": "", "parents": [e["attrs"].get("id") for e in self._open]}
        self.elements.append(el)
        if tag not in ("br", "input", "meta", "link", "img", "hr"):
            self._open.append(el)

    def handle_endtag(self, tag):
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i]["tag"] == tag:
                del self._open[i:]
                break

    def handle_data(self, data):
        for el in self._open:
            el["text"] += data

    def find(self, tag=None, **attrs) -> list[dict]:
        return [e for e in self.elements if (tag is None or e["tag"] == tag)
                and all(e["attrs"].get(k.replace("_", "-")) == v for k, v in attrs.items())]


def dump_dom(chromium: str, url: str, profile: Path) -> Dom:
    p = subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    return Dom(p.stdout)


def test_matrix_renders_and_a_cell_link_opens_its_divergences(chromium, report, tmp_path):
    result, path = report["result"], report["path"]
    cell = next(c for c in result.cells if c.target == PLANTED and c.divergences)
    url = (path / "index.html").as_uri() + f"#cell={quote(cell.property)}/{quote(cell.target, safe='')}"
    dom = dump_dom(chromium, url, tmp_path / "profile")
    assert dom.find("body", data_ready="true"), "the viewer script ran"

    cells = {(e["attrs"]["data-property"], e["attrs"]["data-target"]): e
             for e in dom.find("td") if "cell" in e["attrs"].get("class", "") and "data-property" in e["attrs"]}
    expected = {(c.property, c.target) for c in result.cells}
    assert set(cells) == expected | {(p, "html_targets:down") for p, _ in expected}
    for c in result.cells:
        td = cells[(c.property, c.target)]
        assert td["attrs"]["data-status"] in ({"agree"} if c.verdict == "agree" else {"new", "known", "unsupported", "not tested"})
        if c.target == "reference":
            assert td["attrs"]["data-status"] in ("agree", "unsupported")
    for (prop, target), td in cells.items():
        if target == "html_targets:down":
            assert td["attrs"]["data-status"] == "error"
    groups = [e["attrs"]["data-behaviour"] for e in dom.find("tbody") if "matrix" in e["parents"]]
    assert groups == list(dict.fromkeys(c.behaviour for c in result.cells))

    (details,) = dom.find("section", id="details")
    assert "hidden" not in details["attrs"]
    assert details["attrs"]["data-property"] == cell.property and details["attrs"]["data-target"] == cell.target
    articles = [e for e in dom.find("article") if "divergence" in e["attrs"].get("class", "")]
    assert sorted(a["attrs"]["data-id"] for a in articles) == sorted(cell.divergences)
    assert "selected" in cells[(cell.property, cell.target)]["attrs"]["class"]


def test_divergence_details_show_scenario_repro_trace_and_aws_source(chromium, report, tmp_path):
    result, path, accepted = report["result"], report["path"], report["accepted"]
    url = (path / "index.html").as_uri() + f"#div={accepted.id}"
    dom = dump_dom(chromium, url, tmp_path / "profile")
    art_id = f"div-{accepted.target}-{accepted.id}"
    (article,) = dom.find("article", id=art_id)
    inside = [e for e in dom.elements if art_id in e["parents"]]
    badge = next(e for e in inside if "badge" in e["attrs"].get("class", ""))
    assert badge["text"] == "known"
    scenario = next(e for e in inside if e["tag"] == "pre" and "scenario" in e["attrs"].get("class", ""))
    assert json.loads(scenario["text"]) == accepted.scenario.to_dict()
    repro = next(e for e in inside if e["tag"] == "pre" and "repro" in e["attrs"].get("class", ""))
    assert repro["text"].startswith("#!/usr/bin/env python3") and accepted.id in repro["text"]
    rule = next(e for e in inside if e["tag"] == "li" and "rule" in e["attrs"].get("class", ""))
    last = accepted.expected.trace[-1]
    assert f"rule: {last['rule']}" in rule["text"]
    assert any(e["tag"] == "a" and e["attrs"].get("href") == last["source"] for e in inside)
    trace_items = [e for e in inside if e["tag"] == "li"]
    assert len(trace_items) == len(accepted.expected.trace)
    cov_rows = dom.find("tr")
    reasons = {e["attrs"]["data-reason"] for e in cov_rows if "data-reason" in e["attrs"]}
    assert reasons == {r for c in result.cells for r in c.coverage}


# ----------------------------------------------------------------------------- clicking, over CDP

class Browser:
    """Headless Chromium driven over --remote-debugging-pipe: CDP messages are JSON, NUL-ended,
    written to the browser's fd 3 and read from its fd 4."""

    def __init__(self, chromium: str, profile: Path):
        to_r, to_w = os.pipe()
        from_r, from_w = os.pipe()
        # the browser's ends, moved above 9 so placing them on 3 and 4 cannot overwrite one another
        child_r, child_w = fcntl.fcntl(to_r, fcntl.F_DUPFD_CLOEXEC, 10), fcntl.fcntl(from_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_r)
        os.close(from_w)

        def place_pipes():  # in the child: os.dup2 makes 3 and 4 inheritable, everything else stays closed
            os.dup2(child_r, 3)
            os.dup2(child_w, 4)

        self.proc = subprocess.Popen([chromium, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe",
                                      "about:blank"], preexec_fn=place_pipes, close_fds=False,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(child_r)
        os.close(child_w)
        self.w, self.r = to_w, from_r
        self.buf, self.next_id, self.events = b"", 0, []
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.send("Page.enable", session=self.session)

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self.buf:
            ready, _, _ = select.select([self.r], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self.r, 1 << 16)
            if not chunk:
                raise EOFError("chromium closed the pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + 60
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def wait_event(self, method: str) -> dict:
        deadline = time.monotonic() + 60
        while True:
            for i, e in enumerate(self.events):
                if e.get("method") == method:
                    return self.events.pop(i)
            self.events.append(self._read(deadline))

    def goto(self, url: str) -> None:
        self.events.clear()
        self.send("Page.navigate", {"url": url}, self.session)
        self.wait_event("Page.loadEventFired")

    def js(self, expression: str):
        res = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, self.session)
        if "exceptionDetails" in res:
            raise RuntimeError(f"{expression}: {res['exceptionDetails']}")
        return res["result"].get("value")

    def until(self, expression: str):
        for _ in range(200):  # the page updates on the next tick after an event; poll briefly
            value = self.js(expression)
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"never true: {expression}")

    def click(self, selector: str) -> None:
        """A real mouse click at the centre of the element."""
        x, y = self.js(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); "
                       f"e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect(); "
                       f"return [r.x + r.width / 2, r.y + r.height / 2]; }})()")
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1},
                      self.session)

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (OSError, EOFError, TimeoutError, RuntimeError):
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.w)
        os.close(self.r)


@pytest.fixture
def browser(chromium, tmp_path):
    b = Browser(chromium, tmp_path / "profile")
    yield b
    b.close()


def _sel(prop: str, target: str) -> str:
    return f'td.cell[data-property="{prop}"][data-target="{target}"]'


def test_clicking_a_cell_opens_its_divergences(browser, report):
    result, path = report["result"], report["path"]
    browser.goto((path / "index.html").as_uri())
    assert browser.until("document.body.dataset.ready === 'true'")
    assert browser.js("document.getElementById('details').hidden") is True
    cell = next(c for c in result.cells if c.target == PLANTED and c.divergences)

    browser.click(_sel(cell.property, cell.target))
    browser.until("!document.getElementById('details').hidden")
    shown = browser.js("[...document.querySelectorAll('#details article.divergence')].map(a => a.dataset.id)")
    assert sorted(shown) == sorted(cell.divergences)
    assert browser.js("decodeURIComponent(location.hash)") == f"#cell={cell.property}/{cell.target}"
    assert browser.js(f"document.querySelector('{_sel(cell.property, cell.target)}').classList.contains('selected')")

    agree = next((c for c in result.cells if c.target == "reference" and c.verdict == "agree"), None)
    if agree is not None:
        browser.click(_sel(agree.property, agree.target))
        browser.until(f"document.getElementById('details').dataset.target === 'reference'")
        assert browser.js("document.querySelectorAll('#details article.divergence').length") == 0
        assert "No divergence" in browser.js("document.getElementById('details').textContent")


def test_filters_hide_targets_and_features(browser, report):
    result, path = report["result"], report["path"]
    browser.goto((path / "index.html").as_uri())
    browser.until("document.body.dataset.ready === 'true'")
    visible = ("[...document.querySelectorAll('#matrix td.cell')].filter(td => td.offsetParent !== null)"
               ".map(td => td.dataset.target)")
    assert set(browser.js(visible)) == {PLANTED, "reference", "html_targets:down"}

    browser.click('#target-filter input[data-target="reference"]')
    browser.until(f"!({visible}).includes('reference')")
    assert set(browser.js(visible)) == {PLANTED, "html_targets:down"}
    assert browser.js("getComputedStyle(document.querySelector('#matrix th[data-target=\"reference\"]')).display") \
        == "none"

    from rolecall.conformance import select as select_properties

    features = {p.name: p.feature for p in select_properties(PROPERTIES)}
    wanted = features[PROPERTIES[0]]
    browser.js(f"(() => {{ const s = document.getElementById('feature-filter'); s.value = {json.dumps(wanted)}; "
               f"s.dispatchEvent(new Event('change')); }})()")
    rows = browser.js("[...document.querySelectorAll('#matrix tr[data-property]')]"
                      ".filter(r => r.offsetParent !== null).map(r => r.dataset.property)")
    assert set(rows) == {p for p, f in features.items() if f == wanted}
    hidden_groups = browser.js("[...document.querySelectorAll('#matrix tbody')].filter(b => b.offsetParent === null)"
                               ".map(b => b.dataset.behaviour)")
    behaviours = {c.property: c.behaviour for c in result.cells}
    assert set(hidden_groups) == {behaviours[p] for p in PROPERTIES} - {behaviours[p] for p in rows}


def test_the_page_opens_on_findings_before_the_matrix(chromium, report, tmp_path):
    """Findings first: one row per behaviour, a column per target with findings, the gate's word in
    the cell (the accepted finding is known), each linking to its upstream issue draft."""
    path = report["path"]
    findings = json.loads((path / "findings.json").read_text())
    dom = dump_dom(chromium, (path / "index.html").as_uri(), tmp_path / "profile")
    tables = [e["attrs"].get("id") for e in dom.find("table")]
    assert tables.index("findings-table") < tables.index("matrix")
    rows = [e for e in dom.find("tr") if "data-finding" in e["attrs"]]
    assert sorted(r["attrs"]["data-finding"] for r in rows) == sorted({f["id"] for f in findings})
    accepted = next(f for f in findings if report["accepted"].id in f["divergences"])
    row = next(r for r in rows if r["attrs"]["data-finding"] == accepted["id"])
    assert accepted["behaviour"] in row["text"] and "known" in row["text"]
    links = [a["attrs"]["href"] for a in dom.find("a") if a["attrs"].get("href", "").endswith("/issue.md")]
    assert f"{accepted['folder']}/issue.md" in links and (path / accepted["folder"] / "issue.md").exists()
