"""Recorded, honest checks: each has a name, the claim and its source, the measured value, the
bound, the kind of check, and a pass/fail computed here (never passed in by the caller).

Kinds of check (see the book's introduction):

``"letter"``
    The statement checked to the letter: an exact identity, an explicit-constant inequality,
    or a qualitative conclusion (e.g. "every training point is classified correctly").
``"shape"``
    The shape of a bound whose absolute constant is unknown (a slope, a collapse, a ratio range),
    with the tolerance fixed before the run.
``"lemma-C1"``
    A lemma whose unknown constant is set to 1, the strictest natural choice.

What is expected of a check:

``"pass"``
    Asserted: a failing check fails the notebook (and so ``nbval`` and the book build).
``"fail"``
    A negative control: asserted to *fail*, showing that the check can bite. If it passes, that
    is reported as a failure.
``"report"``
    Measured and shown, not asserted (e.g. a regime outside a theorem's assumptions).

At the end of each verification notebook :meth:`Checks.report` renders the table, writes it as
JSON where the book build collects it for the appendix, and raises :class:`ChecksFailed` if any
asserted check went the wrong way.

Used in: every verification notebook; the appendix "What this book verified".
"""

from __future__ import annotations

import html
import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ._validate import require_choice

__all__ = ["Check", "Checks", "ChecksFailed", "KINDS", "EXPECTS", "CHECKS_DIR_ENV"]

KINDS = {
    "letter": "to the letter",
    "shape": "shape of the bound",
    "lemma-C1": "lemma, constant set to 1",
}
EXPECTS = ("pass", "fail", "report")
OPS = ("<=", "<", ">=", ">", "in", "==")
#: Environment variable naming the folder where :meth:`Checks.report` writes its JSON record.
CHECKS_DIR_ENV = "OVERPARAM_CHECKS_DIR"


class ChecksFailed(AssertionError):
    """Raised by :meth:`Checks.report` when an asserted check went the wrong way."""


def _holds(value: float, op: str, bound) -> bool:
    if op == "in":
        lo, hi = bound
        return bool(lo <= value <= hi)
    return bool(
        {
            "<=": value <= bound,
            "<": value < bound,
            ">=": value >= bound,
            ">": value > bound,
            "==": value == bound,
        }[op]
    )


def _worst(values: np.ndarray, op: str, bound) -> float:
    """The element of ``values`` that comes closest to violating (or most violates) the relation."""
    if op in ("<=", "<"):
        return float(np.max(values))
    if op in (">=", ">"):
        return float(np.min(values))
    if op == "in":
        lo, hi = bound
        dist = np.minimum(values - lo, hi - values)
        return float(values[int(np.argmin(dist))])
    # "==": the element that differs
    bad = values[values != bound]
    return float(bad[0]) if bad.size else float(values[0])


def _fmt(x) -> str:
    if isinstance(x, tuple | list):
        return "[" + ", ".join(_fmt(v) for v in x) + "]"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int | np.integer):
        return str(int(x))
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    if x == 0:
        return "0"
    if abs(x) >= 1e4 or abs(x) < 1e-3:
        return f"{x:.3g}"
    return f"{x:.4g}"


def _fmt_against(value, bound) -> str:
    """Format ``value`` with enough digits that it does not read as equal to a different bound."""
    text = _fmt(value)
    bounds = bound if isinstance(bound, tuple | list) else (bound,)
    for b in bounds:
        if value != b and text == _fmt(b) and math.isfinite(value):
            for digits in range(5, 13):
                text = f"{value:.{digits}g}"
                if text != f"{b:.{digits}g}":
                    break
    return text


@dataclass
class Check:
    """One recorded check. Build it with :meth:`Checks.add`; ``status`` is computed, not given."""

    name: str
    claim: str
    source: str
    measured: float
    op: str
    bound: float | tuple[float, float]
    kind: str
    expect: str = "pass"
    note: str = ""
    n_values: int = 1
    holds: bool = field(init=False)
    status: str = field(init=False)
    ok: bool = field(init=False)

    def __post_init__(self) -> None:
        finite = math.isfinite(self.measured)
        self.holds = finite and _holds(self.measured, self.op, self.bound)
        if not finite:
            self.status = "INVALID: measured value is not finite"
            self.ok = self.expect == "report"
        elif self.expect == "pass":
            self.status = "pass" if self.holds else "FAIL"
            self.ok = self.holds
        elif self.expect == "fail":
            self.status = "fails, as a negative control should" if not self.holds else (
                "CONTROL DID NOT FAIL: the check does not bite"
            )
            self.ok = not self.holds
        else:
            self.status = "reported (holds)" if self.holds else "reported (does not hold)"
            self.ok = True

    @property
    def relation(self) -> str:
        return f"{self.op} {_fmt(self.bound)}"

    def as_dict(self) -> dict:
        d = asdict(self)
        d["bound"] = list(self.bound) if isinstance(self.bound, tuple) else self.bound
        d["kind_label"] = KINDS[self.kind]
        return d


class Checks:
    """The check table of one verification notebook.

    Parameters
    ----------
    chapter : str
        The chapter folder name, e.g. ``"01_benign_overfitting"``; it labels the JSON record.
    title : str, optional
        A human title for the appendix (defaults to ``chapter``).

    Examples
    --------
    >>> checks = Checks("00_demo")
    >>> c = checks.add("interp", claim="training error is 0", source="Thm 1(1)",
    ...                measured=0.0, op="<=", bound=0.0, kind="letter")
    >>> c.status
    'pass'
    """

    def __init__(self, chapter: str, title: str | None = None) -> None:
        self.chapter = chapter
        self.title = title or chapter
        self.checks: list[Check] = []

    def add(
        self,
        name: str,
        *,
        claim: str,
        source: str,
        measured,
        op: str,
        bound,
        kind: str,
        expect: str = "pass",
        note: str = "",
    ) -> Check:
        """Record a check: ``measured op bound``.

        ``measured`` may be an array: the relation must then hold for every element, and the table
        shows the worst element (e.g. the largest value for ``<=``).
        """
        require_choice("op", op, OPS)
        require_choice("kind", kind, list(KINDS))
        require_choice("expect", expect, EXPECTS)
        if not name or not claim or not source:
            raise ValueError("name, claim and source must be non-empty strings")
        if any(c.name == name for c in self.checks):
            raise ValueError(f"a check named {name!r} is already recorded")
        if op == "in":
            if not (isinstance(bound, tuple | list) and len(bound) == 2 and bound[0] <= bound[1]):
                raise ValueError("bound must be a pair (low, high) with low <= high when op='in'")
            bound = (float(bound[0]), float(bound[1]))
        else:
            bound = float(bound)
        values = np.asarray(
            measured.detach().cpu().numpy() if hasattr(measured, "detach") else measured,
            dtype=float,
        ).ravel()
        if values.size == 0:
            raise ValueError("measured must hold at least one value")
        if not np.all(np.isfinite(values)):
            value = float("nan")
        elif values.size == 1:
            value = float(values[0])
        else:
            # every element must satisfy the relation: record the worst one
            value = _worst(values, op, bound)
        check = Check(name, claim, source, value, op, bound, kind, expect, note, int(values.size))
        self.checks.append(check)
        return check

    # ----------------------------------------------------------------- reporting
    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def as_dict(self) -> dict:
        return {
            "chapter": self.chapter,
            "title": self.title,
            "checks": [c.as_dict() for c in self.checks],
        }

    def to_html(self) -> str:
        return render_html(self.as_dict()["checks"])

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        lines = [f"Checks({self.chapter}): {len(self.checks)} recorded"]
        for c in self.checks:
            lines.append(f"  [{c.status}] {c.name}: {_fmt(c.measured)} {c.relation} ({c.kind})")
        return "\n".join(lines)

    def write_json(self, folder: str | os.PathLike | None = None) -> Path | None:
        """Write the record to ``folder`` (default: ``$OVERPARAM_CHECKS_DIR``; skipped if unset)."""
        folder = folder or os.environ.get(CHECKS_DIR_ENV)
        if not folder:
            return None
        path = Path(folder) / f"{self.chapter}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_dict(), indent=1))
        return path

    def report(self, display: bool = True) -> Checks | None:
        """Show the table, write the JSON record, and raise :class:`ChecksFailed` on any failure.

        Returns ``None`` when the table was displayed (as the last line of a notebook cell, a
        returned ``Checks`` would be rendered a second time), else ``self``.
        """
        if not self.checks:
            raise ChecksFailed("no checks were recorded: a verification must check something")
        self.write_json()
        if display:
            try:
                from IPython.display import HTML
                from IPython.display import display as ipy_display

                ipy_display(HTML(self.to_html()))
            except ImportError:  # pragma: no cover - plain Python
                print(repr(self))
        if self.failures:
            lines = [f"{c.name}: measured {_fmt(c.measured)}, wanted {c.relation} -> {c.status}"
                     for c in self.failures]
            raise ChecksFailed(f"{len(self.failures)} check(s) failed:\n  " + "\n  ".join(lines))
        return None if display else self


_STATUS_CLASS = {True: "check-ok", False: "check-bad"}


def render_html(records: list[dict]) -> str:
    """An HTML table of check records (dicts as produced by :meth:`Check.as_dict`)."""
    head = ("<tr><th>check</th><th>claim</th><th>source</th><th>measured</th>"
            "<th>bound</th><th>kind</th><th>status</th></tr>")
    rows = []
    for r in records:
        bound = tuple(r["bound"]) if isinstance(r["bound"], list) else r["bound"]
        meas = _fmt_against(r["measured"], bound)
        if r.get("n_values", 1) > 1:
            meas += f" (worst of {r['n_values']})"
        note = f"<br><small>{html.escape(r['note'])}</small>" if r.get("note") else ""
        rows.append(
            f"<tr class='{_STATUS_CLASS[r['ok']]}'>"
            f"<td><code>{html.escape(r['name'])}</code></td>"
            f"<td>{html.escape(r['claim'])}{note}</td>"
            f"<td>{html.escape(r['source'])}</td>"
            f"<td>{meas}</td>"
            f"<td>{html.escape(r['op'])} {_fmt(bound)}</td>"
            f"<td>{html.escape(KINDS[r['kind']])}</td>"
            f"<td><b>{html.escape(r['status'])}</b></td></tr>"
        )
    return ("<table class='overparam-checks'><thead>" + head + "</thead><tbody>"
            + "".join(rows) + "</tbody></table>")
