# shellcheck shell=bash
# Sourced (from the project root) by scripts/start and scripts/test. `ensure_venv [EXTRA]` makes
# ./.venv hold MediaNest, with the optional dependencies EXTRA (`test`) when asked, and installs
# only when it has to: when the venv is missing or broken, or when a file that decides what is
# installed changed since the last successful install. Otherwise it asks no package index
# anything, so MediaNest restarts during an internet outage.
#
# The stamp records a fingerprint of those files and the extras installed with them. It says
# "unfinished" while pip runs and is written only once pip succeeded, so an install that failed
# or was cut off is tried again next time. A venv installed with an extra (scripts/test's) also
# serves a start without it.

_venv_stamp=.venv/medianest-install
# What pip reads to decide what to install: the dependencies and entry points, the version (read
# from the package), and the install command below.
_venv_inputs=(pyproject.toml src/medianest/__init__.py scripts/lib/venv.sh)

_venv_python_runs() {
  [ -x .venv/bin/python ] && .venv/bin/python -c '' 2>/dev/null
}

_venv_fingerprint() {
  sha256sum "${_venv_inputs[@]}" | sha256sum | cut -d' ' -f1
}

# The venv's interpreter runs and imports MediaNest from this checkout (a venv copied or moved
# from another checkout still points at that one's code).
_venv_imports_here() {
  .venv/bin/python -c '
import os, sys
import medianest
sys.exit(not os.path.realpath(medianest.__file__).startswith(sys.argv[1]))
' "$(pwd -P)/src/" 2>/dev/null
}

# Why an install is needed, or nothing when the venv is up to date for EXTRA.
_venv_outdated() {
  local extra=$1 fingerprint extras
  if ! _venv_python_runs; then
    echo "there is no working .venv yet"
  elif [ ! -f "$_venv_stamp" ]; then
    echo "it was not installed into .venv yet"
  elif ! read -r fingerprint extras <"$_venv_stamp" || [ "$fingerprint" = unfinished ]; then
    echo "the last install did not finish"
  elif [ "$fingerprint" != "$(_venv_fingerprint)" ]; then
    echo "pyproject.toml or the version changed since the last install"
  elif [ -n "$extra" ] && [[ ",${extras:-}," != *",$extra,"* ]]; then
    echo "the $extra dependencies are not installed yet"
  elif ! _venv_imports_here; then
    echo ".venv runs MediaNest from another folder"
  fi
}

# shellcheck disable=SC2120  # EXTRA is optional
ensure_venv() {
  local extra=${1:-} reason python=${PYTHON:-python3}
  reason=$(_venv_outdated "$extra")
  [ -z "$reason" ] && return 0

  echo "Installing MediaNest into .venv ($reason)"
  if ! _venv_python_runs; then
    "$python" -m venv --clear .venv
  fi
  echo unfinished >"$_venv_stamp"
  if ! .venv/bin/python -m pip install --quiet --disable-pip-version-check \
    --editable ".${extra:+[$extra]}"; then
    echo >&2
    echo "Could not install MediaNest into .venv ($reason); pip says why above." >&2
    echo "Installing needs a package index: connect to the internet (or set PIP_INDEX_URL to an" >&2
    echo "index you can reach) and run $0 again. Starts after that need no network." >&2
    return 1
  fi
  echo "$(_venv_fingerprint) $extra" >"$_venv_stamp"
}
