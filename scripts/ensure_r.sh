#!/usr/bin/env bash
# Install the R reference stack from Debian if it is missing (rms 6.5, pROC 1.18, brglm2, jsonlite).
# The R scripts in tests/results/ produce every reference value the parity tests check.
set -euo pipefail
if command -v Rscript >/dev/null 2>&1 && \
   Rscript -e 'suppressMessages({library(rms); library(pROC); library(brglm2); library(jsonlite)})' >/dev/null 2>&1; then
  exit 0
fi
echo "Installing the R reference stack from Debian (r-base-core r-cran-rms r-cran-proc r-cran-brglm2 r-cran-jsonlite)..."
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -q --no-install-recommends r-base-core r-cran-rms r-cran-proc r-cran-brglm2 r-cran-jsonlite >/dev/null
Rscript -e 'suppressMessages({library(rms); library(pROC); library(brglm2); library(jsonlite)})'
