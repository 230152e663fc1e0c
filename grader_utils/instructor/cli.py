"""The instructor's command line: ``cnn-course`` or ``python -m grader_utils``.

    cnn-course release [ASSIGNMENT ...]          student versions in release/ (nbgrader generate_assignment), and
                                                 each edition's (editions/<language>/: catalogs, source, release)
    cnn-course translations [--check]            refresh the translation catalogs from the English; what is left
    cnn-course demo                              the demo class: submitted/ from demo/, its roster
    cnn-course roster FILE                       students into the gradebook from a CSV
    cnn-course grade ASSIGNMENT [ASSIGNMENT ...] [--jobs N] [--student ID ...] [--scheduler ADDR]
    cnn-course engine ASSIGNMENT [--student ID ...]   the trusted engine alone, one submission at a time
    cnn-course feedback ASSIGNMENT [--student ID ...]
    cnn-course table ASSIGNMENT [--json]         points per student and exercise
    cnn-course report ASSIGNMENT [--to FILE]
    cnn-course export --format csv|grades|canvas|moodle [--to FILE] [--assignment NAME ...]

Run it in the course directory (or pass ``--root``). The Makefile's targets call it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..grading.layout import CourseLayout, course_db_url

__all__ = ["main", "build_parser"]


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--root", type=Path, default=Path.cwd(), help="course directory (default: the current one)")
    p.add_argument(
        "--db-url",
        default=None,
        help="gradebook URL (default: the course's CourseDirectory.db_url, "
        "else sqlite:///<root>/gradebook.db); e.g. postgresql://...",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cnn-course", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    g = sub.add_parser(
        "grade",
        help="autograde submissions in parallel, each in its own sandboxed kernel",
        description="Autograde submitted/<student>/ASSIGNMENT/ for every student (or those given): "
        "nbgrader's autograde with sandboxed kernels, then the trusted engine's verdicts. "
        "A broken submission affects only its student; every auto score is replaced.",
    )
    g.add_argument("assignment", nargs="+", help="one or more assignments (graded by the same workers)")
    g.add_argument(
        "--jobs", "-j", type=int, default=os.cpu_count() or 1, help="worker processes (default: the number of CPUs)"
    )
    g.add_argument("--student", action="append", help="grade only this student (repeatable)")
    g.add_argument(
        "--scheduler",
        help="address of a Dask scheduler (e.g. tcp://10.0.0.5:8786): run the tasks on "
        "its workers, which need this course directory at the same path",
    )
    g.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds per submission before it is stopped (default: 600 per notebook)",
    )
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    g.add_argument(
        "--no-preflight",
        action="store_true",
        help="skip the check of the grading environment before the run (the instructor's solution graded, a "
        "sandboxed kernel started); failures the environment shares are still told from the students'",
    )
    _common(g)

    f = sub.add_parser(
        "feedback",
        help="write feedback HTML (hidden tests never shown)",
        description="nbgrader generate_feedback for the graded submissions: "
        "feedback/<student>/ASSIGNMENT/<notebook>.html",
    )
    f.add_argument("assignment")
    f.add_argument("--student", action="append", help="only this student (repeatable)")
    _common(f)

    e = sub.add_parser(
        "export",
        help="export grades for a spreadsheet or an LMS",
        description="Write the gradebook as a per-exercise CSV, nbgrader's CSV layout (grades), a Canvas "
        "gradebook import or a Moodle grade import file (see grader_utils/exporters.py for the columns); every "
        "cell is inert in a spreadsheet (no formulas).",
    )
    e.add_argument("--format", choices=["csv", "grades", "canvas", "moodle"], default="csv")
    e.add_argument("--to", type=Path, default=None, help="output file (default: grades-<format>.csv)")
    e.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
    e.add_argument(
        "--identifier",
        choices=["email", "username", "lms_user_id"],
        default=None,
        help="moodle: the column Moodle matches users by (default: email)",
    )
    _common(e)

    rel = sub.add_parser(
        "release",
        help="generate the student versions in release/ and each edition's (all assignments by default)",
        description="nbgrader generate_assignment for each assignment of source/: solutions and "
        "hidden tests removed, the gradebook's points updated. Then, for each edition in editions/<language>/: "
        "its catalogs refreshed from the English, its source/ and config built from the course's and the "
        "translations, and its release/ generated the same way (docs/translating.md).",
    )
    rel.add_argument("assignment", nargs="*", help="assignments (default: every folder of source/)")
    rel.add_argument("--no-editions", action="store_true", help="the English release/ only")
    _common(rel)

    tr = sub.add_parser(
        "translations",
        help="refresh the translation catalogs (.po) from the English and say what is left to translate",
        description="For every edition (editions/<language>/): the grader's messages "
        "(grader_utils/locale/<language>/LC_MESSAGES/grader.po) and each notebook's Markdown "
        "(editions/<language>/locale/<assignment>/<notebook>.po) brought up to date with the English: new texts "
        "untranslated, changed ones fuzzy (their old translation kept for the translator), vanished ones obsolete. "
        "Exits 1 when something is left to translate.",
    )
    tr.add_argument("--check", action="store_true", help="only report, write nothing")
    tr.add_argument("--list", action="store_true", help="list every untranslated or fuzzy text")
    _common(tr)

    d = sub.add_parser(
        "demo",
        help="write the demo class's submissions (submitted/ from demo/ and release/)",
        description="Build submitted/<student>/<assignment>/ from demo/<assignment>/<student>.py and "
        "the release notebooks, and load demo/students.csv into the gradebook.",
    )
    _common(d)

    ro = sub.add_parser(
        "roster",
        help="load students into the gradebook from a CSV",
        description="Create or update students from a CSV with nbgrader's columns "
        "(id, first_name, last_name, email, lms_user_id).",
    )
    ro.add_argument("file", type=Path)
    _common(ro)

    ck = sub.add_parser(
        "check",
        help="before release: how each graded cell will be graded, and what the secure grader cannot grade",
        description="For every notebook of source/ASSIGNMENT/: each graded cell and how it is graded (an ordinary "
        "test cell run in the grading process, the course's check_* diagnosis, or by hand), and every test cell "
        "the secure grader cannot grade, as (cell, line, reason). Exits 1 when there is any.",
    )
    ck.add_argument("assignment")
    _common(ck)

    t = sub.add_parser("table", help="print the per-student, per-exercise score table")
    t.add_argument("assignment")
    t.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _common(t)

    en = sub.add_parser(
        "engine",
        help="grade with the trusted engine alone (no nbgrader autograde)",
        description="Grade submitted/<student>/ASSIGNMENT/ one submission at a time with the "
        "sandboxed engine: records, autograded outputs and gradebook scores.",
    )
    en.add_argument("assignment")
    en.add_argument("--student", action="append", help="grade only this student (repeatable)")
    _common(en)

    r = sub.add_parser(
        "report",
        help="HTML class report with figures",
        description="Score distribution, pass rate per exercise and the diagnosed mistakes of a class.",
    )
    r.add_argument("assignment")
    r.add_argument("--to", type=Path, default=None, help="output file (default: reports/<assignment>.html)")
    _common(r)
    return parser


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="submission", disable=not enabled, file=sys.stderr, dynamic_ncols=True)


def _grade(args: argparse.Namespace) -> int:
    from .pipeline import grade_assignments, submissions

    root = args.root.resolve()
    total = sum(len(set(submissions(root, a, args.student)) | set(args.student or [])) for a in args.assignment)
    if total == 0:
        print(f"no submissions of {', '.join(args.assignment)} in {CourseLayout(root).submitted_dir}")
        return 1
    where = f"Dask scheduler {args.scheduler}" if args.scheduler else f"{args.jobs} worker(s)"
    print(f"grading {total} submission(s) of {', '.join(args.assignment)} with {where}", flush=True)
    bar = _progress(total, not args.no_progress)

    def done(outcome) -> None:
        bar.set_postfix_str(f"{outcome.student}: {outcome.status}", refresh=False)
        bar.update(1)

    outcomes = grade_assignments(
        root,
        args.assignment,
        args.student,
        jobs=args.jobs,
        db_url=args.db_url,
        scheduler=args.scheduler,
        task_seconds=args.timeout,
        on_done=done,
        preflight=not args.no_preflight,
    )
    bar.close()
    print(summary(outcomes))
    from ..grading.records import SubmissionStatus

    if any(o.status == SubmissionStatus.ENVIRONMENT for o in outcomes):
        print(
            "NOTE: submissions marked 'not graded (environment)' were not graded because the grading environment "
            "failed, not the students: their previous grades are kept. Fix the cause named above, then run the "
            "same command again (docs/instructor-guide.md#when-the-grading-environment-fails)."
        )
        return 2
    return 0


def summary(outcomes) -> str:
    """A table per submission and a line of counts: graded / failed / timed out / not graded (environment),
    with reasons. The score is after nbgrader's late penalty (as the exports count it); the notes say how much
    the penalty took off."""
    from ..grading.records import SubmissionStatus

    counts = {k.value: sum(o.status == k for o in outcomes) for k in SubmissionStatus}
    several = len({o.assignment for o in outcomes}) > 1
    label = (lambda o: f"{o.student} ({o.assignment})") if several else (lambda o: o.student)
    width = max([len(label(o)) for o in outcomes] + [7])
    status_width = max([len(_status_text(o)) for o in outcomes] + [7])
    lines = [f"{'student':<{width}}  {'status':<{status_width}}  {'score':>11}  {'seconds':>7}  notes"]
    for o in outcomes:
        late = [f"late: {o.late_penalty:g} point(s) off"] if o.late_penalty else []
        notes = "; ".join(late + ([o.reason] if o.reason else []) + o.problems[:3])
        score = f"{o.score:g}/{o.max_score:g}" if o.max_score else "-"
        lines.append(f"{label(o):<{width}}  {_status_text(o):<{status_width}}  {score:>11}  {o.seconds:7.1f}  {notes}")
    lines.append(
        f"{counts['graded']} graded, {counts['failed']} failed, {counts['timeout']} timed out, "
        f"{counts['environment']} not graded (environment) "
        f"(records: autograded/<student>/<assignment>/<notebook>.grading.json)"
    )
    return "\n".join(lines)


def _status_text(outcome) -> str:
    """The status column: an environment failure is "not graded", never a student's failure."""
    from ..grading.records import SubmissionStatus

    return "not graded (environment)" if outcome.status == SubmissionStatus.ENVIRONMENT else str(outcome.status)


def _feedback(args: argparse.Namespace) -> int:
    from .submission import _api

    root = args.root.resolve()
    api = _api(root, course_db_url(root, args.db_url))
    failed = 0
    for student in args.student or [None]:
        result = api.generate_feedback(args.assignment, student, force=True)
        if not result["success"]:
            failed += 1
            print(f"feedback for {student or 'all students'} failed:\n{result.get('error') or result.get('log')}")
    print(f"feedback: {CourseLayout(root).feedback_dir}/<student>/{args.assignment}/")
    return 1 if failed else 0


def _export(args: argparse.Namespace) -> int:
    from .exporters import export

    root = args.root.resolve()
    out = args.to or CourseLayout(root).export_file(args.format)
    options = {"identifier": args.identifier} if args.format == "moodle" and args.identifier else {}
    try:
        path = export(course_db_url(root, args.db_url), args.format, out, args.assignment, **options)
    except ValueError as exc:  # e.g. students without the identifier Moodle needs
        print(f"{args.format} export not written: {exc}")
        return 1
    print(f"{args.format} export written to {path}")
    from nbgrader.api import Gradebook

    from .exporters import needs_manual_grading

    with Gradebook(course_db_url(root, args.db_url)) as gb:
        pending = needs_manual_grading(gb, args.assignment)
    for assignment, students in pending.items():
        cells = "; ".join(f"{s} ({', '.join(c)})" for s, c in sorted(students.items()))
        print(f"note: {assignment}: answers that need manual grading count 0 until graded: {cells}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from .report import write_report

    root = args.root.resolve()
    out = args.to or CourseLayout(root).report(args.assignment)
    out.parent.mkdir(parents=True, exist_ok=True)
    path = write_report(root, args.assignment, out, db_url=course_db_url(root, args.db_url))
    print(f"class report written to {path}")
    return 0


def _generate(layout: CourseLayout, assignments: list[str], label: str = "") -> int:
    from .submission import _api

    api = _api(layout.root, layout.db_url)
    for assignment in assignments:
        print(f"== release {label}{assignment}", flush=True)
        result = api.generate_assignment(assignment, force=True)
        if not result["success"]:
            print(result.get("error") or result.get("log"))
            return 1
    return 0


def _release(args: argparse.Namespace) -> int:
    from .editions import build_edition, editions, refresh_catalogs

    layout = CourseLayout(args.root, args.db_url)
    assignments = args.assignment or layout.assignments()
    if _generate(layout, assignments):
        return 1
    if args.no_editions:
        return 0
    languages = editions(layout.root)
    if not languages:
        return 0
    todo = [r for r in refresh_catalogs(layout.root) if r.new or r.fuzzy or r.changed]
    for report in todo:
        print(f"== catalog {report.line(layout.root)}")
    for language in languages:
        edition = build_edition(layout.root, language)
        for line in edition.lines(layout.root):
            print(f"NOTE: {line} (translate it in the catalog: docs/translating.md)")
        if _generate(layout.edition(language), assignments, f"{language}/"):
            return 1
    return 0


def _translations(args: argparse.Namespace) -> int:
    from .editions import refresh_catalogs

    root = args.root.resolve()
    reports = refresh_catalogs(root, write=not args.check)
    left = 0
    for report in reports:
        print(report.line(root))
        left += len(report.new) + len(report.fuzzy)
        if args.list:
            for text in report.new:
                print("   untranslated:", text.replace("\n", " ")[:110])
            for text in report.fuzzy:
                print("   fuzzy:       ", text.replace("\n", " ")[:110])
    if not reports:
        print("no editions: editions/<language>/locale/ is where an edition's catalogs live (docs/translating.md)")
    print(f"{left} text(s) to translate" if left else "every catalog is translated")
    return 1 if left else 0


def _demo(args: argparse.Namespace) -> int:
    from .demo import build_demo_class

    for student, assignment in build_demo_class(args.root.resolve(), args.db_url):
        print(f"demo submission: {student} / {assignment}")
    return 0


def _roster(args: argparse.Namespace) -> int:
    from .roster import load_roster

    ids = load_roster(args.file, course_db_url(args.root, args.db_url))
    print(f"{len(ids)} student(s) in the gradebook")
    return 0


def _check(args: argparse.Namespace) -> int:
    from ..cells import check_notebook

    layout = CourseLayout(args.root)
    notebooks = layout.source_notebooks(args.assignment)
    if not notebooks:
        print(f"no notebooks in {layout.source(args.assignment)}")
        return 1
    found = 0
    for path in notebooks:
        plans, problems = check_notebook(path)
        print(f"{args.assignment}/{path.name}")
        for plan in plans:
            print(f"  {plan.grade_id} ({plan.points:g} points): {plan.how}")
        for problem in problems:
            print(f"  CANNOT GRADE {problem}")
        found += len(problems)
    print(f"{found} problem(s)" if found else "every test cell can be graded")
    return 1 if found else 0


def _table(args: argparse.Namespace) -> int:
    import json

    from .table import format_table, score_table

    result = score_table(course_db_url(args.root, args.db_url), args.assignment)
    print(json.dumps(result, indent=1, sort_keys=True) if args.json else format_table(result))
    return 0


def _engine(args: argparse.Namespace) -> int:
    from ..grading.secure_grade import secure_grade

    graded = secure_grade(args.root, args.assignment, args.student, db_url=args.db_url)
    for student, notebooks in sorted(graded.items()):
        for name, results in notebooks.items():
            problems = [f"{r.grade_id}: {r.status}" for r in results if not r.status.is_verdict]
            score = sum(r.score for r in results)
            total = sum(r.max_score for r in results)
            print(
                f"{student:>12} {name}: {score:g}/{total:g} verified by the sandboxed grader"
                + (f" ({', '.join(problems)})" if problems else "")
            )
    return 0


COMMANDS = {
    "release": _release,
    "translations": _translations,
    "demo": _demo,
    "roster": _roster,
    "grade": _grade,
    "engine": _engine,
    "feedback": _feedback,
    "check": _check,
    "table": _table,
    "report": _report,
    "export": _export,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return COMMANDS[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
