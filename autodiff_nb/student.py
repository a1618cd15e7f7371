"""The student edition of a chapter, made by nbgrader's own preprocessors (``chapters DIR --student``).

Chapter 03 marks its answers the way nbgrader does: solution cells (``"nbgrader": {"solution": true,
...}``) whose answer sits between ``### BEGIN SOLUTION`` and ``### END SOLUTION``, each followed by a
graded check cell (``"grade": true, "points": ...``). A teacher can run the standard pipeline on the
chapter as it is (``nbgrader generate_assignment``, then ``autograde``). For a teacher without a course
folder, ``student_edition`` applies the same preprocessors ``generate_assignment`` runs, through
nbconvert, leaving out only the two that need a course: the header/footer and the gradebook
(``SaveCells``). Answers become ``# YOUR CODE HERE`` / ``raise NotImplementedError()``, every output
is cleared, check cells are locked and carry nbgrader's checksums.

nbgrader is an optional extra: ``pip install 'autodiff_nb[teacher]'``.
"""
from __future__ import annotations

INSTALL_HINT = "pip install 'autodiff_nb[teacher]'  (or: pip install nbgrader)"

# nbgrader's GenerateAssignment.preprocessors, in its order, minus IncludeHeaderFooter and
# InstantiateTests (they need a course's files) and SaveCells (it writes the course's gradebook).
# tests/test_student_edition.py checks this list against nbgrader's own.
PREPROCESSORS = ("LockCells", "ClearSolutions", "ClearOutput", "CheckCellMetadata", "ComputeChecksums",
                 "ClearHiddenTests", "ClearMarkScheme", "ComputeChecksums", "CheckCellMetadata")


class NbgraderMissing(RuntimeError):
    """The student edition needs nbgrader, and it is not installed."""


def _nbgrader_preprocessors():
    try:
        from nbgrader import preprocessors
    except ImportError as error:
        raise NbgraderMissing(f"the student edition is made with nbgrader, which is not installed ({error}).\n"
                              f"Install it with:  {INSTALL_HINT}") from None
    return [getattr(preprocessors, name) for name in PREPROCESSORS]


def require_nbgrader():
    """Raise ``NbgraderMissing`` (with how to install it) unless nbgrader can be imported."""
    _nbgrader_preprocessors()


def student_edition(notebook):
    """A student edition of ``notebook`` (an nbformat NotebookNode; not changed): answers replaced by
    nbgrader's stubs, outputs cleared, check cells locked. Returns ``(edition, answers_cleared)``.

    >>> edition, cleared = student_edition(nbformat.read("chapters/03_exercises.ipynb", as_version=4))
    """
    import copy

    import nbformat
    from nbconvert.exporters import NotebookExporter
    from traitlets.config import Config

    classes = _nbgrader_preprocessors()
    exporter = NotebookExporter(config=Config())
    for cls in classes:
        exporter.register_preprocessor(cls(), enabled=True)
    notebook = copy.deepcopy(notebook)
    notebook.metadata.pop("widgets", None)  # the stored widget state of outputs that are cleared
    text, _ = exporter.from_notebook_node(notebook, resources={})
    edition = nbformat.reads(text, as_version=4)
    answers = sum(1 for cell in notebook.cells if cell.get("metadata", {}).get("nbgrader", {}).get("solution"))
    return edition, answers
