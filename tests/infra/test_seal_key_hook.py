"""infra/hooks/seal-key.sh: the sealing key is made once, reaches Key Vault on stdin, and is shown nowhere.

A stand-in `az` on PATH records each call's arguments and standard input; openssl is the real one.
"""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOOK = ROOT / "infra" / "hooks" / "seal-key.sh"
FAKE_AZ = """#!/bin/sh
# Records the call; `secret show` succeeds only when the vault already holds the key.
echo "$*" >> "$CALLS"
case "$*" in
  "keyvault secret show"*) [ -n "$SECRET_EXISTS" ] && exit 0 || exit 3 ;;
  "keyvault secret set"*) cat > "$STORED" ;;
esac
"""


def run_hook(tmp_path: Path, *, exists: bool) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    az = bin_dir / "az"
    az.write_text(FAKE_AZ)
    az.chmod(0o755)
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "CALLS": str(tmp_path / "calls"),
        "STORED": str(tmp_path / "stored"),
        "SECRET_EXISTS": "1" if exists else "",
        "AZURE_KEY_VAULT_NAME": "kv-sc-example",
    }
    return subprocess.run(["sh", str(HOOK)], env=env, capture_output=True, text=True, check=True, timeout=60)


def test_a_new_key_is_32_random_bytes_sent_on_stdin_and_never_shown(tmp_path: Path) -> None:
    completed = run_hook(tmp_path, exists=False)
    stored = (tmp_path / "stored").read_text()
    assert len(base64.b64decode(stored, validate=True)) == 32
    calls = (tmp_path / "calls").read_text()
    assert "--vault-name kv-sc-example --name sealing-key --file /dev/stdin" in calls
    assert stored not in calls and stored not in completed.stdout + completed.stderr
    assert "--value" not in calls


def test_an_existing_key_is_kept(tmp_path: Path) -> None:
    completed = run_hook(tmp_path, exists=True)
    assert not (tmp_path / "stored").exists()
    assert "secret set" not in (tmp_path / "calls").read_text()
    assert "kept" in completed.stdout
