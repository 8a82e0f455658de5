# Export the public data sets that the R-parity tests use, exactly as R holds them.
# Run from tests/results/ (make r-refs does this). Output: data/<name>.csv
suppressMessages({library(pROC); library(MASS); library(brglm2)})
dir.create("data", showWarnings = FALSE)
w <- function(d, name) write.csv(d, file.path("data", paste0(name, ".csv")), row.names = FALSE, na = "")

# pROC's aSAH: 113 patients with aneurysmal subarachnoid haemorrhage (outcome Good / Poor).
data(aSAH, package = "pROC")
a <- aSAH
a$wfns <- as.integer(as.character(a$wfns))
a$poor <- as.integer(a$outcome == "Poor")
a$outcome <- as.character(a$outcome)
a$gender <- as.character(a$gender)
w(a[, c("gos6", "outcome", "poor", "gender", "age", "wfns", "s100b", "ndka")], "asah")

# MASS::birthwt: low birth weight, 189 births.
b <- birthwt
b$race <- c("white", "black", "other")[b$race]
w(b[, c("low", "age", "lwt", "race", "smoke", "ptl", "ht", "ui", "ftv")], "birthwt")

# datasets::infert: case-control study of infertility after abortion, 248 women.
i <- infert
i$education <- as.character(i$education)
w(i[, c("case", "age", "parity", "education", "induced", "spontaneous")], "infert")

# brglm2::endometrial: 79 patients, NV quasi-completely separates HG (the classic Firth example).
data(endometrial, package = "brglm2")
w(endometrial, "endometrial")
