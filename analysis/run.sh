#!/bin/sh
# Runs a Python analysis script (or `-m unittest ...`) with the first
# interpreter that can import matplotlib: the python3 on PATH may be a
# pyenv/venv one without it, while Debian's python3-matplotlib belongs to
# /usr/bin/python3.
#   analysis/run.sh analysis/plot_timeline.py trace.jsonl -o out.png
#   analysis/run.sh plot_timeline.py ...        (a name in this directory)
#   analysis/run.sh -m unittest discover -s analysis/tests -v
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -gt 0 ] && [ ! -e "$1" ] && [ -f "$here/$1" ]; then
    script=$here/$1
    shift
    set -- "$script" "$@"
fi
for py in python3 /usr/bin/python3; do
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import matplotlib' >/dev/null 2>&1; then
        exec "$py" "$@"
    fi
done
echo "run.sh: no python3 with matplotlib found (tried python3 and /usr/bin/python3); install python3-matplotlib" >&2
exit 2
