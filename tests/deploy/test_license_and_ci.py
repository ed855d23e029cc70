"""The LICENSE file agrees with the package metadata; CI keeps Debian services from
starting instead of killing processes by name."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_license_file_is_the_full_apache_2_text() -> None:
    """LICENSE holds the whole Apache License 2.0, terms through the appendix."""
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.lstrip().startswith("Apache License\n                           Version 2.0")
    for heading in (
        "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION",
        "9. Accepting Warranty or Additional Liability.",
        "END OF TERMS AND CONDITIONS",
        "APPENDIX: How to apply the Apache License to your work.",
    ):
        assert heading in text, heading
    assert len(text) > 11000


def test_package_metadata_names_the_same_license() -> None:
    """pyproject's SPDX expression and license file, and what the installed package says."""
    with (ROOT / "pyproject.toml").open("rb") as handle:
        project = tomllib.load(handle)["project"]
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    metadata = importlib.metadata.metadata("incident-recorder")
    assert metadata["License-Expression"] == "Apache-2.0"
    assert "LICENSE" in (metadata.get_all("License-File") or [])
    # The container build context lets the file in, so the image's metadata has it too.
    assert "!LICENSE" in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()


def test_ci_script_never_kills_by_name_and_blocks_service_starts() -> None:
    """No pkill/killall; a policy-rc.d answering 101 exists exactly around apt-get install."""
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert subprocess.run(["bash", "-n", str(ROOT / ".ci" / "run")], check=False).returncode == 0
    code = [line for line in script.splitlines() if not line.lstrip().startswith("#")]
    assert not [line for line in code if re.search(r"\b(pkill|killall)\b", line)]
    body = "\n".join(code)
    written = body.index("exit 101")
    policy = body.index("/usr/sbin/policy-rc.d")
    install = body.index("apt-get install")
    removed = body.index('rm -f "$policy"', install)
    assert policy < written < install < removed
