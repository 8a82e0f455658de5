# Decision-curve reference values for myorisk.modeling.decision (tests/test_decision.py).
# dcurves is not packaged in Debian, so its documented binary-outcome algorithm (dca.r /
# test_consequences.R, net_intervention_avoided(nper = 1), standardized_net_benefit) is written
# out here in base R:
#   risk 0 -> -eps, risk 1 -> 1 + eps (eps = .Machine$double.eps); treat all = 1 + eps,
#   treat none = -eps; positive if risk >= threshold;
#   tp_rate = mean(risk[y == 1] >= t) * pos_rate; fp_rate = mean(risk[y == 0] >= t) * (1 - pos_rate)
#   NB = tp_rate - t / (1 - t) * fp_rate - harm
#   NIA = (NB - NB_all) / (t / (1 - t)) * nper; sNB = NB / pos_rate
# Run from tests/results/: Rscript --vanilla decision.R  -> decision_r.json
suppressMessages(library(jsonlite))

dca_binary <- function(y, risks, thresholds, harm = list(), prevalence = NULL, nper = 1) {
  eps <- .Machine$double.eps
  pos_rate <- if (is.null(prevalence)) sum(y == 1) / length(y) else prevalence
  risks <- lapply(risks, function(r) ifelse(r == 0, -eps, ifelse(r == 1, 1 + eps, r)))
  risks$treat_all <- rep(1 + eps, length(y))
  risks$treat_none <- rep(-eps, length(y))
  one <- function(r, h) {
    tp <- sapply(thresholds, function(t) mean(r[y == 1] >= t)) * pos_rate
    fp <- sapply(thresholds, function(t) mean(r[y == 0] >= t)) * (1 - pos_rate)
    nb <- tp - thresholds / (1 - thresholds) * fp - h
    list(tp_rate = tp, fp_rate = fp, net_benefit = nb)
  }
  out <- lapply(names(risks), function(m) one(risks[[m]], if (is.null(harm[[m]])) 0 else harm[[m]]))
  names(out) <- names(risks)
  nb_all <- out$treat_all$net_benefit
  for (m in names(out)) {
    nia <- (out[[m]]$net_benefit - nb_all) / (thresholds / (1 - thresholds)) * nper
    out[[m]]$net_intervention_avoided <- ifelse(is.finite(nia), nia, NA)
    # +-Inf cannot travel through JSON: 1 / -1 for +-Inf, 0 when finite, null for NaN
    out[[m]]$nia_inf <- ifelse(is.finite(nia), 0, ifelse(is.nan(nia), NA, sign(nia)))
    h <- if (is.null(harm[[m]])) 0 else harm[[m]]
    out[[m]]$standardized_net_benefit <- if (h != 0) rep(NA, length(thresholds)) else
      out[[m]]$net_benefit / pos_rate
  }
  list(thresholds = thresholds, pos_rate = pos_rate, curves = out)
}

asah <- read.csv("data/asah.csv")
fit <- glm(poor ~ s100b + wfns, family = binomial, data = asah)
risk_glm <- unname(fitted(fit))
risk_s100b <- (asah$s100b - min(asah$s100b)) / (max(asah$s100b) - min(asah$s100b))
grid <- seq(0, 0.99, by = 0.01)

# smallest distance between a fitted risk and a threshold: risks travel through JSON with 15
# significant digits, so the test checks that no risk sits within rounding error of a threshold
min_gap <- min(abs(outer(risk_glm, grid, "-")))

toy_y <- c(1, 0, 1, 0, 1, 0, 0, 1, 0, 0, 1, 0)
toy_risks <- list(
  a = c(0, 0, 0.25, 0.25, 0.5, 0.5, 0.75, 1, 1, 0.75, 0.25, 0),
  b = c(1, 0.5, 0.75, 0.125, 0.5, 0, 0.25, 0.875, 0.5, 0.25, 0, 1)
)
toy_thr <- c(0, 0.125, 0.25, 0.5, 0.75, 0.875, 0.9375)

res <- list(
  versions = list(R = as.character(getRversion()),
                  rms = as.character(packageVersion("rms")),
                  pROC = as.character(packageVersion("pROC")),
                  brglm2 = as.character(packageVersion("brglm2")),
                  jsonlite = as.character(packageVersion("jsonlite"))),
  asah = c(dca_binary(asah$poor, list(glm = risk_glm, s100b_rescaled = risk_s100b), grid),
           list(coef = as.list(coef(fit)), risk_glm = risk_glm, min_gap = min_gap)),
  asah_harm_prev = c(dca_binary(asah$poor, list(glm = risk_glm, s100b_rescaled = risk_s100b),
                                grid, harm = list(glm = 0.05, treat_all = 0.01), prevalence = 0.2),
                     list(harm = list(glm = 0.05, treat_all = 0.01), prevalence = 0.2)),
  toy = c(dca_binary(toy_y, toy_risks, toy_thr), list(y = toy_y, risks = toy_risks))
)
jsonlite::write_json(res, "decision_r.json", digits = NA, auto_unbox = TRUE, pretty = TRUE,
                     na = "null")
