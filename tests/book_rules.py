"""Rules every chapter and notebook must follow, as functions returning lists of problems.

The hygiene tests apply them to the real book, and to small broken fixtures to show they bite.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

PROOF_KINDS = ("theorem", "proposition", "lemma", "corollary")
_DIRECTIVE = re.compile(r"^(`{3,}|:{3,})\{prf:(?P<kind>\w+)\}(?P<title>[^\n]*)$", re.M)
_NUMBERED_SOURCE = re.compile(r"(Theorem|Lemma|Proposition|Corollary|Definition|Condition)s?\s+"
                              r"[\w.]+")


def load_notebook(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def code_cells(nb: dict) -> list[dict]:
    return [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]


def source(cell: dict) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def output_problems(nb: dict) -> list[str]:
    """Code cells that carry outputs or execution counts (notebooks are committed stripped)."""
    bad = [i for i, c in enumerate(code_cells(nb)) if c.get("outputs") or c.get("execution_count")]
    return [f"code cell {i} has outputs or an execution count" for i in bad]


def toc_files(toc_path: Path) -> set[str]:
    """Every file named in a Jupyter Book ``_toc.yml`` (without extension)."""
    toc = yaml.safe_load(Path(toc_path).read_text())
    found: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            for key in ("root", "file"):
                if key in node:
                    found.add(str(Path(node[key]).with_suffix("")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return found


def unlisted_notebooks(root: Path, toc_path: Path) -> list[str]:
    """Notebooks under ``chapters/`` that the table of contents does not list."""
    listed = toc_files(toc_path)
    nbs = sorted(p.relative_to(root) for p in (root / "chapters").rglob("*.ipynb")
                 if ".ipynb_checkpoints" not in p.parts)
    return [str(p) for p in nbs if str(p.with_suffix("")) not in listed]


def missing_toc_files(root: Path, toc_path: Path) -> list[str]:
    """Entries of the table of contents with no file behind them."""
    return [f for f in sorted(toc_files(toc_path))
            if not any((root / f).with_suffix(s).exists() for s in (".md", ".ipynb"))]


def theorem_box_problems(markdown: str) -> list[str]:
    """A chapter page needs ≥ 1 theorem box, and every theorem-like box names its source."""
    problems = []
    boxes = [(m["kind"], m["title"].strip()) for m in _DIRECTIVE.finditer(markdown)]
    if not any(kind == "theorem" for kind, _ in boxes):
        problems.append("no {prf:theorem} box on the chapter page")
    for kind, title in boxes:
        if kind not in PROOF_KINDS:
            continue
        if "{cite" not in title:
            problems.append(f"{kind} box '{title}' does not cite its source")
        elif not _NUMBERED_SOURCE.search(title):
            problems.append(f"{kind} box '{title}' does not name the theorem/lemma number")
    return problems


def report_problems(nb: dict) -> list[str]:
    """A verification notebook must end with the check table (``checks.report()``)."""
    cells = [source(c).strip() for c in code_cells(nb) if source(c).strip()]
    if not cells:
        return ["the notebook has no code"]
    last = cells[-1].splitlines()[-1].strip()
    if not re.fullmatch(r"\w+\.report\(\)", last):
        return [f"the last code line is {last!r}, not `checks.report()`"]
    return []


def colab_cell_problems(nb: dict, repo_url: str) -> list[str]:
    """The first code cell installs the library on Colab from the book's repository."""
    cells = code_cells(nb)
    if not cells:
        return ["the notebook has no code"]
    first = source(cells[0])
    problems = []
    if "google.colab" not in first or "pip install" not in first:
        problems.append("the first code cell is not the Colab install cell")
    if f"git+{repo_url}@main" not in first:
        problems.append(f"the Colab install cell does not install from {repo_url}@main")
    return problems


def repository_url(config_path: Path) -> str:
    cfg = yaml.safe_load(Path(config_path).read_text())
    return cfg["repository"]["url"].rstrip("/")
