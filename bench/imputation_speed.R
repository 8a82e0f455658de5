# R side of bench/imputation_speed.py: mice (m = 20) + rms validate (B = 200) in each imputation.
# Usage: Rscript --vanilla bench/imputation_speed.R DATA.csv M B
suppressMessages({library(mice); library(rms)})
a <- commandArgs(TRUE)
d <- read.csv(a[1]); m <- as.integer(a[2]); B <- as.integer(a[3])
t0 <- proc.time()[["elapsed"]]
imp <- mice(d, m = m, maxit = 10, seed = 1, printFlag = FALSE)
t1 <- proc.time()[["elapsed"]]
set.seed(2)
v <- lapply(seq_len(m), function(i) {
  ci <- complete(imp, i)
  f <- lrm(y ~ x1 + x2 + x3 + x4 + x5, data = ci, x = TRUE, y = TRUE)
  validate(f, B = B)
})
t2 <- proc.time()[["elapsed"]]
dxy <- mean(sapply(v, function(x) x["Dxy", "index.corrected"]))
cat(sprintf('{"mice": %.3f, "validate": %.3f, "total": %.3f, "dxy_corrected": %.4f}\n', t1 - t0, t2 - t1, t2 - t0, dxy))
