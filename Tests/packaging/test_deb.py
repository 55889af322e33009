"""The Debian package ($KLOGS_DEB, from `make deb`): installed into a throwaway root with `dpkg -x`, its klogs runs
without the Swift toolchain, its man page renders and its completions load. Run by `make test-packaging`."""
import os
import pathlib
import re
import shutil
import subprocess

import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from promtext import parse  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "fixtures" / "sample-access.log"
DEB = os.environ.get("KLOGS_DEB")
pytestmark = pytest.mark.skipif(not DEB, reason="KLOGS_DEB is not set: run `make test-packaging`")
# A server's environment: no Swift toolchain on PATH or on the library path.
CLEAN_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("root")
    subprocess.run(["dpkg", "-x", DEB, str(root)], check=True)
    return root


def field(name):
    return subprocess.run(["dpkg-deb", "-f", DEB, name], capture_output=True, text=True, check=True).stdout.strip()


def klogs(root, *args):
    return subprocess.run([str(root / "usr/bin/klogs"), *args], capture_output=True, text=True, env=CLEAN_ENV,
                          timeout=300)


def test_control_names_the_runtime_packages_and_the_conffile():
    depends = [d.split()[0] for d in field("Depends").split(", ")]
    for package in ["libisal2", "liblz4-1", "libpcre2-8-0", "uap-core"]:
        assert package in depends
    assert not any("swift" in d for d in depends)
    contents = subprocess.run(["dpkg-deb", "--ctrl-tarfile", DEB], capture_output=True, check=True).stdout
    listing = subprocess.run(["tar", "-xOf", "-", "./conffiles"], input=contents, capture_output=True).stdout
    assert listing.decode().split() == ["/etc/klogs/klogs.toml"]


def test_the_package_holds_what_a_server_needs(root):
    for path in ["usr/bin/klogs", "usr/share/man/man1/klogs.1.gz", "usr/share/bash-completion/completions/klogs",
                 "usr/share/zsh/vendor-completions/_klogs", "usr/share/fish/vendor_completions.d/klogs.fish",
                 "etc/klogs/klogs.toml", "lib/systemd/system/klogs-ingest.service",
                 "lib/systemd/system/klogs-ingest.timer", "usr/share/doc/klogs/examples/logrotate-nginx",
                 "usr/share/doc/klogs/copyright"]:
        assert (root / path).is_file(), path
    service = (root / "lib/systemd/system/klogs-ingest.service").read_text()
    assert "exec /usr/bin/klogs ingest" in service and "@BINDIR@" not in service
    timer = (root / "lib/systemd/system/klogs-ingest.timer").read_text()
    calendar = re.search(r"^OnCalendar=(.*)$", timer, re.M).group(1)
    if shutil.which("systemd-analyze"):
        assert subprocess.run(["systemd-analyze", "calendar", calendar], capture_output=True).returncode == 0


def test_the_installed_binary_loads_no_swift_library(root):
    ldd = subprocess.run(["ldd", str(root / "usr/bin/klogs")], capture_output=True, text=True, env=CLEAN_ENV).stdout
    assert "not found" not in ldd, ldd
    assert not re.search(r"swift|Foundation|libdispatch|libBlocksRuntime", ldd, re.I), ldd


def test_the_installed_binary_runs_version_help_and_an_ingest(root, tmp_path):
    version = klogs(root, "--version")
    assert version.returncode == 0 and re.fullmatch(r"klogs version \S+ \(build \S+\)\n", version.stdout)
    help_text = klogs(root, "--help")
    assert help_text.returncode == 0 and "ingest" in help_text.stdout
    ingest = klogs(root, "ingest", "--data", str(tmp_path / "data"), "--metrics-file", str(tmp_path / "klogs.prom"),
                   str(SAMPLE))
    assert ingest.returncode == 0, ingest.stderr
    samples = parse((tmp_path / "klogs.prom").read_text())
    assert samples["klogs_ingest_lines_read"] == SAMPLE.read_bytes().count(b"\n")
    assert samples["klogs_ingest_files_written"] > 0
    assert list((tmp_path / "data").rglob("*.parquet"))


def test_the_man_page_renders(root):
    page = root / "usr/share/man/man1/klogs.1.gz"
    result = subprocess.run(["man", "-l", str(page)], capture_output=True, text=True,
                            env={**CLEAN_ENV, "MANPAGER": "cat", "MANWIDTH": "100"})
    assert result.returncode == 0 and "warning" not in result.stderr, result.stderr
    text = re.sub(r".\x08", "", result.stdout)
    assert "NAME" in text and "klogs" in text and "metrics-file" in text and "ingest" in text


def test_the_bash_completion_loads(root):
    script = root / "usr/share/bash-completion/completions/klogs"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    result = subprocess.run(["bash", "-c", f"source {script} && complete -p klogs"], capture_output=True, text=True)
    assert result.returncode == 0 and re.search(r"complete .* klogs$", result.stdout.strip()), result.stderr


@pytest.mark.skipif(not shutil.which("logrotate") and not os.path.exists("/usr/sbin/logrotate"),
                    reason="logrotate is not installed")
def test_the_logrotate_snippet_parses(root, tmp_path):
    logrotate = shutil.which("logrotate") or "/usr/sbin/logrotate"
    snippet = root / "usr/share/doc/klogs/examples/logrotate-nginx"
    text = snippet.read_text()
    assert "kill -USR1" in text and "delaycompress" in text and "access.log.1" in text
    result = subprocess.run([logrotate, "-d", "-s", str(tmp_path / "state"), str(snippet)], capture_output=True,
                            text=True)
    assert result.returncode == 0 and "error" not in result.stderr.lower(), result.stderr
