# Exact-replay references for myorisk.modeling.validation / calibration (rms 6.5).
# For each data set: set.seed(s); the index matrix predab.resample draws (sample(n, replace=TRUE)
# per resample, in order) is saved, then validate() and calibrate() are run from the same seed,
# so that Python replaying the saved matrix must reproduce rms to rounding error.
# Run from tests/results/ (make r-refs). Output: validation_r.json
suppressMessages({library(rms); library(jsonlite)})

one <- function(d, formula, B, seed) {
  f <- lrm(formula, data = d, x = TRUE, y = TRUE)
  n <- nrow(f$x)
  set.seed(seed)
  idx <- t(vapply(seq_len(B), function(i) sample(n, replace = TRUE), integer(n)))
  set.seed(seed)
  v <- rms::validate(f, B = B)
  set.seed(seed)
  cal <- rms::calibrate(f, B = B)
  predicted <- attr(cal, "predicted")
  s <- !is.na(cal[, "predy"] + cal[, "calibrated.corrected"])
  err <- predicted - approx(cal[s, "predy"], cal[s, "calibrated.corrected"],
                            xout = predicted, ties = mean)$y
  list(
    n = n, B = B, seed = seed,
    coefficients = unname(coef(f)),
    index = idx,
    validate = list(rows = rownames(v),
                    index.orig = unname(v[, "index.orig"]), training = unname(v[, "training"]),
                    test = unname(v[, "test"]), optimism = unname(v[, "optimism"]),
                    index.corrected = unname(v[, "index.corrected"]), n = unname(v[, "n"])),
    calibrate = list(predy = unname(cal[, "predy"]),
                     calibrated.orig = unname(cal[, "calibrated.orig"]),
                     calibrated.corrected = unname(cal[, "calibrated.corrected"]),
                     optimism = unname(cal[, "optimism"]), n = unname(cal[, "n"]),
                     mean_abs_error = mean(abs(err), na.rm = TRUE),
                     mean_sq_error = mean(err^2, na.rm = TRUE),
                     e90 = unname(quantile(abs(err), 0.9, na.rm = TRUE)),
                     n_err = length(err))
  )
}

bw <- read.csv("data/birthwt.csv")
en <- read.csv("data/endometrial.csv")
as <- read.csv("data/asah.csv")
res <- list(
  birthwt = one(bw, low ~ age + lwt + race + smoke + ptl + ht + ui, B = 200, seed = 20240601),
  # NV quasi-separates HG: the original fit and many resamples are separated (rms stops at eps)
  endometrial = one(en, HG ~ NV + PI + EH, B = 200, seed = 7),
  asah = one(as, poor ~ age + gender + wfns + s100b, B = 200, seed = 11),
  # a restricted cubic spline: knots fixed from the whole data, as rms keeps them in resamples
  birthwt_rcs = one(bw, low ~ rcs(age, 4) + lwt + smoke + ht, B = 200, seed = 5),
  versions = list(R = paste(R.version$major, R.version$minor, sep = "."),
                  rms = as.character(packageVersion("rms")))
)
write_json(res, "validation_r.json", digits = NA, auto_unbox = TRUE, pretty = FALSE, na = "null")
