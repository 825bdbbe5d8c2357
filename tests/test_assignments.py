"""The graded assignments: nbgrader's real round trip (release, leak check, autograde).

One course directory for all assignments (one ``generate_assignment`` and one ``autograde``
run): the solutions must get full marks (the written answers given their points by the
scripted grader), the untouched student release zero on every graded cell (its blank written
answers scored 0 by nbgrader itself, never sent to a person), the grader must score every cell
without crashing, the payoff pictures must appear for the solutions and must not crash the
blank release, and nothing secret may reach the release.
"""

from __future__ import annotations

import nbformat
import pytest

from colorcourse import grading

EXPECTED = [
    "a1_color_spaces", "a2_pixel_features", "a3_joint_bilateral", "a4_fusion_layer", "a5_joint_loss",
    "a6_old_photographs", "a7_levin_scribbles",
]


def _source(name):
    return nbformat.read(str(grading.SOURCE_DIR / name / f"{name}.ipynb"), as_version=4)


def test_the_assignments_exist():
    assert set(EXPECTED) <= set(grading.assignment_names())


def _auto_graded(nb):
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
            and not c.metadata.nbgrader.get("solution")]


def _written(nb):
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
            and c.metadata.nbgrader.get("solution")]


@pytest.mark.parametrize("name", EXPECTED)
def test_source_is_a_well_formed_nbgrader_notebook(name):
    nb = _source(name)
    graded = _auto_graded(nb)
    solutions = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert 2 <= len(graded) <= 5, [c.metadata.nbgrader.grade_id for c in graded]
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


@pytest.mark.parametrize("name", EXPECTED)
def test_each_assignment_has_a_written_question_graded_by_hand(name):
    nb = _source(name)
    written = _written(nb)
    assert written, "no written answer cell"
    assert grading.written_answer_cells(grading.SOURCE_DIR / name / f"{name}.ipynb") == {
        c.metadata.nbgrader.grade_id: float(c.metadata.nbgrader.points) for c in written}
    for cell in written:
        meta = cell.metadata.nbgrader
        assert cell.cell_type == "markdown" and not meta.locked and meta.points >= 2
        # the whole answer is the instructor's rubric and model answer: blank in the release
        assert cell.source.startswith("### BEGIN SOLUTION") and cell.source.endswith("### END SOLUTION")
        assert "Rubric" in cell.source and "model answer" in cell.source
        question = nb.cells[nb.cells.index(cell) - 1]
        assert question.cell_type == "markdown" and question.metadata.nbgrader.locked
        assert "graded by hand" in question.source


@pytest.mark.parametrize("name", EXPECTED)
def test_each_assignment_ends_with_a_payoff_that_survives_a_blank_release(name):
    nb = _source(name)
    payoff = [c for c in nb.cells if c.metadata.nbgrader.grade_id.startswith("payoff") and c.cell_type == "code"]
    assert payoff, "no payoff cell"
    for cell in payoff:
        assert not cell.metadata.nbgrader.grade and cell.metadata.nbgrader.locked
        assert "except NotImplementedError:" in cell.source and "Finish the exercise" in cell.source
        assert "plt.show()" in cell.source


@pytest.mark.parametrize("name, given_away", [
    ("a2_pixel_features", ["skimage.feature.daisy(", "histograms=3", 'normalization="l1"', 'normalization="off"',
                           "reshape(h, w, 4, 8)"]),
    ("a4_fusion_layer", ["torch.cat", "F.interpolate", "align_corners=False"]),
])
def test_instructions_describe_and_do_not_dictate_code(name, given_away):
    public = [c.source for c in _source(name).cells if c.cell_type == "markdown"]
    for text in public:
        for code in given_away:
            assert code not in text, f"{name}'s instructions hand over {code!r}"


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
    source = _source(name)
    assert len(stubs) == len([c for c in source.cells if "### BEGIN SOLUTION" in c.source and c.cell_type == "code"])
    # each written answer is handed out blank: nbgrader's text stub, nothing of the rubric
    written = [c.metadata.nbgrader.grade_id for c in _written(source)]
    blank = {c.metadata.nbgrader.grade_id: c.source for c in release.cells
             if c.metadata.get("nbgrader", {}).get("grade_id") in written}
    assert blank == {grade_id: "YOUR ANSWER HERE" for grade_id in written}


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPECTED)
def test_solutions_get_full_marks(round_trip, name):
    result = round_trip[name]
    written_points = sum(grading.written_answer_cells(grading.SOURCE_DIR / name / f"{name}.ipynb").values())
    assert written_points > 0 and result.written
    assert result.max_score == 10 + written_points
    assert {c: s for c, (s, top) in result.solution_scores.items() if s != top} == {}


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPECTED)
def test_blank_written_answers_get_zero_without_a_person(round_trip, name):
    result = round_trip[name]
    assert result.untouched_needs_person == []
    assert {c: result.untouched_scores[c] for c in result.written} == {
        c: (0.0, result.solution_scores[c][1]) for c in result.written}


def _outputs(course_dir, student, name, grade_id):
    nb = nbformat.read(str(course_dir / "autograded" / student / name / f"{name}.ipynb"), as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    return cell.outputs


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPECTED)
def test_payoff_shows_a_picture_for_the_solutions_and_a_hint_for_the_blank_release(course, name):
    course_dir, _ = course
    solved = _outputs(course_dir, grading.SOLUTIONS_STUDENT, name, "payoff")
    assert not [o for o in solved if o.output_type == "error"], solved
    assert any("image/png" in o.get("data", {}) for o in solved), "the payoff showed no picture"
    blank = _outputs(course_dir, grading.UNTOUCHED_STUDENT, name, "payoff")
    assert not [o for o in blank if o.output_type == "error"], blank
    assert "Finish the exercises above" in "".join(o.get("text", "") for o in blank)


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
        # the derived inverse, clipped: right inside the gamut (the visible test), hides what is not
        "yuv_to_rgb": ("    return np.stack([r, g, b], axis=-1)", "    return np.clip(np.stack([r, g, b], axis=-1), 0, 1)"),
    },
    "a2_pixel_features": {
        # per histogram, but 0 / 0 in a flat neighbourhood (no epsilon): NaN where the image is flat
        "daisy_per_histogram": ("    hist = raw.reshape(h, w, 4, 8) + 1e-10", "    hist = raw.reshape(h, w, 4, 8)"),
    },
    "a3_joint_bilateral": {
        # correct in every way except that it ignores an explicit radius
        "joint_bilateral_filter": None,
    },
    "a4_fusion_layer": {
        # splits the weights in two halves: right when C_global = C_mid (the visible network), not otherwise
        "fusion_layer_split": ("    c_global = global_vec.shape[1]", "    c_global = conv.weight.shape[1] // 2"),
    },
    "a6_old_photographs": {
        # the same grain field and scratches on every training photo: a fixed seed instead of a new one
        "training_pair": ("seed=int(rng.integers(2**31))", "seed=0"),
    },
    "a5_joint_loss": {
        # the textbook formula: right on the visible batch, nan for big logits or no labels
        "cross_entropy": (
            "def cross_entropy(logits, labels):\n"
            "    keep = labels >= 0\n"
            "    p = torch.exp(logits) / torch.exp(logits).sum(dim=1, keepdim=True)\n"
            "    return -torch.log(p[keep, labels[keep]]).mean()\n"
        ),
    },
    "a7_levin_scribbles": {
        # the window padded with copies of the border pixels: right away from the border (the
        # visible test), wrong neighbours and variances on it
        "levin_weights": (
            'def levin_weights(y, floor):\n'
            '    y = np.asarray(y, dtype=np.float64)\n'
            '    h, w = y.shape\n'
            "    p = np.pad(y, 1, mode='edge')\n"
            '    wins = np.stack([p[1 + dy:1 + dy + h, 1 + dx:1 + dx + w] for dy in (-1, 0, 1) for dx in (-1, 0, 1)])\n'
            '    sigma2 = np.maximum(VARIANCE_SCALE * wins.var(axis=0), floor)\n'
            "    index = np.pad(np.arange(h * w).reshape(h, w), 1, mode='edge')\n"
            '    W = sp.lil_matrix((h * w, h * w))\n'
            '    for dy in (-1, 0, 1):\n'
            '        for dx in (-1, 0, 1):\n'
            '            if (dy, dx) != (0, 0):\n'
            '                wt = np.exp(-(y - p[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]) ** 2 / (2 * sigma2))\n'
            '                cols = index[1 + dy:1 + dy + h, 1 + dx:1 + dx + w].ravel()\n'
            '                for r in range(h * w):\n'
            '                    W[r, cols[r]] += wt.ravel()[r]\n'
            '    W = sp.csr_matrix(W)\n'
            '    return sp.diags(1 / np.asarray(W.sum(axis=1)).ravel()) @ W\n'
        ),
        # a floor so large that one gray level of noise is no edge, and neither is a real one
        "floor": "FLOOR = 1e-2\n",
    },
}
EXPECTED_OVERFIT_SCORES = {
    "a1_color_spaces": {"test_rgb_to_yuv": 3, "test_psnr": 3, "test_gray_baseline": 0, "test_yuv_to_rgb": 0},
    "a3_joint_bilateral": {
        "test_spatial_weights": 2,
        "test_joint_bilateral_reference": 0,
        "test_joint_bilateral_properties": 0,
    },
    # the naive cross-entropy also sinks the joint loss and the training step (no labels: nan)
    "a5_joint_loss": {
        "test_chroma_mse": 2, "test_cross_entropy": 0, "test_logits_gradient": 2,
        "test_joint_loss": 0, "test_train_step": 0,
    },
    "a2_pixel_features": {"test_patch_features": 2, "test_daisy_features": 2, "test_daisy_per_histogram": 0,
                          "test_predict_uv": 3},
    "a4_fusion_layer": {"test_tile_global": 1, "test_global_features": 2, "test_fusion_layer_reference": 2,
                        "test_fusion_layer_properties": 2, "test_fusion_layer_split": 0},
    "a6_old_photographs": {"test_color_psnr": 2, "test_degradation_table": 3, "test_harm_table": 2,
                           "test_load_scans": 1, "test_training_pair": 0},
    # the weights' border mistake runs through the system and the solve (their visible tests see it)
    "a7_levin_scribbles": {"test_weights": 0, "test_floor": 0, "test_system": 0, "test_solve": 0},
}


def _overfit_source(name, cell_id, code):
    if isinstance(code, tuple):  # (solution line, wrong line): the solution with one mistake
        solution = next(c.source for c in _source(name).cells if c.metadata.nbgrader.grade_id == cell_id)
        assert code[0] in solution, (name, cell_id, code[0])
        return solution.replace(code[0], code[1])
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
    grading.nbgrader(["autograde", "--assignment=*", f"--student={student}", "--force"], course_dir,
                     timeout=grading.AUTOGRADE_SECONDS_PER_ASSIGNMENT * len(OVERFIT))
    for name, expected in EXPECTED_OVERFIT_SCORES.items():
        scores = grading.read_scores(course_dir, name, student)
        written = grading.written_answer_cells(grading.SOURCE_DIR / name / f"{name}.ipynb")
        # the written answers wait for a person: only the automatic scores are compared
        auto = {cell: score for cell, (score, _) in scores.items() if cell not in written}
        assert auto == expected, name
        assert set(grading.needs_person(course_dir, name, student)) == set(written)
