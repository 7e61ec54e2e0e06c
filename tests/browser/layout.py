"""The report's layout in a real browser (issue 17): Debian's Chromium,
headless, driven through the DevTools protocol.

Each report given is opened at 1280, 1440 and 1920 px wide and, with print
media emulated, at the width of an A4 page's printable area. In every view
the test measures the boxes of the page's tables, charts and headline cards
as they are drawn (a box inside a scrolling container is clipped to it, as
the reader sees it) and fails when
  - the page scrolls sideways (its content is wider than the window),
  - a box reaches past the right edge of the page, or
  - two boxes intersect (neither inside the other), or
  - a box's content is wider than the box and not scrolled (it spills
    over its neighbour);
and when a chart's axis labels or legend are drawn smaller than the
smallest table text of the same view, or a chart has nothing drawn in it.

A detector that sees nothing proves nothing: a page built to overlap is
checked first and must fail on each count.

Screenshots of the first screen at each width, and the A4 PDF, are kept in
OUT (CI artifacts).

Usage: python layout.py OUT REPORT.html [REPORT.html ...]
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import websocket

WIDTHS = [1280, 1440, 1920]
# A4 at 96 px per inch less the report's print margins (10 mm each side).
A4_WIDTH = round((210 - 20) / 25.4 * 96)

MEASURE = r"""
(() => {
  const vw = document.documentElement.clientWidth;
  const sel = 'table, svg.chart, .kpi';
  // What is drawn: not inside a closed <details> or otherwise hidden.
  const all = [...document.querySelectorAll(sel)].filter((e) => e.checkVisibility());
  // The box as drawn: clipped by every ancestor that scrolls or hides.
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    let [x1, y1, x2, y2] = [r.left, r.top, r.right, r.bottom];
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const s = getComputedStyle(a), q = a.getBoundingClientRect();
      if (s.overflowX !== 'visible') { x1 = Math.max(x1, q.left); x2 = Math.min(x2, q.right); }
      if (s.overflowY !== 'visible') { y1 = Math.max(y1, q.top); y2 = Math.min(y2, q.bottom); }
    }
    return [x1 + scrollX, y1 + scrollY, x2 + scrollX, y2 + scrollY];
  };
  const name = (el) => {
    const sec = el.closest('section');
    let h = null;
    for (let p = el; p && !h; p = p.previousElementSibling || p.parentElement) {
      if (/^H[23]$/.test(p.tagName)) h = p;
      else { const q = p.querySelector && p.querySelector('h3'); if (q && q.compareDocumentPosition(el) & 4) h = q; }
      if (p === sec) break;
    }
    return `${sec ? '#' + sec.id : ''} ${el.tagName.toLowerCase()}${h ? ' "' + h.textContent.trim().slice(0, 40) + '"' : ''}`;
  };
  const boxes = all.map((el) => ({ el, r: visible(el), n: name(el) }))
    .filter((b) => b.r[2] - b.r[0] > 0.5 && b.r[3] - b.r[1] > 0.5);
  const overlaps = [], outside = [];
  for (const b of boxes) {
    if (b.r[2] > vw + 0.5 || b.r[0] < -0.5) outside.push(`${b.n}: ${b.r[0].toFixed(0)}..${b.r[2].toFixed(0)} of ${vw}`);
  }
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j];
      if (a.el.contains(b.el) || b.el.contains(a.el)) continue;
      const w = Math.min(a.r[2], b.r[2]) - Math.max(a.r[0], b.r[0]);
      const h = Math.min(a.r[3], b.r[3]) - Math.max(a.r[1], b.r[1]);
      if (w > 0.5 && h > 0.5) overlaps.push(`${a.n} x ${b.n}: ${w.toFixed(0)} x ${h.toFixed(0)} px`);
    }
  }
  // Content wider than its box and not scrolled: it spills over whatever
  // is beside it (a headline card's change line, say).
  const spills = [];
  for (const b of boxes) {
    const st = getComputedStyle(b.el);
    if (st.overflowX === 'visible' && b.el.scrollWidth > b.el.clientWidth + 1 && b.el.clientWidth > 0)
      spills.push(`${b.n}: ${b.el.scrollWidth} px of content in ${b.el.clientWidth} px`);
  }
  // Text sizes as drawn: a chart's text scales with its viewBox.
  const px = (el) => parseFloat(getComputedStyle(el).fontSize) * (el.getScreenCTM ? el.getScreenCTM().a : 1);
  const cells = [...document.querySelectorAll('td, th')].filter((e) => e.checkVisibility() && e.getBoundingClientRect().width > 0);
  const tableText = Math.min(...cells.map((e) => parseFloat(getComputedStyle(e).fontSize)));
  const small = [], empty = [];
  for (const svg of document.querySelectorAll('svg.chart')) {
    if (!svg.checkVisibility() || svg.getBoundingClientRect().width === 0) continue;
    const texts = [...svg.querySelectorAll('text')];
    const sizes = texts.map(px);
    const least = Math.min(...sizes);
    if (texts.length && least < tableText - 0.25) small.push(`${name(svg)}: ${least.toFixed(1)} px < ${tableText} px`);
    const marks = svg.querySelectorAll('path, polyline, rect, circle, line').length;
    if (marks < 3 && !texts.length) empty.push(name(svg));
  }
  return JSON.stringify({
    width: vw, scrollWidth: document.documentElement.scrollWidth, boxes: boxes.length,
    overlaps, outside, spills, small, empty, tableText,
  });
})()
"""


class Browser:
    def __init__(self, chromium):
        self.profile = tempfile.mkdtemp(prefix="arrears-layout-")
        self.proc = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", "--remote-debugging-port=0", f"--user-data-dir={self.profile}",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(self.profile, "DevToolsActivePort")
        for _ in range(300):
            if port_file.exists() and port_file.read_text().count("\n") >= 1:
                break
            time.sleep(0.1)
        port = int(port_file.read_text().splitlines()[0])
        for _ in range(100):
            try:
                pages = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
                page = next(p for p in pages if p["type"] == "page")
                break
            except Exception:
                time.sleep(0.1)
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)
        self.next = 0
        self.call("Page.enable")
        self.call("Runtime.enable")

    def call(self, method, **params):
        self.next += 1
        self.ws.send(json.dumps({"id": self.next, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg["result"]

    def open(self, url):
        self.call("Page.navigate", url=url)
        for _ in range(600):
            state = self.call("Runtime.evaluate", expression="document.readyState", returnByValue=True)
            if state["result"].get("value") == "complete":
                return
            time.sleep(0.05)
        raise RuntimeError(f"{url} did not load")

    def view(self, width, media):
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1, mobile=False)
        self.call("Emulation.setEmulatedMedia", media=media)
        # Layout settles after a resize.
        self.call("Runtime.evaluate", expression="new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))",
                  awaitPromise=True)

    def measure(self):
        r = self.call("Runtime.evaluate", expression=MEASURE, returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError(r["exceptionDetails"])
        return json.loads(r["result"]["value"])

    def close(self):
        try:
            self.ws.close()
        finally:
            self.proc.kill()
            self.proc.wait()
            shutil.rmtree(self.profile, ignore_errors=True)


def problems(m):
    out = []
    if m["scrollWidth"] > m["width"] + 1:
        out.append(f"the page scrolls sideways: {m['scrollWidth']} px of content in {m['width']} px")
    out += [f"past the page's edge: {x}" for x in m["outside"]]
    out += [f"overlap: {x}" for x in m["overlaps"]]
    out += [f"spills out of its box: {x}" for x in m["spills"]]
    out += [f"chart text too small: {x}" for x in m["small"]]
    out += [f"empty chart: {x}" for x in m["empty"]]
    return out


SELF_TEST = """<!DOCTYPE html><html><head><style>
body { margin: 0; font-size: 14px } td { font-size: 12px }
.a { position: absolute; left: 0; top: 0; width: 300px } .b { position: absolute; left: 100px; top: 0; width: 300px }
.wide { width: 3000px } .kpi { width: 50px; white-space: nowrap }
</style></head><body>
<table class="a"><tr><td>left</td></tr></table><table class="b"><tr><td>right</td></tr></table>
<table class="wide"><tr><td>wide</td></tr></table>
<div class="kpi">a card whose text does not fit</div>
<svg class="chart" viewBox="0 0 1000 100" width="200"><text x="0" y="50" font-size="10">tiny</text></svg>
</body></html>"""


def main():
    out = Path(sys.argv[1]).resolve()
    reports = [Path(p).resolve() for p in sys.argv[2:]]
    out.mkdir(parents=True, exist_ok=True)
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("layout: no Chromium found (set CHROMIUM or install Debian's chromium)", file=sys.stderr)
        return 2
    b = Browser(chromium)
    failed = []
    try:
        probe = out / "self-test.html"
        probe.write_text(SELF_TEST)
        b.open(probe.as_uri())
        b.view(1280, "screen")
        seen = problems(b.measure())
        kinds = {p.split(":")[0] for p in seen}
        want = {"the page scrolls sideways", "past the page's edge", "overlap", "spills out of its box",
                "chart text too small"}
        if not want <= kinds:
            print(f"layout: the detector misses {sorted(want - kinds)} on a page built to fail: {seen}")
            return 1
        print(f"layout: the detector sees all {len(want)} kinds of defect on a page built to fail")
        for report in reports:
            tag = report.parent.parent.parent.parent.name
            b.open(report.as_uri())
            for width, media in [(w, "screen") for w in WIDTHS] + [(A4_WIDTH, "print")]:
                b.view(width, media)
                m = b.measure()
                found = problems(m)
                label = f"{tag} {media} {width}px"
                print(f"layout: {label}: {m['boxes']} boxes, table text {m['tableText']} px, "
                      f"{'ok' if not found else str(len(found)) + ' problems'}")
                for p in found:
                    print(f"   {p}")
                failed += [f"{label}: {p}" for p in found]
                if media == "screen":
                    shot = b.call("Page.captureScreenshot", format="png")
                    (out / f"{tag}-{width}.png").write_bytes(base64.b64decode(shot["data"]))
            b.view(A4_WIDTH, "print")
            pdf = b.call("Page.printToPDF", paperWidth=8.27, paperHeight=11.69, preferCSSPageSize=True)
            (out / f"{tag}-a4.pdf").write_bytes(base64.b64decode(pdf["data"]))
    finally:
        b.close()
    if failed:
        print(f"layout: {len(failed)} problems")
        return 1
    print(f"layout: {len(reports)} reports, {len(WIDTHS) + 1} views each: no sideways scroll, nothing past the edge, no overlaps, readable charts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
