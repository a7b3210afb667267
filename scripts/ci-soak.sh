#!/usr/bin/env bash
# Runs CI as CI runs it — `CI=true bash .ci/run` in a fresh clone of the committed HEAD — N times in a row and prints
# each run's wall time, its `N passed, N failed` line and the names of the failed tests. The proof that CI is green
# every time, repeatable by anyone (root, as CI is). Logs stay in a directory it prints, for the next failure.
#
#   scripts/ci-soak.sh [RUNS] [--keep-going]
#
# Stops at the first failed run unless --keep-going. Exit status: 0 when every run passed.
set -uo pipefail

usage() {
  echo "usage: scripts/ci-soak.sh [RUNS] [--keep-going]   (RUNS: 1-50, default 10)" >&2
  exit 2
}

main() {
  local runs=10 keep_going=0 arg
  for arg in "$@"; do
    case "${arg}" in
      --keep-going) keep_going=1 ;;
      '' | *[!0-9]*) usage ;;
      *) runs="${arg}" ;;
    esac
  done
  ((runs >= 1 && runs <= 50)) || usage
  [[ $(id -u) -eq 0 ]] || {
    echo "ci-soak: run as root, as CI does (the lab needs network namespaces)" >&2
    exit 2
  }

  local repo head logs
  repo="$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)" || exit 2
  head="$(git -C "${repo}" rev-parse HEAD)"
  logs="$(mktemp -d /tmp/natgw-ci-soak.XXXXXX)"
  # Open like an ordinary checkout's folder: the unit phase runs as another user inside the clone.
  chmod 755 "${logs}"
  echo "ci-soak: ${runs} fresh-clone runs of ${head:0:12}; logs in ${logs}"
  [[ -z "$(git -C "${repo}" status --porcelain --untracked-files=no)" ]] ||
    echo "ci-soak: note: uncommitted changes are not in the clones; only HEAD is tested"

  local run failed_runs=0
  for ((run = 1; run <= runs; run++)); do
    local clone="${logs}/clone" log="${logs}/run-${run}.log" start status elapsed summary
    rm -rf "${clone}"
    git clone --quiet --no-hardlinks "${repo}" "${clone}" && git -C "${clone}" checkout --quiet "${head}" || exit 2
    start=$(date +%s)
    (cd "${clone}" && CI=true bash .ci/run </dev/null >"${log}" 2>&1)
    status=$?
    elapsed=$(($(date +%s) - start))
    summary="$(grep -E '^[0-9]+ passed, [0-9]+ failed' "${log}" | tail -1)"
    printf 'run %d: %s, %dm%02ds, %s\n' "${run}" "$([[ ${status} -eq 0 ]] && echo PASS || echo FAIL)" \
      $((elapsed / 60)) $((elapsed % 60)) "${summary:-no summary line (exit ${status})}"
    if ((status != 0)); then
      failed_runs=$((failed_runs + 1))
      # The failed points as npm test sums them up at the end (file › subtest › point).
      grep -E '^# ✗ ' "${log}" | head -20 | sed 's/^/    /'
      ((keep_going)) || break
    fi
  done
  rm -rf "${logs}/clone"
  echo "ci-soak: ${failed_runs} failed run(s); logs in ${logs}"
  ((failed_runs == 0))
}

main "$@"
