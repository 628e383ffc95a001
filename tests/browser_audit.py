"""Audit of built HTML pages in a real browser (Playwright driving Debian's Chromium).

:func:`audit_page` opens one page from disk (no server, as a reader who downloaded the book would)
and returns the list of problems found: console errors and uncaught exceptions, failed requests,
requests to the network on page load, raw TeX left untypeset, images that did not load,
internal links to missing files or anchors. Chapter pages must also show a theorem box and
notebook pages the launch buttons; those expectations are passed in by the caller.
"""

from __future__ import annotations

import os
import re
import shutil
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> str | None:
    """Debian's chromium, or ``$CHROMIUM`` if set."""
    for cand in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                 shutil.which("chromium-browser")):
        if cand and Path(cand).exists():
            return cand
    return None


class _IdCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("id", "name") and v:
                self.ids.add(v)


@lru_cache(maxsize=512)
def _ids_in(path: str) -> frozenset[str]:
    p = _IdCollector()
    p.feed(Path(path).read_text(errors="replace"))
    return frozenset(p.ids)


# Text nodes outside code, scripts and typeset math: where raw TeX must not appear.
_VISIBLE_TEXT_JS = r"""
() => {
  const skip = new Set(['SCRIPT','STYLE','PRE','CODE','TEXTAREA','MJX-CONTAINER','NOSCRIPT']);
  const root = document.querySelector('main') || document.body;
  const out = [];
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) { out.push(node.textContent); return; }
    if (node.nodeType !== Node.ELEMENT_NODE || skip.has(node.tagName)) return;
    if (node.classList && (node.classList.contains('highlight'))) return;
    for (const c of node.childNodes) walk(c);
  };
  walk(root);
  return out.join(' ');
}
"""
_RAW_TEX = re.compile(r"\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|\$\\[A-Za-z]+")

_IMAGES_JS = r"""
async () => {
  const imgs = Array.from(document.querySelectorAll('img'));
  for (const img of imgs) { img.loading = 'eager'; }
  await Promise.all(imgs.map(img => img.decode().catch(() => null)));
  return imgs.map(img => ({src: img.getAttribute('src'), ok: img.complete && img.naturalWidth > 0,
                           w: img.naturalWidth, h: img.naturalHeight}));
}
"""

_MATH_JS = r"""
async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    try { await MathJax.startup.promise; } catch (e) {}
  }
  const math = Array.from(document.querySelectorAll('.math'));
  const untypeset = math.filter(el => !el.querySelector('mjx-container')).length;
  return {math: math.length, untypeset: untypeset,
          typeset: document.querySelectorAll('mjx-container').length};
}
"""


def audit_page(context, path: Path, *, expect_theorem: bool = False,
               expect_launch: bool = False, settle_ms: int = 300) -> list[str]:
    """Open ``path`` in a new page of the Playwright browser ``context``; return its problems."""
    problems: list[str] = []
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and problems.append(f"console error: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"uncaught exception: {e}"))
    page.on("requestfailed",
            lambda r: problems.append(f"request failed: {r.url} ({r.failure})"))

    def on_request(req):
        scheme = urlparse(req.url).scheme
        if scheme not in ("file", "data", "blob", "about"):
            problems.append(f"network request on page load: {req.url}")

    page.on("request", on_request)
    try:
        page.goto(path.resolve().as_uri(), wait_until="load")
        page.wait_for_timeout(settle_ms)
        math = page.evaluate(_MATH_JS)
        if math["untypeset"]:
            problems.append(f"{math['untypeset']} of {math['math']} math elements not typeset")
        text = page.evaluate(_VISIBLE_TEXT_JS)
        for m in _RAW_TEX.finditer(text):
            ctx = text[max(0, m.start() - 30): m.end() + 30].replace("\n", " ")
            problems.append(f"raw TeX in the page text: ...{ctx}...")
            break
        for img in page.evaluate(_IMAGES_JS):
            if not img["ok"]:
                problems.append(f"image did not load: {img['src']}")
        if expect_theorem and page.locator("div.proof.theorem").count() == 0:
            problems.append("no theorem box on a chapter page")
        if expect_launch:
            hrefs = page.eval_on_selector_all("a", "els => els.map(a => a.href)")
            if not any("mybinder.org" in h and "/main?" in h for h in hrefs):
                problems.append("no Binder launch button pointing at branch main")
            if not any("colab.research.google.com" in h for h in hrefs):
                problems.append("no Colab launch button")
            if page.locator(".btn-launch-thebe, button.thebe-launch-button, "
                            "[onclick*='initThebe']").count() == 0:
                problems.append("no Thebe live-code button")
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(a => a.href)")
        problems.extend(_broken_links(path, hrefs))
    finally:
        page.close()
    return problems


def _broken_links(page_path: Path, hrefs: list[str]) -> list[str]:
    problems = []
    for href in set(hrefs):
        u = urlparse(href)
        if u.scheme != "file":
            continue
        target = Path(unquote(u.path))
        if not target.exists():
            problems.append(f"broken internal link: {href}")
            continue
        if u.fragment and target.suffix == ".html" and u.fragment not in _ids_in(str(target)):
            problems.append(f"broken anchor: {href}")
    return problems
