"""The README's settings table is the one `tap-tiktok --about --format=markdown` prints."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import TAP_EXECUTABLE

README = Path(__file__).resolve().parents[1] / "README.md"


def settings_rows(markdown: str) -> list[str]:
    start = markdown.index("| Setting |")
    rows = []
    for line in markdown[start:].splitlines():
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def test_readme_settings_table_is_current():
    about = subprocess.run(
        [TAP_EXECUTABLE, "--about", "--format=markdown"], capture_output=True, text=True, check=True
    ).stdout
    assert settings_rows(README.read_text()) == settings_rows(about)


def test_readme_gives_the_test_command_that_ci_runs():
    readme = README.read_text()
    ci = (README.parent / ".ci" / "run").read_text()
    assert "python -m pytest" in readme
    assert "\npython -m pytest\n" in ci
