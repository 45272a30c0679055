#!/usr/bin/env bash
# Quick start, step 1: install what is missing, build, and run the main job — a host with
# the shell plugin on the default SQLite database (~/.queuectl/queue.db). Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
echo "queuectl-host running; in another terminal: ./build/apps/queuectl/queuectl enqueue '{\"command\":\"echo hello\"}'"
exec ./build/apps/queuectl-host/queuectl-host --plugin shell --workers 2
