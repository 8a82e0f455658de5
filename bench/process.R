# R side of bench/processes.py: one whole Rscript process per task, as a user runs it.
# Usage: Rscript --vanilla bench/process.R fit|validate|valcal DATA.csv [B]
suppressMessages(library(rms))
a <- commandArgs(trailingOnly = TRUE)
mode <- a[1]
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
