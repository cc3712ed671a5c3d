#!/usr/bin/env bash
# Runs the whole Cargoman test suite on a fresh machine (Debian 12; root or sudo).
# Extra arguments are passed to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/services.sh
source scripts/services.sh

services_install
trap services_stop EXIT
services_start

cargo test --locked --all-targets "$@"
