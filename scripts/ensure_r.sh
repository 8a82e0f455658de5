#!/usr/bin/env bash
# Install the R reference stack from Debian if it is missing (rms 6.5, pROC 1.18, brglm2, jsonlite,
# glmnet 4.1, mice 3.15, metafor 3.8).
# The R scripts in tests/results/ produce every reference value the parity tests check.
set -euo pipefail
if command -v Rscript >/dev/null 2>&1 && \
   Rscript -e 'suppressMessages({library(rms); library(pROC); library(brglm2); library(jsonlite); library(glmnet); library(mice); library(metafor)})' >/dev/null 2>&1; then
  exit 0
fi
echo "Installing the R reference stack from Debian (r-base-core r-cran-rms r-cran-proc r-cran-brglm2 r-cran-jsonlite r-cran-glmnet r-cran-mice r-cran-metafor)..."
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends r-base-core r-cran-rms r-cran-proc r-cran-brglm2 r-cran-jsonlite r-cran-glmnet r-cran-mice r-cran-metafor >/dev/null
Rscript -e 'suppressMessages({library(rms); library(pROC); library(brglm2); library(jsonlite); library(glmnet); library(mice); library(metafor)})'
