"""Figures: each printed beside its baseline, the ratio, the target and PASS/MISS, and kept
with everything else measured in bench/results/<store>-<timestamp>.json."""

from __future__ import annotations

import json
import math
import os
import platform
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Figure:
    name: str
    measured: float | None  # None: could not be measured (the note says why)
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    passed: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.measured is None or not self.baseline:
            return None
        return self.measured / self.baseline


def at_least(value: float | None, floor: float) -> bool | None:
    return None if value is None or math.isnan(value) else value >= floor


def at_most(value: float | None, ceiling: float) -> bool | None:
    return None if value is None or math.isnan(value) else value <= ceiling


def both(*checks: bool | None) -> bool | None:
    if any(c is None for c in checks):
        return None
    return all(checks)


def _num(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "model": model,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "date": datetime.now(timezone.utc).isoformat(),
        # Colleagues' work on the same machine shows here: compare CPU per request, not rates, when it is high.
        "load_average_at_end": os.getloadavg(),
    }


@dataclass
class Report:
    store: str
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        print(self.line(figure), flush=True)
        return figure

    @staticmethod
    def line(f: Figure) -> str:
        verdict = {True: "PASS", False: "MISS", None: "-"}[f.passed]
        measured = f"{_num(f.measured)} {f.unit}" if f.measured is not None else (f.note or "n/a")
        baseline = f"{_num(f.baseline)} ({f.baseline_name})" if f.baseline is not None else (f.baseline_name or "")
        ratio = f"{f.ratio:.2f}x" if f.ratio is not None else ""
        return f"{f.name:<54} {measured:>22}  {baseline:<34} {ratio:>7}  {f.target:<26} {verdict}"

    def table(self) -> str:
        head = f"{'figure':<54} {'measured':>22}  {'baseline':<34} {'ratio':>7}  {'target':<26} verdict"
        return "\n".join([head, "-" * len(head), *(self.line(f) for f in self.figures)])

    def save(self) -> Path:
        RESULTS.mkdir(exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        path = RESULTS / f"{self.store}-{stamp}.json"
        figures = [{**asdict(f), "ratio": f.ratio} for f in self.figures]
        path.write_text(json.dumps({"store": self.store, "machine": machine(), "figures": figures, "details": self.details}, indent=2, default=str, ensure_ascii=False))
        return path
