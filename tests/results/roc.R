# pROC 1.18 reference values for myorisk.modeling.roc (tests/test_roc.py).
# Run from tests/results/: Rscript --vanilla roc.R  -> roc_r.json
suppressMessages({library(pROC); library(jsonlite)})

asah <- read.csv("data/asah.csv")
birthwt <- read.csv("data/birthwt.csv")
datasets <- list(asah = asah, birthwt = birthwt)

mk_roc <- function(d, outcome, predictor, direction) {
  roc(d[[outcome]], d[[predictor]], levels = c(0, 1), direction = direction, quiet = TRUE)
}

best <- function(r, method) {
  cc <- coords(r, x = "best", best.method = method,
               ret = c("threshold", "sensitivity", "specificity", "ppv", "npv",
                       "youden", "closest.topleft"),
               transpose = FALSE)
  as.list(cc)
}

# ---- single curves ---------------------------------------------------------------------------
specs <- list(
  list(data = "asah", outcome = "poor", predictor = "s100b", direction = "auto"),
  list(data = "asah", outcome = "poor", predictor = "ndka", direction = "auto"),
  list(data = "asah", outcome = "poor", predictor = "wfns", direction = "auto"),
  list(data = "asah", outcome = "poor", predictor = "age", direction = "auto"),
  list(data = "asah", outcome = "poor", predictor = "s100b", direction = ">"),
  list(data = "asah", outcome = "poor", predictor = "wfns", direction = "<"),
  list(data = "birthwt", outcome = "low", predictor = "lwt", direction = "auto"),
  list(data = "birthwt", outcome = "low", predictor = "age", direction = "auto"),
  list(data = "birthwt", outcome = "low", predictor = "lwt", direction = "<")
)
curves <- lapply(specs, function(s) {
  d <- datasets[[s$data]]
  r <- mk_roc(d, s$outcome, s$predictor, s$direction)
  ci <- ci.auc(r, method = "delong")
  c(s, list(
    direction_used = r$direction,
    n_cases = length(r$cases), n_controls = length(r$controls),
    auc = as.numeric(auc(r)),
    var = var(r, method = "delong"),
    ci = as.numeric(ci),
    ci90 = as.numeric(ci.auc(r, method = "delong", conf.level = 0.90)),
    best_youden = best(r, "youden"),
    best_topleft = best(r, "closest.topleft")
  ))
})

# ---- full curve points and placements for two cases (asah s100b; birthwt lwt with ties) ----
points <- function(r) {
  # +-Inf cannot travel through JSON: flag them separately
  list(threshold = ifelse(is.finite(r$thresholds), r$thresholds, NA),
       threshold_inf = ifelse(is.finite(r$thresholds), 0, sign(r$thresholds)),
       sensitivity = r$sensitivities, specificity = r$specificities)
}
r_s100b <- mk_roc(asah, "poor", "s100b", "auto")
r_lwt <- mk_roc(birthwt, "low", "lwt", "auto")
pl <- pROC:::delongPlacements(r_s100b)
curve_points <- list(
  asah_s100b = points(r_s100b),
  birthwt_lwt = points(r_lwt),
  asah_s100b_placements = list(theta = pl$theta, X = pl$X, Y = pl$Y)
)

# ---- near-tie guard: adjacent doubles whose midpoint rounds onto a data value --------------
nt_pred <- c(1, 1 + 2^-52, 2, 3, 1 + 2^-52, 2.5)
nt_resp <- c(0, 1, 0, 1, 0, 1)
near_tie <- lapply(c("<", ">"), function(dirn) {
  r <- roc(nt_resp, nt_pred, levels = c(0, 1), direction = dirn, quiet = TRUE)
  c(list(direction = dirn, auc = as.numeric(auc(r))), points(r))
})

# ---- tied optima (pROC returns every tied row) and a single-case curve (DeLong CI is NA) ----
tie_pred <- c(1, 2, 3, 4)
tie_resp <- c(0, 1, 0, 1)
r_tie <- roc(tie_resp, tie_pred, levels = c(0, 1), direction = "<", quiet = TRUE)
one_pred <- c(1, 2, 5, 4)
one_resp <- c(0, 0, 0, 1)
r_one <- roc(one_resp, one_pred, levels = c(0, 1), direction = "<", quiet = TRUE)
small <- list(
  tie = list(predictor = tie_pred, response = tie_resp, auc = as.numeric(auc(r_tie)),
             best_youden = best(r_tie, "youden"), best_topleft = best(r_tie, "closest.topleft")),
  one_case = list(predictor = one_pred, response = one_resp, auc = as.numeric(auc(r_one)),
                  var = var(r_one), ci = as.numeric(ci.auc(r_one, method = "delong")))
)

# ---- paired DeLong tests -------------------------------------------------------------------
paired_specs <- list(
  list(data = "asah", outcome = "poor", p1 = "wfns", p2 = "s100b"),
  list(data = "asah", outcome = "poor", p1 = "wfns", p2 = "ndka"),
  list(data = "asah", outcome = "poor", p1 = "ndka", p2 = "s100b"),
  list(data = "asah", outcome = "poor", p1 = "s100b", p2 = "age"),
  list(data = "birthwt", outcome = "low", p1 = "lwt", p2 = "age")
)
paired <- lapply(paired_specs, function(s) {
  d <- datasets[[s$data]]
  r1 <- mk_roc(d, s$outcome, s$p1, "auto")
  r2 <- mk_roc(d, s$outcome, s$p2, "auto")
  t <- roc.test(r1, r2, method = "delong", paired = TRUE)
  t90 <- roc.test(r1, r2, method = "delong", paired = TRUE, conf.level = 0.90)
  c(s, list(direction1 = r1$direction, direction2 = r2$direction,
            estimate = unname(t$estimate), z = unname(t$statistic), p = t$p.value,
            conf_int = as.numeric(t$conf.int), conf_int90 = as.numeric(t90$conf.int)))
})

# ---- every pair of three scores (myorisk roc -s wfns -s s100b -s ndka): raw and Holm p -------
three <- c("wfns", "s100b", "ndka")
pr <- combn(three, 2)
all_pairs <- lapply(seq_len(ncol(pr)), function(k) {
  r1 <- mk_roc(asah, "poor", pr[1, k], "auto")
  r2 <- mk_roc(asah, "poor", pr[2, k], "auto")
  t <- roc.test(r1, r2, method = "delong", paired = TRUE)
  list(score1 = pr[1, k], score2 = pr[2, k], z = unname(t$statistic), p = t$p.value,
       diff = unname(t$estimate[1] - t$estimate[2]), conf_int = as.numeric(t$conf.int))
})
holm <- p.adjust(sapply(all_pairs, function(a) a$p), method = "holm")
for (k in seq_along(all_pairs)) all_pairs[[k]]$p_holm <- holm[k]

# ---- unpaired DeLong tests -----------------------------------------------------------------
female <- asah$gender == "Female"
unpaired_one <- function(label, y1, x1, y2, x2) {
  r1 <- roc(y1, x1, levels = c(0, 1), direction = "auto", quiet = TRUE)
  r2 <- roc(y2, x2, levels = c(0, 1), direction = "auto", quiet = TRUE)
  t <- suppressWarnings(roc.test(r1, r2, method = "delong", paired = FALSE))
  list(label = label, direction1 = r1$direction, direction2 = r2$direction,
       estimate = unname(t$estimate), statistic = unname(t$statistic),
       df = unname(t$parameter), p = t$p.value)
}
unpaired <- list(
  unpaired_one("asah wfns vs s100b (same subjects, tested as unpaired)",
               asah$poor, asah$wfns, asah$poor, asah$s100b),
  unpaired_one("asah wfns vs ndka (same subjects, tested as unpaired)",
               asah$poor, asah$wfns, asah$poor, asah$ndka),
  unpaired_one("asah s100b: women vs men",
               asah$poor[female], asah$s100b[female], asah$poor[!female], asah$s100b[!female]),
  unpaired_one("birthwt lwt vs asah s100b",
               birthwt$low, birthwt$lwt, asah$poor, asah$s100b)
)

res <- list(
  versions = list(R = as.character(getRversion()),
                  rms = as.character(packageVersion("rms")),
                  pROC = as.character(packageVersion("pROC")),
                  brglm2 = as.character(packageVersion("brglm2")),
                  jsonlite = as.character(packageVersion("jsonlite"))),
  curves = curves,
  points = curve_points,
  small = small,
  near_tie = list(predictor = nt_pred, response = nt_resp, curves = near_tie),
  paired = paired,
  all_pairs = list(data = "asah", outcome = "poor", scores = three, pairs = all_pairs),
  unpaired = unpaired
)
jsonlite::write_json(res, "roc_r.json", digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
