"""The graded assignments: nbgrader's real round trip (release, leak check, autograde).

One course directory for all assignments (one ``generate_assignment`` and one ``autograde``
run): the solutions must get full marks, the untouched student release zero on every graded
cell, the grader must score every cell without crashing, and nothing secret may reach the
release.
"""

from __future__ import annotations

import nbformat
import pytest

from colorcourse import grading

EXPECTED = ["a1_color_spaces", "a2_pixel_features", "a3_joint_bilateral", "a4_fusion_layer"]


def _source(name):
    return nbformat.read(str(grading.SOURCE_DIR / name / f"{name}.ipynb"), as_version=4)


def test_the_four_assignments_exist():
    assert set(EXPECTED) <= set(grading.assignment_names())


@pytest.mark.parametrize("name", EXPECTED)
def test_source_is_a_well_formed_nbgrader_notebook(name):
    nb = _source(name)
    graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    solutions = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert 2 <= len(graded) <= 4, [c.metadata.nbgrader.grade_id for c in graded]
    assert sum(c.metadata.nbgrader.points for c in graded) == 10
    for cell in graded:
        assert cell.metadata.nbgrader.locked and cell.metadata.nbgrader.schema_version == 3
        assert "### BEGIN HIDDEN TESTS" in cell.source and "### END HIDDEN TESTS" in cell.source
        assert "assert" in cell.source.split("### BEGIN HIDDEN TESTS")[0], "no visible test"
    assert solutions and all("### BEGIN SOLUTION" in c.source for c in solutions)
    ids = [c.metadata.nbgrader.grade_id for c in nb.cells]
    assert len(ids) == len(set(ids)), "grade_ids must be unique"
    # committed without outputs
    assert all(not c.get("outputs") and c.get("execution_count") is None
               for c in nb.cells if c.cell_type == "code")


def _notebook(path, *sources):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nbformat.write(nb, str(path))
    return path


def test_find_leaks_reports_markers_and_secret_lines(tmp_path):
    source = _notebook(
        tmp_path / "source.ipynb",
        "def f(x):\n    ### BEGIN SOLUTION\n    return x * 41 + 1\n    ### END SOLUTION",
        "assert f(1) == 42\n### BEGIN HIDDEN TESTS\nassert f(2) == 83\n### END HIDDEN TESTS",
    )
    assert grading.secret_lines(source) == {"return x * 41 + 1", "assert f(2) == 83"}
    clean = _notebook(
        tmp_path / "clean.ipynb",
        "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()",
        "assert f(1) == 42",
    )
    assert grading.find_leaks(source, clean) == []
    leaky = _notebook(tmp_path / "leaky.ipynb", "def f(x):\n    return x * 41 + 1", "assert f(1) == 42")
    assert grading.find_leaks(source, leaky) == ["secret line in leaky.ipynb: 'return x * 41 + 1'"]
    hidden = _notebook(tmp_path / "hidden.ipynb", "assert f(1) == 42\n### BEGIN HIDDEN TESTS\n")
    leaks = grading.find_leaks(source, hidden)
    assert any("BEGIN HIDDEN TESTS" in leak for leak in leaks), leaks


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course_dir = tmp_path_factory.mktemp("course")
    return course_dir, grading.round_trip(EXPECTED, course_dir=course_dir)


@pytest.fixture(scope="module")
def round_trip(course):
    return course[1]


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPECTED)
def test_release_has_no_solution_and_no_hidden_test(round_trip, name):
    result = round_trip[name]
    assert result.leaks == []
    release = nbformat.read(str(result.release), as_version=4)
    stubs = [c for c in release.cells if "raise NotImplementedError()" in c.source]
    assert len(stubs) == len([c for c in _source(name).cells if "### BEGIN SOLUTION" in c.source])


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPECTED)
def test_solutions_get_full_marks(round_trip, name):
    result = round_trip[name]
    assert result.max_score == 10
    assert {c: s for c, (s, top) in result.solution_scores.items() if s != top} == {}


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPECTED)
def test_untouched_release_gets_zero_without_crashing_the_grader(round_trip, name):
    result = round_trip[name]
    # every graded cell of the release was scored (None would mean the grader gave up)
    assert set(result.untouched_scores) == set(result.solution_scores)
    assert {c: s for c, (s, _) in result.untouched_scores.items() if s != 0} == {}
    assert result.problems() == []


@pytest.mark.slow
def test_release_cli_writes_and_never_overwrites_without_force(tmp_path, capsys):
    out = tmp_path / "handout"
    assert grading.main(["release", str(out), "a1_color_spaces"]) == 0
    written = out / "a1_color_spaces" / "a1_color_spaces.ipynb"
    assert written.is_file()
    assert grading.find_leaks(grading.SOURCE_DIR / "a1_color_spaces" / "a1_color_spaces.ipynb", written) == []
    written.write_text(written.read_text() + " ")  # an instructor's edit
    edited = written.read_text()
    assert grading.main(["release", str(out), "a1_color_spaces"]) == 1
    assert "--force" in capsys.readouterr().err
    assert written.read_text() == edited


# Answers that pass every visible test but are wrong: only the hidden tests can catch them.
OVERFIT = {
    "a1_color_spaces": {
        "gray_baseline": (
            "def gray_baseline(gray):\n"
            "    return np.stack([gray, gray, gray], axis=-1)  # no clipping, no shape check\n"
        ),
    },
    "a3_joint_bilateral": {
        # correct in every way except that it ignores an explicit radius
        "joint_bilateral_filter": None,
    },
}
EXPECTED_OVERFIT_SCORES = {
    "a1_color_spaces": {"test_rgb_to_yuv": 4, "test_psnr": 4, "test_gray_baseline": 0},
    "a3_joint_bilateral": {
        "test_spatial_weights": 2,
        "test_joint_bilateral_reference": 0,
        "test_joint_bilateral_properties": 0,
    },
}


def _overfit_source(name, cell_id, code):
    if code is not None:
        return code
    # a3: the solution with the radius argument ignored
    solution = next(c.source for c in _source(name).cells if c.metadata.nbgrader.grade_id == cell_id)
    assert "    if radius is None:\n" in solution
    return solution.replace("    if radius is None:\n", "    if True:  # ignores radius\n")


@pytest.mark.slow
def test_hidden_tests_catch_answers_that_only_fit_the_visible_tests(course):
    course_dir, _ = course
    student = "overfit"
    for name, replacements in OVERFIT.items():
        nb = _source(name)
        for cell in nb.cells:
            cell_id = cell.metadata.nbgrader.grade_id
            if cell_id in replacements:
                cell.source = _overfit_source(name, cell_id, replacements[cell_id])
        target = course_dir / "submitted" / student / name
        target.mkdir(parents=True)
        nbformat.write(nb, str(target / f"{name}.ipynb"))
    grading.nbgrader(["autograde", "--assignment=*", f"--student={student}", "--force"], course_dir)
    for name, expected in EXPECTED_OVERFIT_SCORES.items():
        scores = {cell: score for cell, (score, _) in grading.read_scores(course_dir, name, student).items()}
        assert scores == expected, name
