"""Benchmark: margins of the graded training check of 03 (issue #12, item 11).

Runs the real check, as the trusted engine does (model and compile settings as JSON, rebuilt, trained
and judged in this process), on two families of answers (tests/training_families.py): models that
follow the exercise, which must all pass, and broken ones, which must all fail (plus, shown for the
record, answers the exercise's visible checks refuse before training: too few filters, plain SGD), each with several
seeds (the seed picks the synthetic data and the initial weights). Prints per answer the test accuracy
over the seeds and the time per run, then the margins: the lowest accuracy of a passing family
member and the highest of a broken one, against the bar (TRAINING_THRESHOLD).

    .venv/bin/python benchmarks/bench_training_check.py --seeds 0 1 2 3 4

Results go in docs/benchmarks.md (section "The training check of 03").
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from grader_utils.judge import training  # noqa: E402
from training_families import BROKEN, GOOD, REFUSED, graded_verdict  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--only", nargs="*", help="names of family members to run (default: all)")
    args = parser.parse_args(argv)
    print(
        f"graded training check: {training.TRAINING_N_TRAIN} images (contrast {training.TRAINING_CONTRAST}), "
        f"{training.TRAINING_EPOCHS} epochs, batch {training.TRAINING_BATCH}, "
        f"bar {training.TRAINING_THRESHOLD:.0%}; "
        f"seeds {args.seeds}; {platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    lowest_good, highest_broken, wrong = 1.0, 0.0, []
    refused = []
    for family, members in (("good", GOOD), ("broken", BROKEN), ("refused", REFUSED)):
        for name, (build, compile_fn) in members.items():
            if args.only and name not in args.only:
                continue
            accs, seconds = [], []
            for seed in args.seeds:
                start = time.perf_counter()
                result = graded_verdict(build, compile_fn, seed)
                seconds.append(time.perf_counter() - start)
                acc = result.got if isinstance(result.got, float) else 0.0  # no accuracy: it crashed
                accs.append(acc)
                if family == "refused":  # refused by the visible checks before training: shown, not judged
                    continue
                if result.passed != (family == "good"):
                    wrong.append(f"{name} seed {seed}: {result.message}")
            if family == "good":
                lowest_good = min(lowest_good, *accs)
            elif family == "broken":
                highest_broken = max(highest_broken, *accs)
            else:
                refused.append(f"{name} {max(accs):.1%}")
            print(
                f"{family:6s} {name:22s} accuracy min {min(accs):6.1%} max {max(accs):6.1%}  "
                f"[{' '.join(f'{a:.3f}' for a in accs)}]  {sum(seconds) / len(seconds):5.1f} s/run",
                flush=True,
            )
    bar = training.TRAINING_THRESHOLD
    print(
        f"lowest accuracy of a good answer: {lowest_good:.1%} (bar + {lowest_good - bar:+.1%}); "
        f"highest of a broken answer: {highest_broken:.1%} (bar {highest_broken - bar:+.1%})"
    )
    if refused:
        print("refused by the visible checks (highest accuracy it would reach): " + ", ".join(refused))
    for line in wrong:
        print("WRONG VERDICT:", line)
    print("every verdict right" if not wrong else f"{len(wrong)} wrong verdicts")
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
