#!/usr/bin/env bash
# Prints the path of a Python 3 that has matplotlib (and scipy), preferring Debian's
# /usr/bin/python3: the python3 first on PATH may be another build without them.
# Exits 1 with a clear message when there is none.
set -u
for py in /usr/bin/python3 "$(command -v python3 2>/dev/null)" "$(command -v python3.11 2>/dev/null)"; do
  [ -n "$py" ] && [ -x "$py" ] || continue
  if "$py" -c 'import matplotlib, scipy' 2>/dev/null; then
    echo "$py"
    exit 0
  fi
done
echo "find-python: no Python 3 with matplotlib and scipy found (tried /usr/bin/python3 and" \
     "python3 on PATH); install Debian's python3-matplotlib python3-scipy (bash tools/setup.sh)" >&2
exit 1
