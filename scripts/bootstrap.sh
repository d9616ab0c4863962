#!/usr/bin/env bash
# Set up what the project needs on this machine: a virtualenv with the pinned
# Python packages and, for the tests, Debian's postgresql and chromium.
# Usage: scripts/bootstrap.sh runtime|dev   (idempotent; quick when nothing changed)
set -euo pipefail
cd "$(dirname "$0")/.."

kind="${1:-runtime}"
requirements="requirements.txt"
[ "$kind" = "dev" ] && requirements="requirements-dev.txt"

python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "error: Python 3.11 or newer is needed (found: $("$python" --version 2>&1))" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo "==> creating the virtualenv in .venv"
  "$python" -m venv .venv
fi

# Reinstall only when the requirement files changed since the last install.
stamp=".venv/.installed-$kind"
wanted=$(cat requirements.txt "$requirements" | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
  echo "==> installing Python packages from $requirements"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r "$requirements"
  echo "$wanted" > "$stamp"
fi

if [ "$kind" = "dev" ]; then
  missing=()
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  command -v pdftotext >/dev/null || missing+=(poppler-utils)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing Debian packages: ${missing[*]}"
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi
