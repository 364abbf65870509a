"""`mvn verify` makes io.plait:plait-java publishable: the jar (with its
Automatic-Module-Name), a sources jar and a javadoc jar (java/pom.xml; the pom's metadata
is checked in tests/unit/test_version_and_packaging.py). Built into tmp_path, never into
java/target, so it cannot race scripts/setup_java.sh."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest

import plait

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.timeout(600)
def test_mvn_verify_produces_sources_and_javadoc_jars(tmp_path: Path) -> None:
    target = tmp_path / "target"
    proc = subprocess.run(
        [
            "mvn", "-q", "-B", "-f", str(ROOT / "java" / "pom.xml"), "verify", "-DskipTests",
            f"-Dplait.build.dir={target}",
        ],
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0, f"mvn verify failed\n{proc.stdout[-4000:]}{proc.stderr[-4000:]}"
    name = f"plait-java-{plait.__version__}"
    with zipfile.ZipFile(target / f"{name}.jar") as jar:
        manifest = jar.read("META-INF/MANIFEST.MF").decode()
        assert "Automatic-Module-Name: io.plait" in manifest
        assert "io/plait/Plait.class" in jar.namelist()
    with zipfile.ZipFile(target / f"{name}-sources.jar") as sources:
        assert "io/plait/Plait.java" in sources.namelist()
    with zipfile.ZipFile(target / f"{name}-javadoc.jar") as javadoc:
        names = javadoc.namelist()
        assert "index.html" in names
        # Laid out per module (io.plait/io/plait/...) since the jar names its module.
        assert any(n.endswith("io/plait/Plait.html") for n in names), names[:20]
