# R side of bench/processes.py: one whole Rscript process per task, as a user runs it.
# Usage: Rscript --vanilla bench/process.R fit|validate|valcal|glm DATA.csv [B]
# glm: read.csv and stats::glm timed apart; prints the coefficients as JSON, then the two times.
a <- commandArgs(trailingOnly = TRUE)
mode <- a[1]
if (mode == "glm") {
  t0 <- proc.time()[["elapsed"]]
  d <- read.csv(a[2])
  t1 <- proc.time()[["elapsed"]]
  g <- glm(y ~ ., data = d, family = binomial, control = glm.control(epsilon = 1e-14, maxit = 100))
  t2 <- proc.time()[["elapsed"]]
  cat(sprintf('{"coef": [%s]}\n', paste(sprintf("%.17g", coef(g)), collapse = ", ")))
  cat(sprintf("read.csv %.2f s, glm %.2f s\n", t1 - t0, t2 - t1))
  quit(save = "no")
}
suppressMessages(library(rms))
d <- read.csv(a[2])
B <- if (length(a) >= 3) as.integer(a[3]) else 1000L
preds <- setdiff(names(d), "y")
f <- lrm(as.formula(paste("y ~", paste(preds, collapse = " + "))), data = d, x = TRUE, y = TRUE)
if (mode == "fit") {
  print(f)
} else {
  set.seed(1)
  print(rms::validate(f, B = B))
  if (mode == "valcal") {
    set.seed(2)
    print(rms::calibrate(f, B = B))
  }
}
