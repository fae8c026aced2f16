#!/usr/bin/env bash
# Installs m1gym and its test dependencies into the current Python.
# PyTorch: users bring their own (CUDA) build; when none is installed and this machine has a local
# CPU wheel (e.g. /opt/wheels), that wheel is preferred over a multi-GB CUDA download.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

if ! "$PY" -c "import torch" >/dev/null 2>&1; then
    for dir in ${PIP_FIND_LINKS:-} /opt/wheels; do
        wheel=$(ls "$dir"/torch-*+cpu-*.whl 2>/dev/null | sort -V | head -n 1 || true)
        if [ -n "$wheel" ]; then
            echo "install: using local CPU torch wheel $wheel"
            "$PY" -m pip install -q "$wheel" && break
        fi
    done
fi
"$PY" -m pip install -q -e ".[dev]"
"$PY" -m pip install -q --no-deps -r scripts/nodeps-requirements.txt
echo "install: m1gym $("$PY" -c 'import m1gym; print(m1gym.__version__)') ready"
