"""Fault tests: the processes' last log lines on a failure, and a table of recovery times."""

from dataclasses import dataclass
from pathlib import Path

import pytest

LOG_LINES = 40
LINE_CHARS = 400  # a JSON line with a traceback runs to pages


@dataclass
class Recovery:
    fault: str
    seconds: float
    bound: float | None
    lost: int
    duplicated: int


MEASURED: list[Recovery] = []


class Recoveries:
    def record(
        self, fault: str, seconds: float, *, lost: int, duplicated: int, bound: float | None = None
    ) -> None:
        measured = Recovery(fault, seconds, bound, lost, duplicated)
        MEASURED.append(measured)
        print(_row(measured))  # shown with -s or -rP, and in the failure report


@pytest.fixture
def recoveries() -> Recoveries:
    return Recoveries()


def _row(measured: Recovery) -> str:
    bound = f"{measured.bound:.0f} s" if measured.bound is not None else "-"
    return (
        f"| {measured.fault} | {measured.seconds:.1f} s | {bound} "
        f"| {measured.lost} | {measured.duplicated} |"
    )


def pytest_terminal_summary(terminalreporter) -> None:
    if not MEASURED:
        return
    terminalreporter.section("fault recovery")
    terminalreporter.write_line("| fault | recovery | bound | lost | duplicated |")
    terminalreporter.write_line("| --- | --- | --- | --- | --- |")
    for measured in MEASURED:
        terminalreporter.write_line(_row(measured))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed fault test shows the end of each process's log (tests register their services
    in item.services), so the report says what the worker was doing."""
    report = yield
    if report.when == "call" and report.failed:
        for service in getattr(item, "services", []):
            for log in sorted(Path(service.logs).glob("*.log")):
                lines = log.read_text(errors="replace").splitlines()[-LOG_LINES:]
                text = "\n".join(line[:LINE_CHARS] for line in lines)
                report.sections.append((f"last lines of {log}", text))
    return report
