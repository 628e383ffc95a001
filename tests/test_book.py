"""The book: built with warnings as errors, then every page opened in a real browser.

In CI (``CI`` or ``OVERPARAM_REQUIRE_BROWSER`` set) a missing Chromium is a failure; locally the
browser tests are skipped with a message saying how to install it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from browser_audit import CHROMIUM_ARGS, audit_page, chromium_path
from conftest import ROOT

pytestmark = pytest.mark.slow

HTML = ROOT / "_build" / "html"
BUILD_LOG = ROOT / "_build" / "build.log"
IN_CI = any(os.environ.get(v) for v in ("CI", "OVERPARAM_REQUIRE_BROWSER"))


@pytest.fixture(scope="session")
def built_book():
    """Build the whole book once (every notebook executed, -W); return the HTML folder."""
    BUILD_LOG.parent.mkdir(exist_ok=True)
    jb = Path(sys.executable).with_name("jupyter-book")
    proc = subprocess.run([str(jb), "build", str(ROOT), "-W", "--keep-going"], cwd=ROOT,
                          capture_output=True, text=True)
    BUILD_LOG.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stdout + proc.stderr).splitlines()
                 if "WARNING" in ln or "ERROR" in ln or "Error" in ln]
        pytest.fail("the book build failed (warnings are errors); see _build/build.log:\n"
                    + "\n".join(lines[-30:]))
    return HTML


def test_book_builds_with_warnings_as_errors(built_book):
    assert (built_book / "intro.html").exists()
    assert (built_book / "_static" / "mathjax" / "tex-chtml.js").exists(), "MathJax not bundled"


def _pages(html: Path) -> list[Path]:
    skip = {"_static", "_sources", "_images", "_sphinx_design_static", "jupyter_execute"}
    return sorted(p for p in html.rglob("*.html") if not skip & set(p.relative_to(html).parts))


def test_appendix_lists_every_verification_notebook(built_book):
    checks_dir = ROOT / "_build" / "checks"
    verify_nbs = sorted((ROOT / "chapters").glob("*/verify.ipynb"))
    records = {p.stem: json.loads(p.read_text()) for p in checks_dir.glob("*.json")}
    assert sorted(records) == sorted(p.parent.name for p in verify_nbs)
    page = (built_book / "appendix" / "verification.html").read_text()
    for rec in records.values():
        assert rec["checks"], f"{rec['chapter']} recorded no checks"
        assert all(c["ok"] for c in rec["checks"]), f"{rec['chapter']} has a failing check"
        for c in rec["checks"]:
            assert c["name"] in page


@pytest.fixture(scope="session")
def browser():
    exe = chromium_path()
    if exe is None:
        msg = ("Chromium not found: install Debian's chromium (apt-get install chromium) "
               "or set CHROMIUM=/path/to/chromium")
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture()
def context(browser):
    ctx = browser.new_context(viewport={"width": 1300, "height": 900}, offline=False)
    yield ctx
    ctx.close()


def test_every_page_renders_offline(built_book, context):
    pages = _pages(built_book)
    assert len(pages) >= 3
    report = {}
    for page in pages:
        rel = page.relative_to(built_book)
        parts = rel.parts
        is_chapter_index = len(parts) == 3 and parts[0] == "chapters" and parts[2] == "index.html"
        is_notebook = (ROOT / rel).with_suffix(".ipynb").exists()
        problems = audit_page(context, page, expect_theorem=is_chapter_index,
                              expect_launch=is_notebook)
        if problems:
            report[str(rel)] = problems
    assert not report, json.dumps(report, indent=1, ensure_ascii=False)


# ----------------------------------------------------------------- the audit bites
BAD_PAGES = {
    "broken_image.html": ("<img src='missing.png'>", "image did not load"),
    "raw_math.html": ("<p>Energy $$E = mc^2$$ stays raw</p>", "raw TeX"),
    "console.html": ("<script>console.error('boom')</script>", "console error"),
    "exception.html": ("<script>undefinedFunction()</script>", "uncaught exception"),
    "dead_link.html": ("<a href='nowhere.html'>x</a>", "broken internal link"),
    "dead_anchor.html": ("<a href='good.html#nope'>x</a>", "broken anchor"),
    "network.html": ("<script src='https://cdn.example.invalid/x.js'></script>",
                     "network request"),
}


def test_audit_catches_broken_pages(tmp_path, context):
    from PIL import Image

    Image.new("RGB", (4, 3), "white").save(tmp_path / "ok.png")
    (tmp_path / "good.html").write_text(
        "<html><body><main><p id='here'>Fine $5 text</p><img src='ok.png'>"
        "<a href='good.html#here'>self</a></main></body></html>")
    assert audit_page(context, tmp_path / "good.html") == []
    for name, (body, expected) in BAD_PAGES.items():
        (tmp_path / name).write_text(f"<html><body><main>{body}</main></body></html>")
        problems = audit_page(context, tmp_path / name)
        assert any(expected in p for p in problems), (name, problems)
    problems = audit_page(context, tmp_path / "good.html", expect_theorem=True,
                          expect_launch=True)
    assert any("theorem" in p for p in problems) and any("Binder" in p for p in problems)
