# Monte-Carlo reference for myorisk validate/calibrate: repeated rms 6.5 runs with B = 1000 on
# birthwt (different seeds), so that Python's results (its own RNG) can be checked to lie within
# a few run-to-run SDs of the mean of rms. Run from tests/results/. Output: validation_mc_r.json
suppressMessages({library(rms); library(jsonlite)})
bw <- read.csv("data/birthwt.csv")
f <- lrm(low ~ age + lwt + race + smoke + ptl + ht + ui, data = bw, x = TRUE, y = TRUE)
runs <- 6
B <- 1000
val <- list(); cal <- list()
for (r in seq_len(runs)) {
  set.seed(1000 + r)
  v <- rms::validate(f, B = B)
  val[[r]] <- as.list(setNames(unname(v[, "index.corrected"]), rownames(v)))
  set.seed(2000 + r)
  cc <- rms::calibrate(f, B = B)
  predicted <- attr(cc, "predicted")
  s <- !is.na(cc[, "predy"] + cc[, "calibrated.corrected"])
  err <- predicted - approx(cc[s, "predy"], cc[s, "calibrated.corrected"],
                            xout = predicted, ties = mean)$y
  cal[[r]] <- list(mean_abs_error = mean(abs(err), na.rm = TRUE),
                   mean_sq_error = mean(err^2, na.rm = TRUE),
                   e90 = unname(quantile(abs(err), 0.9, na.rm = TRUE)),
                   corrected = unname(cc[, "calibrated.corrected"]))
}
res <- list(B = B, runs = runs, validate = val, calibrate = cal,
            versions = list(R = paste(R.version$major, R.version$minor, sep = "."),
                            rms = as.character(packageVersion("rms"))))
write_json(res, "validation_mc_r.json", digits = NA, auto_unbox = TRUE, pretty = FALSE, na = "null")
