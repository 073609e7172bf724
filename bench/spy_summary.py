"""Summarise a py-spy raw profile (``py-spy record --format raw``): where the sampled CPU time went.

``python bench/spy_summary.py local-bench-burst.txt [--top 25]`` prints the share of samples by the function on
top of the stack (self time), and by the first frame of this project's code under it (which part of the local
stack was running, including time spent in the standard library on its behalf). Used with
``bench/local_bench.py --py-spy PATH``.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<function>.+?) \((?P<file>[^():]+(?::\d+)?)\)$")
OURS = ("streaming_bedrock_local/", "bench/")


def _frames(stack: str) -> list[tuple[str, str]]:
    frames = []
    for raw in stack.split(";"):
        match = _FRAME.match(raw.strip())
        if match is None:
            continue  # e.g. the thread root added by --threads
        file = match.group("file").rsplit(":", 1)[0]
        frames.append((match.group("function"), file))
    return frames


def _short(file: str) -> str:
    for marker in (*OURS, "python3.11/", "site-packages/"):
        if marker in file:
            return file.split(marker, 1)[1] if marker not in OURS else marker + file.split(marker, 1)[1]
    return Path(file).name


def summarise(path: Path, top: int) -> str:
    self_time: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    total = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = _frames(stack)
        if not frames:
            continue
        total += count
        function, file = frames[-1]
        self_time[f"{function} ({_short(file)})"] += count
        project = [f for f in frames if any(marker in f[1] for marker in OURS)]
        where = f"{project[-1][0]} ({_short(project[-1][1])})" if project else "(no project frame)"
        ours[where] += count
    lines = [f"{total} samples"]
    lines.append("self time (function on top of the stack):")
    lines += [f"  {100 * n / total:5.1f} %  {name}" for name, n in self_time.most_common(top)]
    lines.append("by the innermost project function on the stack:")
    lines += [f"  {100 * n / total:5.1f} %  {name}" for name, n in ours.most_common(top)]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    print(summarise(args.profile, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
