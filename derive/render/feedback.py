"""A student's feedback: every claim with its verdict and evidence, as Markdown and LaTeX.

Stages: FileResult -> :func:`build` (a frozen :class:`Feedback` of strings already made safe for
the target) -> templates/feedback.md.j2, feedback.tex.j2 -> :func:`write_documents` (the .md and
.tex) and one pdflatex pass (:func:`write_pdf`).

Everything a student wrote (the claim text, the student name, anything the checker quotes back in
a message) is untrusted. In the .tex it is set as text with every TeX special character escaped,
so that no control sequence of the student's ever reaches TeX: ``\\input{/etc/passwd}`` prints as
those characters and runs nothing. The one piece of LaTeX set as math is the right expression the
checker wrote, and only when every control word in it is a known math command (else it is shown
as text too). In the Markdown, claims are fenced code and other text is backslash-escaped, so no
HTML or link of the student's is rendered.
"""

from __future__ import annotations

import contextlib
import numbers
import os
import re
import shutil
import subprocess
import tempfile
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from derive.claims.verdict import PASSING, VERDICTS, ClaimResult, FileResult
from derive.errors import DeriveError
from derive.render.report import first_error, render, write_documents
from derive.safeio import shown, visible

MAX_SHOWN = 2000  # characters of one claim (a claims file may hold 256 kB in a single claim)
MAX_VALUE = 400  # characters of one printed value (a matrix at the counterexample point)
SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")  # of the files: nothing a shell or TeX reads


# --- TeX ----------------------------------------------------------------------------------
_TEX_SPECIAL = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "%": r"\%", "_": r"\_", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}",
    "-": "-{}",  # no -- or --- ligatures
}  # fmt: skip
#: characters pdflatex cannot set by default, as math; other non-Latin-1 characters become ?
_TEX_UNICODE = {
    "×": r"\times", "·": r"\cdot", "−": "-", "∂": r"\partial", "∑": r"\sum", "∏": r"\prod",
    "≤": r"\leq", "≥": r"\geq", "≠": r"\neq", "≈": r"\approx", "∘": r"\circ", "⊙": r"\odot",
    "⊗": r"\otimes", "⊕": r"\oplus", "∞": r"\infty", "→": r"\to", "←": r"\leftarrow",
    "√": r"\surd", "‖": r"\|", "ᵀ": r"^{\mathsf{T}}", "²": "^2", "³": "^3", "∈": r"\in",
    "∇": r"\nabla", "ŷ": r"\hat{y}",
}  # fmt: skip
_GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi",
    "omega",
}  # fmt: skip
_GREEK_CAPITAL = {"gamma", "delta", "theta", "lambda", "xi", "pi", "sigma", "upsilon", "phi",
                  "psi", "omega"}  # fmt: skip
_TYPOGRAPHIC = set("‘’“”–—…")
_BREAK_AFTER = set("=+-*/,;)]")  # and spaces, which break anyway


def _tex_char(ch: str) -> str:
    if ch in _TEX_SPECIAL:
        return _TEX_SPECIAL[ch]
    if " " <= ch <= "~":
        return ch
    if ch in "\t\n\r":
        return " "
    if ch in _TEX_UNICODE:
        return r"\ensuremath{" + _TEX_UNICODE[ch] + "}"
    name = unicodedata.name(ch, "").split()
    if name[:2] == ["GREEK", "SMALL"] and name[-1].lower() in _GREEK:
        return "\\ensuremath{\\" + name[-1].lower() + "}"
    if name[:2] == ["GREEK", "CAPITAL"] and name[-1].lower() in _GREEK_CAPITAL:
        return "\\ensuremath{\\" + name[-1].capitalize() + "}"
    if ch in _TYPOGRAPHIC or ("\xa1" <= ch <= "\xff" and unicodedata.category(ch)[0] in "LSP"):
        return ch  # T1 and pdflatex's UTF-8 input set these
    return "?"


def tex_escape(text: str, breaks: bool = False) -> str:
    """``text`` as TeX that typesets exactly those characters and can do nothing else: every TeX
    special escaped, control characters as spaces, what pdflatex cannot set as ``?``. With
    ``breaks``, a line may break after operators and inside long runs (for claims in \\texttt)."""
    out, run = [], 0
    for ch in str(text):
        out.append(_tex_char(ch))
        run += 1
        if ch == " ":
            run = 0
        elif breaks and (ch in _BREAK_AFTER or run >= 16):
            out.append(r"\allowbreak{}")
            run = 0
    return "".join(out)


#: control words of the math the checker writes; anything else and the expression is shown as text
_MATH_WORDS = frozenset(
    """frac dfrac tfrac partial mathbf boldsymbol mathrm mathsf mathit mathbb mathcal operatorname
    hat bar tilde widehat widetilde vec dot ddot left right big Big bigl bigr Bigl Bigr sum prod
    limits nolimits sqrt log exp ln det sin cos tan tanh sinh cosh max min top intercal circ odot
    oslash oplus otimes cdot times lVert rVert lvert rvert vert Vert mid leq geq le ge neq ne
    approx infty ldots cdots dots quad qquad prime ast star pm mp langle rangle lfloor rfloor
    lceil rceil in to rightarrow leftarrow mapsto displaystyle textstyle underbrace overbrace
    operatorname mathop ell sign diag text begin end overset""".split()
    + [g for g in _GREEK] + [g.capitalize() for g in _GREEK_CAPITAL] + ["varepsilon", "varphi",
    "vartheta", "varsigma", "varrho", "varpi"]
)  # fmt: skip
_MATH_ENVIRONMENTS = frozenset({"matrix", "pmatrix", "bmatrix", "smallmatrix", "cases"})


def safe_math(latex: str | None) -> str | None:
    """``latex`` when it is safe to set between $...$ (known math commands and environments
    only, balanced braces, no $ % # ^^ nor non-ASCII), else None."""
    if not latex or len(latex) > 4 * MAX_SHOWN:
        return None
    if any(c in latex for c in "$%#\x00") or "^^" in latex or not latex.isascii():
        return None
    depth = 0
    for ch in latex:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return None
    if depth:
        return None
    for m in re.finditer(r"\\([A-Za-z]+)(?:\s*\{([^{}]*)\})?", latex):
        word, argument = m.group(1), m.group(2)
        if word not in _MATH_WORDS:
            return None
        if word in ("begin", "end") and argument not in _MATH_ENVIRONMENTS:
            return None
    if re.search(r"\\[^A-Za-z,;:!{}| \\_]", latex):  # control symbols other than spacing
        return None
    return " ".join(latex.split())


# --- Markdown -----------------------------------------------------------------------------
def md_escape(text: str) -> str:
    """Plain text for Markdown: punctuation that could make markup or HTML is backslash-escaped,
    line breaks are spaces."""
    flat = " ".join(str(text).split())
    return re.sub(r"([\\`*_{}\[\]<>|~$&#!])", r"\\\1", flat)


def md_code(text: str) -> str:
    """A code span that holds ``text`` whatever backticks it contains."""
    flat = " ".join(str(text).split())
    fence = "`" * (max((len(r) for r in re.findall(r"`+", flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def md_block(text: str) -> str:
    """A fenced code block that holds ``text`` whatever fences it contains."""
    fence = "`" * max(3, max((len(r) for r in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence}text\n{text}\n{fence}"


# --- values -------------------------------------------------------------------------------
def plain_value(value) -> str:
    """A number, a vector or a matrix (nested lists) as short text."""

    def show(v) -> str:
        if isinstance(v, bool) or v is None:
            return str(v)
        if isinstance(v, numbers.Real):
            return f"{float(v) + 0.0:.6g}"  # -0.0 shows as 0
        if isinstance(v, list | tuple):
            return "[" + ", ".join(show(x) for x in v) + "]"
        if hasattr(v, "tolist"):  # a NumPy array or scalar
            return show(v.tolist())
        return str(v)

    while (
        isinstance(value, list | tuple) and len(value) == 1 and isinstance(value[0], list | tuple)
    ):
        value = value[0]  # [[0.63]] is the number 0.63, [[1, 2]] the row [1, 2]
    if isinstance(value, list | tuple) and len(value) == 1:
        value = value[0]
    text = show(value)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def _visible(text: str) -> str:
    """A student's text for a code block: line by line, every other control or format
    character as a visible escape (an escape sequence in a file shown on a terminal could
    otherwise repaint it)."""
    return visible(text.replace("\t", " "), keep="\n")


def _shown(claim: str) -> str:
    if len(claim) <= MAX_SHOWN:
        return claim
    return claim[:MAX_SHOWN] + f" … ({len(claim) - MAX_SHOWN} more characters)"


# --- the feedback -------------------------------------------------------------------------
@dataclass(frozen=True)
class ClaimView:
    id: str
    verdict: str
    claim: str  # the claim, set as code (its problem marked, when unparseable)
    message: str
    details: tuple[tuple[str, str], ...]  # (label, value): the evidence of a wrong claim
    question: str = ""  # graded: the question asked, as math
    points: str = ""  # graded: "1 of 2 points"


@dataclass(frozen=True)
class Feedback:
    student: str
    file: str
    score: int
    total: int
    error: str | None
    counts: str  # "7 correct, 1 incorrect, ..."
    claims: tuple[ClaimView, ...]
    graded: bool = False  # against an assignment: points, per question
    points: str = ""  # "4 of 5"
    notes: tuple[str, ...] = ()
    kind: str = "Claims file"  # or "Answers file", "Write-up"


class _Tex:
    text = staticmethod(tex_escape)
    name = staticmethod(tex_escape)

    @staticmethod
    def claim(c: ClaimResult) -> str:
        math = safe_math(c.latex) if c.latex else None
        if math is not None:  # the parsed claim, written back: mathematics, never the raw text
            return r"\[ " + math + r" \]"
        text, p = _shown(c.claim), c.position
        if c.verdict == "unparseable" and p is not None and 0 <= p <= len(text):
            marker = r"{\normalfont\boldmath$\blacktriangleright$}"
            return (
                r"\texttt{" + tex_escape(text[:p], True) + marker + tex_escape(text[p:], True) + "}"
            )
        return r"\texttt{" + tex_escape(text, True) + "}"

    @staticmethod
    def value(value) -> str:
        return r"\texttt{" + tex_escape(plain_value(value), True) + "}"

    @staticmethod
    def math(latex: str) -> str:
        safe = safe_math(latex)
        return f"${safe}$" if safe else r"\texttt{" + tex_escape(latex, True) + "}"


class _Markdown:
    text = staticmethod(md_escape)
    name = staticmethod(md_code)  # a student id or file name is code: never a link (https://...)

    @staticmethod
    def claim(c: ClaimResult) -> str:
        math = safe_math(c.latex) if c.latex else None
        if math is not None:
            return "$$\n" + math + "\n$$"
        text, p = _shown(c.claim), c.position
        if c.verdict == "unparseable" and p is not None and 0 <= p <= len(text):
            if "\n" not in text and len(text) <= 200:
                return md_block(_visible(text) + "\n" + " " * len(_visible(text[:p])) + "^ here")
            return md_block(_visible(text)) + f"\n\n(the problem is at character {p + 1})"
        return md_block(_visible(text))

    @staticmethod
    def value(value) -> str:
        return md_code(plain_value(value))

    @staticmethod
    def math(latex: str) -> str:
        safe = safe_math(latex)
        return f"${safe}$" if safe else md_code(latex)


MAX_POINT_NUMBERS = 24  # a counterexample with more numbers is told by its indices only


def _count(v) -> int:
    return sum(_count(x) for x in v) if isinstance(v, list | tuple) else 1


def _details(c: ClaimResult, t) -> tuple[tuple[str, str], ...]:
    rows = []
    if c.line is not None:
        rows.append(("In your file", t.text(f"line {c.line}")))
    if c.steps and len(c.steps) > 1:
        said = "; ".join(f"{s.name()}: {s.said}" for s in c.steps)
        rows.append(("Each step", t.text(said)))
    if c.point:
        values = {k: v for k, v in c.point.items() if not isinstance(v, int) or len(k) > 1}
        indices = {k: v for k, v in c.point.items() if k not in values}
        if sum(_count(v) for v in values.values()) <= MAX_POINT_NUMBERS:
            point = ", ".join(f"{t.text(str(k))} = {t.value(v)}" for k, v in c.point.items())
        else:  # the numbers are in results.json
            point = t.text("at a random point (its values are in results.json)")
            if indices:
                point += t.text(", " + ", ".join(f"{k} = {v}" for k, v in indices.items()))
        rows.append(("Where the two sides differ", point))
    if c.claimed_value is not None:
        rows.append(("Your side there", t.value(c.claimed_value)))
    if c.correct_value is not None:
        rows.append(("The right side there", t.value(c.correct_value)))
    if c.expected:
        rows.append(("The right expression", t.math(c.expected)))
    if c.slip:
        rows.append(("Likely slip", t.text(c.slip)))
    return tuple(rows)


def _of(points: float | None, worth: float | None) -> str:
    if worth is None:
        return ""
    unit = "point" if worth == 1 else "points"
    return f"{points or 0:g} of {worth:g} {unit}"


def build(result: FileResult, target: str) -> Feedback:
    """The feedback of one student, every string safe for ``target`` ("tex" or "md")."""
    t = _Tex if target == "tex" else _Markdown
    counts = Counter(c.verdict for c in result.claims)
    order = [v for v in VERDICTS if counts[v]] + sorted(set(counts) - set(VERDICTS))
    return Feedback(
        student=t.name(shown(result.student)),
        file=t.name(result.file),
        score=result.score,
        total=len(result.claims),
        error=t.text(shown(result.error)) if result.error else None,
        counts=t.text(", ".join(f"{counts[v]} {v}" for v in order)),
        claims=tuple(
            ClaimView(
                t.text(shown(c.id)),
                t.text(c.verdict),
                t.claim(c) if c.claim or c.verdict != "unanswered" else t.text("(no answer)"),
                _prose(shown(c.message), t),
                _details(c, t),
                question=t.math(c.question) if c.question else "",
                points=_of(c.points, c.max_points),
            )
            for c in result.claims
        ),
        graded=result.graded,
        points=_of(result.points, result.max_points)
        .removesuffix(" points")
        .removesuffix(" point"),  # fmt: skip
        notes=tuple(t.text(shown(n)) for n in result.notes),
        kind=_kind(result),
    )


def _kind(result: FileResult) -> str:
    if any(c.line is not None for c in result.claims) or Path(result.file).suffix.lower() in (
            ".tex", ".md", ".txt"):  # fmt: skip
        return "Write-up"
    return "Answers file" if result.graded else "Claims file"


def _prose(message: str, t) -> str:
    """A checker's sentence: its text escaped, its $...$ set as mathematics when safe."""
    parts = message.split("$")
    if len(parts) % 2 == 0:  # an odd number of $: all text
        return t.text(message)
    out = []
    for k, part in enumerate(parts):
        if k % 2:
            out.append(t.math(part))
            continue
        text = t.text(part)
        lead = " " if part[:1].isspace() and not text[:1].isspace() else ""
        tail = " " if part[-1:].isspace() and not text[-1:].isspace() else ""
        out.append(lead + text + tail)
    return "".join(out)


def render_feedback(result: FileResult) -> tuple[str, str]:
    """The .tex and the Markdown of one student's feedback."""
    passing = " or ".join(PASSING)
    tex = render("feedback.tex.j2", f=build(result, "tex"), passing=passing)
    md = render("feedback.md.j2", f=build(result, "md"), passing=passing)
    return tex, md


def write_feedback(result: FileResult, folder: Path, name: str, pdf: bool = False) -> list[Path]:
    """Write <name>.md and <name>.tex into ``folder``, and <name>.pdf with ``pdf``; each file
    lands whole. A LaTeX error raises DeriveError (the .md and .tex are written)."""
    tex, md = render_feedback(result)
    written = write_documents(name, tex, Path(folder), {"tex", "md"}, md)
    if pdf:
        written.append(write_pdf(tex, folder, name))
    return written


FEEDBACK_LATEX_TIMEOUT = 60  # seconds of pdflatex for one student's feedback


class PdfJob:
    """<name>.pdf from ``tex``: pdflatex started in a temporary folder at once, collected by
    :meth:`finish` (which moves the PDF into ``folder``). A subprocess, not a thread, so that a
    class run's parent has no thread when it forks a worker.

    One pdflatex pass, not latexmk: the feedback has no references to resolve, and latexmk's
    extra pass and start-up make it 3x slower (0.35 s against 0.12 s a student here), which a
    class of 200 feels. -no-shell-escape shuts even TeX Live's restricted shell escape (the
    student's text is escaped anyway: this is the second lock)."""

    def __init__(self, tex: str, folder: Path, name: str):
        if not SAFE_NAME.fullmatch(name):
            raise ValueError(f"{name!r}: a feedback name is letters, digits and ._- (not .- first)")
        self.folder, self.name = Path(folder), name
        self.build = Path(tempfile.mkdtemp(prefix="derive-feedback-"))
        self.started = time.monotonic()
        try:
            (self.build / f"{name}.tex").write_text(tex, encoding="utf-8")
            command = ["pdflatex", "-no-shell-escape", "-interaction=nonstopmode",
                       "-halt-on-error", f"{name}.tex"]  # fmt: skip
            env = {**os.environ, "SOURCE_DATE_EPOCH": "0", "FORCE_SOURCE_DATE": "1"}
            self.process = subprocess.Popen(command, cwd=self.build, env=env,
                                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL)  # fmt: skip
        except BaseException:
            shutil.rmtree(self.build, ignore_errors=True)
            raise

    def done(self) -> bool:
        if self.process.poll() is not None:
            return True
        if time.monotonic() - self.started > FEEDBACK_LATEX_TIMEOUT:
            self.process.kill()
            self.process.wait()
            return True
        return False

    def finish(self) -> Path:
        """Wait for pdflatex; the PDF's path, or a DeriveError with LaTeX's first error."""
        name = self.name
        try:
            try:
                code = self.process.wait(max(1.0, FEEDBACK_LATEX_TIMEOUT - self.elapsed()))
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                code = None
            pdf, log = self.build / f"{name}.pdf", self.build / f"{name}.log"
            if code is None or self.elapsed() > FEEDBACK_LATEX_TIMEOUT:
                raise DeriveError(f"LaTeX did not finish {name}.tex in {FEEDBACK_LATEX_TIMEOUT} s")
            if code != 0 or not pdf.is_file():
                text = log.read_bytes().decode(errors="replace") if log.is_file() else ""
                raise DeriveError(f"LaTeX failed on {name}.tex: {first_error(text)}")
            self.folder.mkdir(parents=True, exist_ok=True)
            target, part = self.folder / pdf.name, self.folder / f".{pdf.name}.part"
            shutil.copyfile(pdf, part)
            os.replace(part, target)
            return target
        finally:
            shutil.rmtree(self.build, ignore_errors=True)

    def cancel(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()
        self.process.wait()
        shutil.rmtree(self.build, ignore_errors=True)

    def elapsed(self) -> float:
        return time.monotonic() - self.started


def write_pdf(tex: str, folder: Path, name: str) -> Path:
    """<name>.pdf from ``tex`` in ``folder``, now (see :class:`PdfJob`)."""
    return PdfJob(tex, folder, name).finish()
