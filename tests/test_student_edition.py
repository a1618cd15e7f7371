"""``python -m autodiff_nb chapters DIR --student``: the student edition, made by nbgrader's preprocessors.

The teacher edition is chapters/ itself (nbval checks it strictly). Here the student edition is
generated through the CLI, then:
- every answer is gone (nbgrader's stub in its place), every output cleared, check cells unchanged
  and locked;
- run by a real kernel (nbclient) with the answers left blank, every check cell fails, saying the
  answer is not written yet; with typical wrong answers, it says what is wrong;
- with the teacher's answers put back into the student edition's solution cells, it runs clean, so
  every check passes.
nbgrader is the ``teacher`` extra, which ``make test`` installs: without it these tests skip, and in
CI (``CI=true``) fail.
"""
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from conftest import skip_unless_ci

REPO = Path(__file__).resolve().parents[1]
EXERCISES = REPO / "chapters" / "03_exercises.ipynb"


def require_nbgrader():
    try:
        import nbgrader  # noqa: F401
    except ImportError as error:
        skip_unless_ci(f"nbgrader makes the student edition and is not installed ({error}); "
                       "make test installs it (the teacher extra)")


def nbgrader_meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def by_grade_id(nb, kind):
    """The code cells that are nbgrader answers (kind "solution") or checks (kind "grade")."""
    return {nbgrader_meta(c)["grade_id"]: c for c in nb.cells if c.cell_type == "code" and nbgrader_meta(c).get(kind)}


def written_answers(nb):
    """The markdown cells a teacher grades by hand (nbgrader's "manually graded answer")."""
    return {nbgrader_meta(c)["grade_id"]: c for c in nb.cells
            if c.cell_type == "markdown" and nbgrader_meta(c).get("solution") and nbgrader_meta(c).get("grade")}


def _split_at_markers(source):
    """The stripped lines of a cell inside the solution markers, and those outside them."""
    inside, answer, rest = False, [], []
    for line in source.splitlines():
        if "BEGIN SOLUTION" in line:
            inside = True
        elif "END SOLUTION" in line:
            inside = False
        else:
            (answer if inside else rest).append(line.strip())
    return answer, rest


def solution_lines(source):
    """The lines of a teacher's answer: those between the solution markers."""
    return [line for line in _split_at_markers(source)[0] if line]


def outside_solutions(source):
    """The stripped lines of a cell that are not between the solution markers."""
    return _split_at_markers(source)[1]


def execute(nb, allow_errors=False):
    client = NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=allow_errors,
                            resources={"metadata": {"path": str(REPO / "chapters")}})
    client.execute()
    return nb


def error_of(cell):
    errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
    return errors[0] if errors else None


@pytest.fixture(scope="module")
def teacher():
    return nbformat.read(EXERCISES, as_version=4)


@pytest.fixture(scope="module")
def student_folder(tmp_path_factory):
    require_nbgrader()
    folder = tmp_path_factory.mktemp("student")
    result = subprocess.run([sys.executable, "-m", "autodiff_nb", "chapters", str(folder), "--student"],
                            capture_output=True, text=True, timeout=300, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert "(student edition)" in result.stdout
    return folder


@pytest.fixture(scope="module")
def student(student_folder):
    return nbformat.read(student_folder / EXERCISES.name, as_version=4)


def test_the_teacher_edition_has_answers_and_graded_checks(teacher):
    solutions, checks = by_grade_id(teacher, "solution"), by_grade_id(teacher, "grade")
    assert len(solutions) >= 7 and len(checks) == len(solutions)
    assert all(solution_lines(c.source) for c in solutions.values()), "a solution cell without an answer"
    assert all(nbgrader_meta(c)["points"] > 0 and nbgrader_meta(c)["locked"] for c in checks.values())
    assert all(nbgrader_meta(c)["schema_version"] == 3 for c in [*solutions.values(), *checks.values()])


def test_every_answer_is_gone_and_every_output_cleared(teacher, student_folder, student):
    teacher_solutions, student_solutions = by_grade_id(teacher, "solution"), by_grade_id(student, "solution")
    assert student_solutions.keys() == teacher_solutions.keys()
    student_lines = {line.strip() for c in student.cells for line in c.source.splitlines()}
    # lines the teacher's edition also has outside its answers (a scaffold line such as
    # "x = x.detach().requires_grad_()" may be written the same way in an answer)
    elsewhere = {line for c in teacher.cells for line in outside_solutions(c.source)}
    for grade_id, cell in student_solutions.items():
        assert "raise NotImplementedError()" in cell.source and "# YOUR CODE HERE" in cell.source, grade_id
        assert "SOLUTION" not in cell.source, grade_id
        for line in solution_lines(teacher_solutions[grade_id].source):
            if line not in elsewhere:
                assert line not in student_lines, f"{grade_id}: the answer's line {line!r} is still there"
    for chapter in sorted(student_folder.glob("*.ipynb")):
        nb = nbformat.read(chapter, as_version=4)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), chapter.name


def test_written_answers_are_graded_by_hand_and_gone_from_the_student_edition(teacher, student):
    teacher_answers, student_answers = written_answers(teacher), written_answers(student)
    assert teacher_answers and student_answers.keys() == teacher_answers.keys()
    for grade_id, cell in student_answers.items():
        assert nbgrader_meta(cell)["points"] > 0
        assert cell.source.strip() == "YOUR ANSWER HERE", grade_id  # nbgrader's stub for a written answer
        kept = {line.strip() for c in student.cells for line in c.source.splitlines()}
        answer = [line.strip() for line in teacher_answers[grade_id].source.splitlines() if len(line.strip()) > 20]
        assert answer and not kept & set(answer), f"{grade_id}: the teacher's answer shows in the student edition"


def test_check_cells_are_the_teachers_and_locked(teacher, student):
    teacher_checks, student_checks = by_grade_id(teacher, "grade"), by_grade_id(student, "grade")
    assert student_checks.keys() == teacher_checks.keys()
    for grade_id, cell in student_checks.items():
        assert cell.source == teacher_checks[grade_id].source, grade_id
        assert cell.metadata["editable"] is False and cell.metadata["deletable"] is False
        assert nbgrader_meta(cell)["checksum"], grade_id  # nbgrader's autograde compares it


def test_the_student_edition_follows_nbgraders_own_pipeline():
    require_nbgrader()
    from nbgrader.converters.generate_assignment import GenerateAssignment

    from autodiff_nb.student import PREPROCESSORS

    theirs = [cls.__name__ for cls in GenerateAssignment().preprocessors]
    needs_a_course = {"IncludeHeaderFooter", "InstantiateTests", "SaveCells"}
    assert list(PREPROCESSORS) == [name for name in theirs if name not in needs_a_course]


def test_blank_answers_fail_every_check_with_a_hint(student):
    ran = execute(nbformat.from_dict(student), allow_errors=True)
    checks = by_grade_id(ran, "grade")
    for grade_id, cell in checks.items():
        error = error_of(cell)
        assert error is not None, f"{grade_id} passed with the answers left blank"
        assert error.ename == "AssertionError", f"{grade_id}: {error.ename}: {error.evalue}"
        assert "is not written yet" in error.evalue, f"{grade_id}: {error.evalue}"
    setup = next(c for c in ran.cells if c.cell_type == "code")
    assert error_of(setup) is None


WRONG_ANSWERS = {
    # the Hessian times ones: one walk of grad.sum(), not one per row
    "hessian_by_rows": ("    x = x.detach().requires_grad_()\n"
                        "    (grad,) = torch.autograd.grad(fn(x), x, create_graph=True)\n"
                        "    (ones,) = torch.autograd.grad(grad.sum(), x)\n"
                        "    return torch.stack([ones] * len(x)), 1\n"),
    # forgot retain_graph: the second walk finds the record freed
    "backward_twice": "    y = fn(x)\n    y.backward()\n    y.backward()\n",
    # walked back from the sum of squares, not from d
    "control_flow_grad": "    (d * d).sum().backward()\n",
    # returned the function's value, not its derivative
    "derivative_by_autodiff": "    return fn(points)\n",
    # a Python number where a recorded tensor was asked for
    "dependency_graph": ("    u = x ** 2\n    v = torch.log(u)\n    s = torch.sin(x)\n    p = v * s\n"
                         "    r = 1 / x.item()\n    f = p + r\n"),
    # dv/du written as 1/x
    "local_derivatives": ("    u, v, s = x ** 2, math.log(x ** 2), math.sin(x)\n"
                          "    return {'du/dx': 2 * x, 'dv/du': 1 / x, 'ds/dx': math.cos(x), 'dp/dv': s, "
                          "'dp/ds': v, 'dr/dx': -1 / x ** 2, 'df/dp': 1.0, 'df/dr': 1.0}\n"),
    # forgot the path through 1/x, both ways
    "forward_and_reverse": ("    forward = d['dp/dv'] * d['dv/du'] * d['du/dx'] + d['dp/ds'] * d['ds/dx']\n"
                            "    reverse = forward\n"),
}
HINTS = {
    "check_hessian_by_rows": "that is the Hessian times ones",
    "check_backward_twice": "pass retain_graph=True to the first backward()",
    "check_control_flow_grad": "a.grad is not d / a",
    "check_derivative_by_autodiff": "that is sin(x) itself, not its derivative",
    "check_dependency_graph": "r is not recorded",
    "check_local_derivatives": "dv/du: yours is 0.5000, the engine's is 0.2500",
    "check_forward_and_reverse": "are all three added?",
}


def with_answers(student, teacher_solutions, answers):
    """The student edition with each solution cell's stub replaced by an answer (the teacher's, or
    one from ``answers``, indented inside the teacher's cell)."""
    nb = nbformat.from_dict(student)
    for cell in nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if cell.cell_type == "code" and nbgrader_meta(cell).get("solution"):
            source = teacher_solutions[grade_id].source
            if grade_id in answers:
                source = re.sub(r"[ \t]*### BEGIN SOLUTION.*?### END SOLUTION\n?", answers[grade_id], source,
                                flags=re.S)
            cell.source = source
    return nb


def test_wrong_answers_get_a_hint_that_says_what_is_wrong(teacher, student):
    assert WRONG_ANSWERS.keys() == by_grade_id(teacher, "solution").keys()
    ran = execute(with_answers(student, by_grade_id(teacher, "solution"), WRONG_ANSWERS), allow_errors=True)
    for grade_id, cell in by_grade_id(ran, "grade").items():
        error = error_of(cell)
        assert error is not None, f"{grade_id} passed a wrong answer"
        assert error.ename == "AssertionError", f"{grade_id}: {error.ename}: {error.evalue}"
        assert HINTS[grade_id] in error.evalue, f"{grade_id}: {error.evalue}"


def test_the_teachers_answers_put_back_pass_every_check(teacher, student):
    nb = with_answers(student, by_grade_id(teacher, "solution"), {})
    try:
        ran = execute(nb)
    except CellExecutionError as error:
        pytest.fail(f"with the teacher's answers a cell failed:\n{error}")
    checks = by_grade_id(ran, "grade")
    assert checks and all(error_of(c) is None for c in checks.values())


def test_student_without_nbgrader_says_how_to_install_it_and_writes_nothing(tmp_path):
    code = ("import sys; sys.modules['nbgrader'] = None\n"  # as if nbgrader were not installed
            "from autodiff_nb.__main__ import main\n"
            f"sys.exit(main(['chapters', {str(tmp_path / 'out')!r}, '--student']))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 1
    assert "nbgrader" in result.stderr and "pip install 'autodiff_nb[teacher]'" in result.stderr
    assert "Nothing was written" in result.stderr
    assert not (tmp_path / "out").exists()
