"""Hygiene of the book's sources: stripped notebooks listed in the table of contents, theorem
boxes that name their sources, verification notebooks that end with their check table, Colab
install cells that agree with _config.yml, ruff-clean code. Each rule is also run on a broken
fixture, to show it bites."""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest
import yaml

from book_rules import (
    colab_cell_problems,
    load_notebook,
    missing_toc_files,
    output_problems,
    report_problems,
    repository_url,
    theorem_box_problems,
    unlisted_notebooks,
)
from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "chapters").rglob("*.ipynb"))
CHAPTERS = sorted(p for p in (ROOT / "chapters").iterdir() if p.is_dir())
REPO = repository_url(ROOT / "_config.yml")
COLAB_CELL = (
    "# On Colab, install the book's library first; elsewhere this cell does nothing.\n"
    "import sys\n\n"
    'if "google.colab" in sys.modules:\n'
    f'    %pip install -q "overparam @ git+{REPO}@main"'
)


def _ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


# ----------------------------------------------------------------- the real book
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_committed_without_outputs(path):
    assert output_problems(load_notebook(path)) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_starts_with_colab_install_cell(path):
    assert colab_cell_problems(load_notebook(path), REPO) == []


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.name == "verify.ipynb"],
                         ids=_ids([p for p in NOTEBOOKS if p.name == "verify.ipynb"]))
def test_verification_notebook_ends_with_check_table(path):
    assert report_problems(load_notebook(path)) == []


def test_every_notebook_is_in_the_toc_and_every_toc_entry_exists():
    assert unlisted_notebooks(ROOT, ROOT / "_toc.yml") == []
    assert missing_toc_files(ROOT, ROOT / "_toc.yml") == []


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.name for c in CHAPTERS])
def test_chapter_has_its_three_parts_and_sourced_theorems(chapter):
    for part in ("index.md", "verify.ipynb", "explore.ipynb"):
        assert (chapter / part).exists(), f"{chapter.name} lacks {part}"
    assert theorem_box_problems((chapter / "index.md").read_text()) == []


def test_launch_buttons_point_at_main_and_the_one_repository():
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert cfg["repository"]["branch"] == "main"
    lb = cfg["launch_buttons"]
    assert lb["binderhub_url"] and lb["colab_url"] and lb["thebe"] is True
    assert cfg["execute"]["execute_notebooks"] == "force"
    assert cfg["sphinx"]["config"]["nb_execution_raise_on_error"] is True


def test_library_and_tests_are_ruff_clean():
    out = subprocess.run([sys.executable, "-m", "ruff", "check", "lib", "tests", "bench"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


# ----------------------------------------------------------------- the rules bite
def _nb(*sources, outputs=False):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    if outputs:
        nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="hi")]
        nb.cells[0].execution_count = 1
    return nb


def test_rule_catches_outputs():
    assert output_problems(_nb("1", outputs=True))
    assert not output_problems(_nb("1"))


def test_rule_catches_missing_report_and_colab_cell():
    assert report_problems(_nb(COLAB_CELL, "checks.add(...)"))
    assert not report_problems(_nb(COLAB_CELL, "x = 1\nchecks.report()"))
    assert colab_cell_problems(_nb("import overparam"), REPO)
    assert colab_cell_problems(_nb(COLAB_CELL.replace(REPO, "https://github.com/x/y")), REPO)
    assert not colab_cell_problems(_nb(COLAB_CELL), REPO)


def test_rule_catches_unlisted_notebook(tmp_path):
    (tmp_path / "chapters" / "09_x").mkdir(parents=True)
    for name in ("index.md", "verify.ipynb", "stray.ipynb"):
        (tmp_path / "chapters" / "09_x" / name).write_text("{}")
    toc = tmp_path / "_toc.yml"
    toc.write_text("format: jb-book\nroot: intro\nchapters:\n- file: chapters/09_x/index\n"
                   "  sections:\n  - file: chapters/09_x/verify\n  - file: chapters/09_x/gone\n")
    assert unlisted_notebooks(tmp_path, toc) == ["chapters/09_x/stray.ipynb"]
    assert missing_toc_files(tmp_path, toc) == ["chapters/09_x/gone", "intro"]


def test_rule_catches_unsourced_theorems():
    good = "```{prf:theorem} Title ({cite:t}`frei2022benign`, Theorem 1)\n:label: x\nbody\n```\n"
    assert theorem_box_problems(good) == []
    assert theorem_box_problems("no boxes here")
    assert theorem_box_problems(good.replace("{cite:t}`frei2022benign`, ", ""))
    assert theorem_box_problems(good.replace(", Theorem 1", ""))
    lemma = "```{prf:lemma} Loss ratio\nbody\n```\n"
    assert any("lemma" in p for p in theorem_box_problems(good + lemma))


def _pins(path):
    pins = {}
    for line in (ROOT / path).read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line and not line.startswith("-"):
            name, version = line.split("==")
            pins[name.strip().lower()] = version.strip()
    return pins


def test_binder_installs_the_tested_stack_with_cpu_torch():
    binder, main = _pins("binder/requirements.txt"), _pins("requirements.txt")
    text = (ROOT / "binder" / "requirements.txt").read_text()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in text
    assert binder["torch"] == main["torch"] + "+cpu"
    for name, version in binder.items():
        if name != "torch":
            assert main.get(name) == version, f"binder pins {name}=={version}, tests differ"
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"
    post = ROOT / "binder" / "postBuild"
    assert "pip install --no-deps -e ." in post.read_text() and post.stat().st_mode & 0o111
