"""nbgrader configuration of the CNN course (this directory is the course directory)."""

import os

c = get_config()  # noqa: F821  (provided by nbgrader/traitlets)

HERE = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "cnn-course"
c.CourseDirectory.root = HERE

# Student versions: the stub that replaces every solution region.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Autograding. TensorFlow needs a few seconds to import in a fresh kernel; 120 s per
# cell leaves room for a slow laptop while still stopping a runaway loop.
c.Execute.timeout = 120
c.Execute.startup_timeout = 120
# A deleted test cell is put back and graded (0 if the code it tests is missing),
# instead of leaving the submission waiting for manual grading.
c.OverwriteCells.add_missing_cells = True

# Feedback: never show the source of hidden tests (nbgrader shows it by default,
# issues #917 and #1363); see grader_utils/grading/nbgrader_plugins.py. Besides generate_feedback, the
# Formgrader's manual-grading page also renders submissions with HTMLExporter and this config, so these
# preprocessors run there too (the instructor's view hides the hidden tests' source as well; the exporter
# class below, with the page's Content-Security-Policy, is generate_feedback's only).
#
# Feedback is inert (issue #11, item 7): nothing a student wrote or printed can run script or load remote
# content in the feedback page (a student's display(HTML("<script>...")) would otherwise run in the browser of
# whoever opens it, e.g. the instructor in the formgrader). InertOutputs keeps only text, PNG/JPEG and
# allow-list-sanitized HTML in outputs and Markdown; the exporter sanitizes HTML from Markdown again and gives
# every page a Content-Security-Policy (no script, images only as data: URIs, nothing remote) and CSS that
# wraps long test messages. The policy also blocks the MathJax that nbgrader's feedback template loads from a
# CDN: formulas in feedback show as LaTeX source. See grader_utils/grading/inert_feedback.py.
# (set by grader_utils.nbgrader_setup below).

# Exchange (release/fetch/submit and JupyterLab's Assignments panel): nbgrader's default,
# /srv/nbgrader/exchange, unless NBGRADER_EXCHANGE_ROOT names another folder. `make lab` sets it
# to exchange/ in this directory, so one person can try both the instructor and the student side.
if os.environ.get("NBGRADER_EXCHANGE_ROOT"):
    c.Exchange.root = os.environ["NBGRADER_EXCHANGE_ROOT"]

# Autograding runs each student's kernel in the bubblewrap sandbox and makes the trusted engine's calls
# in it at each test cell (one run per notebook; verdicts computed here, fail closed); see
# grader_utils/grading/graded_run.py and docs/security.md. `nbgrader validate` (students' machines) is unchanged.
# The same call makes any nbgrader course grade this way (docs/any-course.md); it also sets the feedback's
# exporter and preprocessors described above.
import grader_utils  # noqa: E402

grader_utils.nbgrader_setup(c)
