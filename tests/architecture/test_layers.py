"""The architecture's rules hold: the import contracts (docs/architecture.md), no oversized source
file without a stated reason, and the map names every package."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("citypass", "ledger_node", "oracles", "edge_oracle", "indexer", "api", "demo",
               "scripts", "bench")  # fmt: skip
MAX_LINES = 500
# A longer file must say why on its first line, e.g. "# over 500 lines: one table of ...".
LONG_FILE_REASON = re.compile(r"^#.*over 500 lines:", re.IGNORECASE)


def test_import_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_no_source_file_over_500_lines_without_a_reason() -> None:
    too_long = []
    for folder in SOURCE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            lines = path.read_text().splitlines()
            if len(lines) > MAX_LINES and not (lines and LONG_FILE_REASON.match(lines[0])):
                too_long.append(f"{path.relative_to(ROOT)}: {len(lines)} lines")
    assert not too_long, "split these or state why on the first line:\n" + "\n".join(too_long)


def test_the_map_names_every_package() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    packages = [p.parent for p in ROOT.glob("*/__init__.py") if p.parent.name != "tests"]
    packages += [p.parent for p in (ROOT / "citypass").glob("*/__init__.py")]
    missing = [
        str(p.relative_to(ROOT)) for p in packages if f"`{p.relative_to(ROOT)}/`" not in text
    ]
    assert not missing, f"docs/architecture.md does not name: {missing}"
