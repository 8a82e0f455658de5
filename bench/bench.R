# R side of `make bench`: rms 6.5 validate + calibrate on a CSV written by bench/run_bench.py.
# Usage: Rscript --vanilla bench/bench.R DATA.csv B OUT.json
suppressMessages({library(rms); library(jsonlite)})
a <- commandArgs(trailingOnly = TRUE)
d <- read.csv(a[1]); B <- as.integer(a[2])
preds <- setdiff(names(d), "y")
f <- lrm(as.formula(paste("y ~", paste(preds, collapse = " + "))), data = d, x = TRUE, y = TRUE)
set.seed(1)
tv <- system.time(v <- rms::validate(f, B = B))[["elapsed"]]
set.seed(2)
tc <- system.time(cc <- rms::calibrate(f, B = B))[["elapsed"]]
predicted <- attr(cc, "predicted")
s <- !is.na(cc[, "predy"] + cc[, "calibrated.corrected"])
err <- predicted - approx(cc[s, "predy"], cc[s, "calibrated.corrected"], xout = predicted, ties = mean)$y
write_json(list(validate_seconds = tv, calibrate_seconds = tc,
                dxy_corrected = v["Dxy", "index.corrected"],
                slope_corrected = v["Slope", "index.corrected"],
                mae = mean(abs(err), na.rm = TRUE),
                rms = as.character(packageVersion("rms"))),
           a[3], auto_unbox = TRUE, digits = NA)
