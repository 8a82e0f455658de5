# The p-value screen that study A's bootstrap repeats in every resample, done with R's glm on the
# same resamples that myorisk replays (tests/test_pscreen_boot.py).
#
# Data: the bundled SYNTHETIC study A training cohort (src/myorisk/datasets/pmdm-train.csv, 64
# patients, 19 non-responders), the comprehensive model's candidates (biopsy_fasciitis is left
# out, as the study pipeline does, because it separates the outcome in the original data).
# Rule (study A): a term enters when its univariable Wald p < 0.05; the entered terms are fitted
# together and those with multivariable Wald p < 0.05 are kept. glm's defaults are used
# (IRLS, maxit 25, epsilon 1e-8). A coefficient R reports as NA (a column aliased in the resample)
# has no p-value: univariably the term does not enter; in the multivariable model the entered
# term with the largest univariable p is dropped and the model refitted.
# For each resample the script also records whether the multivariable glm warned that it had not
# converged or that fitted probabilities were numerically 0 or 1 (separation).
# Run from tests/results/ (make r-refs). Output: pscreen_boot_r.json
suppressMessages(library(jsonlite))

d <- read.csv("../../src/myorisk/datasets/pmdm-train.csv")
d$sex <- factor(d$sex, levels = c("female", "male"))
d$subtype <- factor(d$subtype, levels = c("DM", "PM"))
terms <- c("sex", "age", "subtype", "ck", "anti_jo1", "anti_mda5", "anti_tif1g", "anti_mi2",
           "anti_sae", "anti_nxp2", "anti_ej", "anti_pmscl", "anti_rnp", "anti_ro",
           "emg_abundant_sp", "mri_score", "msuvmax", "biopsy_necrosis", "biopsy_bundle_atrophy",
           "biopsy_fibrosis", "biopsy_fat")
alpha <- 0.05
B <- 200
seed <- 20240501
n <- nrow(d)

# Wald p-value of a term (joint over its columns); NA when a column is aliased (NA coefficient)
term_p <- function(f, term) {
  cf <- coef(f)
  cols <- grep(paste0("^", term), names(cf))
  if (length(cols) == 0 || any(is.na(cf[cols]))) return(NA_real_)
  V <- vcov(f)[names(cf)[cols], names(cf)[cols], drop = FALSE]
  b <- cf[cols]
  chi <- tryCatch(drop(t(b) %*% solve(V, b)), error = function(e) NA_real_)
  if (is.na(chi)) return(NA_real_)
  pchisq(chi, df = length(cols), lower.tail = FALSE)
}

quiet_glm <- function(formula, data) {
  warn <- character(0)
  f <- withCallingHandlers(glm(formula, family = binomial, data = data),
                           warning = function(w) {
                             warn <<- c(warn, conditionMessage(w))
                             invokeRestart("muffleWarning")
                           })
  list(fit = f, warnings = warn)
}

screen <- function(dd) {
  pu <- vapply(terms, function(t) {
    g <- quiet_glm(reformulate(t, "nonresponse"), dd)
    p <- term_p(g$fit, t)
    if (is.na(p)) 1 else p
  }, numeric(1))
  entered <- terms[pu < alpha]
  kept <- character(0)
  separated <- FALSE
  unconverged <- FALSE
  repeat {
    if (length(entered) == 0) break
    g <- quiet_glm(reformulate(entered, "nonresponse"), dd)
    ps <- vapply(entered, function(t) term_p(g$fit, t), numeric(1))
    if (any(is.na(ps))) {  # aliased column: drop the entered term with the largest univariable p
      entered <- entered[-which.max(pu[entered])]
      next
    }
    separated <- any(grepl("numerically 0 or 1", g$warnings))
    unconverged <- any(grepl("did not converge", g$warnings))
    kept <- entered[ps < alpha]
    break
  }
  list(kept = terms[terms %in% kept], n_entered = length(entered), separated = separated,
       unconverged = unconverged)
}

set.seed(seed)
idx <- t(vapply(seq_len(B), function(i) sample(n, replace = TRUE), integer(n)))
res <- lapply(seq_len(B), function(b) screen(d[idx[b, ], ]))
apparent <- screen(d)

out <- list(
  n = n, B = B, seed = seed, alpha = alpha, terms = terms,
  index = idx,
  kept = lapply(res, function(r) I(r$kept)),
  n_entered = vapply(res, function(r) r$n_entered, integer(1)),
  separated = vapply(res, function(r) r$separated, logical(1)),
  unconverged = vapply(res, function(r) r$unconverged, logical(1)),
  apparent = I(apparent$kept),
  versions = list(R = paste(R.version$major, R.version$minor, sep = "."))
)
write_json(out, "pscreen_boot_r.json", digits = NA, auto_unbox = TRUE, pretty = FALSE, na = "null")
