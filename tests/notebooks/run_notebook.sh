#!/bin/sh
# Run one notebook headless and fail on any error.
#
#   tests/notebooks/run_notebook.sh NOTEBOOK OUTDIR [XMRISK_BIN]
#
# Executes NOTEBOOK with Debian's /usr/bin/python3 (python3-nbconvert, python3-ipykernel,
# python3-numpy, python3-pandas, python3-matplotlib) and writes the executed copy to
# OUTDIR/<name>/<name>.ipynb; the notebook's runs, model files and PNG figures go to
# OUTDIR/<name>/ too (XMRISK_NB_OUT). XMRISK_BIN (argument or environment) is the xmrisk
# program the notebook runs; without it the notebook looks for ../build/xmrisk.
# Exit status: 0 when every cell ran, non-zero when any cell raised (nbconvert stops there and
# prints the cell and its traceback) or a dependency is missing.
set -eu

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: $0 NOTEBOOK OUTDIR [XMRISK_BIN]" >&2
    exit 2
fi
nb=$1
outdir=$2
if [ $# -eq 3 ]; then XMRISK_BIN=$3; export XMRISK_BIN; fi

PY=/usr/bin/python3
if [ ! -x "$PY" ]; then
    echo "run_notebook: $PY not found (install python3 and the notebook packages: scripts/setup-deps.sh)" >&2
    exit 1
fi
if ! "$PY" -c 'import nbconvert, ipykernel, numpy, pandas, matplotlib' 2>/dev/null; then
    echo "run_notebook: $PY lacks a notebook package; need python3-nbconvert python3-ipykernel" \
         "python3-numpy python3-pandas python3-matplotlib (scripts/setup-deps.sh)" >&2
    exit 1
fi
if [ ! -f "$nb" ]; then
    echo "run_notebook: no such notebook: $nb" >&2
    exit 1
fi
if [ -n "${XMRISK_BIN:-}" ]; then
    if [ ! -x "$XMRISK_BIN" ] || [ -d "$XMRISK_BIN" ]; then
        echo "run_notebook: XMRISK_BIN is not an executable: $XMRISK_BIN" >&2
        exit 1
    fi
    # absolute, as the notebook runs in its own folder
    XMRISK_BIN=$(cd "$(dirname "$XMRISK_BIN")" && pwd)/$(basename "$XMRISK_BIN")
    export XMRISK_BIN
fi

name=$(basename "$nb" .ipynb)
nbdir=$(cd "$(dirname "$nb")" && pwd)
mkdir -p "$outdir/$name"
out=$(cd "$outdir/$name" && pwd)

XMRISK_NB_OUT=$out
MPLBACKEND=Agg
PYDEVD_DISABLE_FILE_VALIDATION=1
PYTHONDONTWRITEBYTECODE=1            # no __pycache__ beside the notebooks
MPLCONFIGDIR=$out/.matplotlib        # writable even when HOME is not
# The kernel talks over Unix sockets in a private folder, not TCP ports on localhost: Jupyter
# picks a TCP port by binding port 0 and closing it before the kernel binds it again, so two
# notebooks (or any other program) starting at once can take the same port and the kernel dies
# with "Address already in use" (seen in CI with ctest -j2). A socket path is limited to 107
# bytes, hence a short folder under /tmp rather than one beside the outputs.
JUPYTER_RUNTIME_DIR=$(mktemp -d "/tmp/xmnb.XXXXXX")
trap 'rm -rf "$JUPYTER_RUNTIME_DIR"' EXIT
trap 'exit 1' HUP INT TERM   # through the EXIT trap (a ctest timeout sends SIGTERM)
export XMRISK_NB_OUT MPLBACKEND PYDEVD_DISABLE_FILE_VALIDATION PYTHONDONTWRITEBYTECODE \
       MPLCONFIGDIR JUPYTER_RUNTIME_DIR

start=$(date +%s)
# The notebook runs in its own folder (it imports xmrisk_nb from there).
cd "$nbdir"
"$PY" -m nbconvert --to notebook --execute "$nbdir/$name.ipynb" \
    --output-dir "$out" --output "$name" \
    --ExecutePreprocessor.timeout=600 --ExecutePreprocessor.kernel_name=python3 --KernelManager.transport=ipc \
    --KernelManager.ip="$JUPYTER_RUNTIME_DIR/kernel"
echo "run_notebook: $name ran in $(( $(date +%s) - start )) s; executed notebook and figures in $out"
