"""What the API and the workers load at start-up (issue 12: RSS < 150 MB per process).

Libraries used on a few pages or jobs only (receipts, exports, photos, QR codes) are imported where
they are used: each was megabytes of every process's RSS. A top-level import of one of them would
bring it back without any test failing, so the modules loaded at start-up are checked here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

# fpdf2 (with numpy, fontTools, num2words under it) ~60 MiB, pillow-heif ~11 MiB, qrcode ~8 MiB.
LAZY = ("fpdf", "numpy", "fontTools", "num2words", "pillow_heif", "imagehash", "openpyxl", "qrcode",
        "boto3", "telegram")  # fmt: skip

START = {
    "api": "import app.main; app.main.create_app()",
    "worker": "import workers",  # what `python -m dramatiq workers` imports
}


def _loaded(code: str) -> tuple[list[str], float]:
    probe = (
        f"import json, sys; {code}; "
        "rss = [l for l in open('/proc/self/status') if l.startswith('VmRSS')][0].split()[1]; "
        "print(json.dumps([sorted({m.split('.')[0] for m in sys.modules}), int(rss) / 1024]))"
    )
    env = {**os.environ, "APP_ENV": "test"}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True,
                         check=True, timeout=120).stdout  # fmt: skip
    modules, rss = json.loads(out.splitlines()[-1])
    return modules, rss


@pytest.mark.parametrize("role", sorted(START))
def test_heavy_libraries_are_not_loaded_at_start_up(role: str) -> None:
    modules, rss = _loaded(START[role])
    assert [m for m in LAZY if m in modules] == [], f"{role} start-up RSS {rss:.0f} MiB"
