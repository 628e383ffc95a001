"""Sphinx extension for the book (loaded from ``_config.yml``).

* Marks the build as static (``OVERPARAM_STATIC_BUILD=1``) for the kernels that execute the
  notebooks, so :func:`overparam.widgets.explore` draws static figures with a "run it live" note
  and progress bars stay quiet.
* Re-reads (hence re-executes) every notebook on every build, so no page shows outputs computed
  with an older ``lib/``: Sphinx's incremental build would otherwise skip unchanged notebooks.
* Collects the check tables that the verification notebooks write (``overparam.verify``) and
  renders them in the page that uses the ``{verification-summary}`` directive. A verification
  notebook that wrote no record is a build warning (an error under ``-W``).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
from pathlib import Path

from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from .verify import CHECKS_DIR_ENV, render_html
from .widgets import STATIC_ENV

logger = logging.getLogger(__name__)

VERIFY_DOC = re.compile(r"^chapters/(?P<chapter>[^/]+)/verify$")


class verification_summary(nodes.General, nodes.Element):
    """Placeholder replaced by the collected check tables."""


class VerificationSummary(SphinxDirective):
    has_content = False

    def run(self):
        docs = getattr(self.env, "overparam_summary_docs", set())
        docs.add(self.env.docname)
        self.env.overparam_summary_docs = docs
        return [verification_summary()]


def _checks_dir(app) -> Path:
    return Path(app.outdir).parent / "checks"


def _builder_inited(app) -> None:
    folder = _checks_dir(app)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ[CHECKS_DIR_ENV] = str(folder)


def _always_reexecute(app, env, added, changed, removed):
    """Every notebook and every summary page is outdated on every build."""
    notebooks = {d for d in env.found_docs if env.doc2path(d, False).endswith(".ipynb")}
    summaries = getattr(env, "overparam_summary_docs", set()) & env.found_docs
    return sorted((notebooks | summaries) - added - changed)


def _purge(app, env, docname):
    docs = getattr(env, "overparam_summary_docs", set())
    docs.discard(docname)


def _summary_html(app, fromdoc: str) -> str:
    folder = _checks_dir(app)
    verify_docs = sorted(d for d in app.env.found_docs if VERIFY_DOC.match(d))
    parts = []
    totals = {"asserted": 0, "controls": 0, "reported": 0, "bad": 0}
    for doc in verify_docs:
        chapter = VERIFY_DOC.match(doc)["chapter"]
        path = folder / f"{chapter}.json"
        uri = app.builder.get_relative_uri(fromdoc, doc)
        title = app.env.titles[doc].astext() if doc in app.env.titles else chapter
        index = f"chapters/{chapter}/index"
        heading = (app.env.titles[index].astext() if index in app.env.titles else chapter)
        if not path.exists():
            logger.warning(
                f"overparam: {doc} wrote no check record (does it end with checks.report()?)",
                location=fromdoc,
            )
            parts.append(f"<h3>{html.escape(heading)}</h3><p><a href='{uri}'>"
                         f"{html.escape(title)}</a>: <b>no record, this notebook did not report "
                         "its checks.</b></p>")
            continue
        record = json.loads(path.read_text())
        checks = record["checks"]
        for c in checks:
            key = {"pass": "asserted", "fail": "controls", "report": "reported"}[c["expect"]]
            totals[key] += 1
            totals["bad"] += not c["ok"]
        n_ok = sum(c["ok"] for c in checks)
        parts.append(
            f"<h3>{html.escape(heading)}</h3>"
            f"<p>From <a href='{uri}'>{html.escape(title)}</a>: {len(checks)} checks, "
            f"{n_ok} as expected.</p>" + render_html(checks)
        )
    if not verify_docs:
        parts.append("<p>No chapter has a verification notebook in this build yet.</p>")
    head = (
        f"<p class='overparam-summary'><b>This build:</b> {totals['asserted']} asserted checks, "
        f"{totals['controls']} negative controls (asserted to fail), {totals['reported']} "
        f"reported measurements; <b>{totals['bad']} went the wrong way</b>.</p>"
    )
    return head + "".join(parts)


def _doctree_resolved(app, doctree, docname) -> None:
    for node in list(doctree.findall(verification_summary)):
        if app.builder.format == "html":
            node.replace_self(nodes.raw("", _summary_html(app, docname), format="html"))
        else:
            node.replace_self(nodes.paragraph(text="See the HTML book for the check tables."))


def _config_inited(app, config) -> None:
    config.html_static_path.append(str(Path(__file__).parent / "_static"))
    # The book theme leaves pydata-sphinx-theme's template variable `default_mode` empty, which
    # its JavaScript reports as a console error ("Got invalid theme mode"). Merge a valid mode
    # into the template context (html_theme_options, where Jupyter Book puts the launch buttons,
    # stays untouched). Readers can still switch to dark mode.
    context = dict(config.html_context or {})
    context.setdefault("default_mode", "light")
    config.html_context = context


def _dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    """Drop repeated inline scripts from a page.

    sphinx-thebe registers its configuration script while documents are read; Sphinx 7.4 then
    re-adds registry scripts before writing, and an inline script registered with filename None
    does not compare equal to its re-added copy (filename ''). The page would declare
    ``const THEBE_JS_URL`` twice, a JavaScript error on every page.
    """
    seen, kept = set(), []
    for js in context.get("script_files", []):
        attrs = getattr(js, "attributes", {}) or {}
        key = (str(getattr(js, "filename", js) or ""), tuple(sorted(map(str, attrs.items()))))
        if key not in seen:
            seen.add(key)
            kept.append(js)
    context["script_files"] = kept


def setup(app):
    os.environ[STATIC_ENV] = "1"
    os.environ["OVERPARAM_QUIET"] = "1"
    app.add_node(verification_summary)
    app.add_directive("verification-summary", VerificationSummary)
    app.connect("builder-inited", _builder_inited)
    app.connect("env-get-outdated", _always_reexecute)
    app.connect("env-purge-doc", _purge)
    app.connect("doctree-resolved", _doctree_resolved)
    app.connect("html-page-context", _dedupe_scripts)
    app.connect("config-inited", _config_inited)
    app.add_css_file("overparam.css")
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True,
            "env_version": 1}
