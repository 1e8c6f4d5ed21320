#!/bin/bash
# The explorer's response times idle and with both cores busy, at one and two torch threads:
# the figures of docs/explorer.md ("Response times"). From the repository root, with runs/compare
# trained (python -m tools.compare_versions) and nothing else running; about 5 minutes on 2 cores.
#     bash benchmarks/explore_times.sh > docs/measured/explore_times_<machine>.md
set -euo pipefail
echo "# The explorer's response times, $(date -u +%F)"
echo
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(grep -q avx512f /proc/cpuinfo && echo with || echo without) AVX-512, $(nproc) cores"
for args in "--repeat 30" "--repeat 30 --threads 2" "--repeat 20 --busy 2" "--repeat 20 --busy 2 --threads 2"; do
  echo
  echo "## python -m benchmarks.bench_explore $args"
  echo
  python -m benchmarks.bench_explore $args 2>&1 | grep -v "^BabyGPT"
done
