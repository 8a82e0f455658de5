# metafor 3.8 / pROC 1.18 / glm reference values for myorisk.modeling.meta (tests/test_meta.py).
# Run from tests/results/: Rscript --vanilla meta.R  -> meta_r.json (and data/meta_sites.csv)
suppressMessages({library(metafor); library(pROC); library(jsonlite)})

pooled <- function(yi, vi, lo = NULL, hi = NULL) {
  fit <- rma(yi = yi, vi = vi, method = "REML", test = "knha")
  pr <- predict(fit)
  sc <- sqrt(fit$se^2 + fit$tau2)
  prob <- NA
  if (!is.null(lo) || !is.null(hi)) {
    a <- if (is.null(lo)) 0 else pt((lo - fit$b[1]) / sc, fit$k - 1)
    b <- if (is.null(hi)) 1 else pt((hi - fit$b[1]) / sc, fit$k - 1)
    prob <- b - a
  }
  list(yi = as.numeric(yi), vi = as.numeric(vi), k = fit$k,
       estimate = as.numeric(fit$b), se = fit$se, low = fit$ci.lb, high = fit$ci.ub,
       pi_low = pr$pi.lb, pi_high = pr$pi.ub, tau2 = fit$tau2, i2 = fit$I2, h2 = fit$H2,
       q = fit$QE, q_p = fit$QEp, s2w = fit$s2w,
       prob_lo = if (is.null(lo)) NA else lo, prob_hi = if (is.null(hi)) NA else hi, prob = prob)
}

# ---- 1. pooling given (yi, vi): public data and edge cases -----------------------------------
bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
set.seed(20261204)
k2 <- c(0.8, 1.3)
cases <- list(
  bcg_logrr = pooled(bcg$yi, bcg$vi, lo = NULL, hi = log(0.7)),
  bcg_first4 = pooled(bcg$yi[1:4], bcg$vi[1:4], lo = log(0.5), hi = log(1)),
  homogeneous = pooled(c(1.10, 1.12, 1.08, 1.11, 1.09), c(0.04, 0.05, 0.03, 0.06, 0.05),
                       lo = qlogis(0.7), hi = NULL),
  two_studies = pooled(k2, c(0.02, 0.03), lo = 0.9, hi = 1.1),
  ten_random = pooled(rnorm(10, 0.9, 0.3), runif(10, 0.005, 0.08), lo = 0.9, hi = 1.1)
)

# random cases: k from 2 to 30, heterogeneity from none to large, variances over two decades
set.seed(314)
random_cases <- lapply(1:150, function(i) {
  k <- sample(2:30, 1)
  vi <- exp(runif(k, log(0.002), log(0.5)))
  tau <- c(0, 0.05, 0.2, 0.6, 1.5)[sample(5, 1)]
  yi <- rnorm(k, rnorm(1), sqrt(vi + tau^2))
  pooled(yi, vi, lo = 0, hi = NULL)
})

# ---- 2. per-site aggregates of a fixed model on synthetic centres (written here) -------------
set.seed(14)
mk <- function(site, n, shift, miscal) {
  x1 <- rnorm(n, shift, 1); x2 <- rbinom(n, 1, 0.4)
  true_lp <- -1 + 0.9 * x1 + 0.7 * x2 + miscal
  data.frame(site = site, x1 = round(x1, 4), x2 = x2, y = rbinom(n, 1, plogis(true_lp)))
}
d <- rbind(mk("A", 180, 0, 0), mk("B", 120, 0.5, 0), mk("C", 150, -0.3, -0.7),
           mk("D", 90, 0.2, 0.4), mk("E", 200, 0, 0.1))
write.csv(d, "data/meta_sites.csv", row.names = FALSE)
d <- read.csv("data/meta_sites.csv")
d$lp <- -1.1 + 0.8 * d$x1 + 0.75 * d$x2   # the fixed model being validated
d$p <- plogis(d$lp)
thr <- c(0.1, 0.2, 0.3)
# glm's default stop (relative deviance change < 1e-8) leaves its SEs ~1e-6 from the maximum-
# likelihood values (they use the weights of the previous iterate); converge fully instead.
tight <- glm.control(epsilon = 1e-15, maxit = 100)
sites <- lapply(split(d, d$site), function(s) {
  o <- sum(s$y); e <- sum(s$p); n <- nrow(s)
  g_citl <- glm(y ~ 1, offset = lp, family = binomial, data = s, control = tight)
  g_slope <- glm(y ~ lp, family = binomial, data = s, control = tight)
  r <- roc(s$y, s$p, levels = c(0, 1), direction = "<", quiet = TRUE)
  auc_ <- as.numeric(auc(r)); se_ <- sqrt(var(r, method = "delong"))
  nb <- sapply(thr, function(t) {
    pos <- s$p >= t
    sum(pos & s$y == 1) / n - sum(pos & s$y == 0) / n * t / (1 - t)
  })
  list(site = s$site[1], n = n, events = o, expected = e, oe = o / e,
       log_oe_se = sqrt((1 - o / n) / o),
       citl = unname(coef(g_citl)[1]), citl_se = unname(sqrt(vcov(g_citl)[1, 1])),
       slope = unname(coef(g_slope)[2]), slope_se = unname(sqrt(vcov(g_slope)[2, 2])),
       c = auc_, c_se = se_, c_logit = qlogis(auc_), c_se_logit = se_ / (auc_ * (1 - auc_)),
       brier = mean((s$p - s$y)^2), lp_mean = mean(s$lp), lp_sd = sd(s$lp),
       thresholds = thr, net_benefit = nb)
})
names(sites) <- NULL
col <- function(name) sapply(sites, `[[`, name)
meta_sites <- list(
  c = pooled(col("c_logit"), col("c_se_logit")^2, lo = qlogis(0.7), hi = NULL),
  oe = pooled(log(col("oe")), col("log_oe_se")^2, lo = log(0.9), hi = log(1.1)),
  slope = pooled(col("slope"), col("slope_se")^2, lo = 0.9, hi = 1.1),
  citl = pooled(col("citl"), col("citl_se")^2, lo = -0.1, hi = 0.1)
)

# ---- 2b. internal-external cross-validation by centre (glm on the other centres) -------------
iecv_sites <- lapply(sort(unique(d$site)), function(lab) {
  dev <- d[d$site != lab, ]; val <- d[d$site == lab, ]
  g <- glm(y ~ x1 + x2, family = binomial, data = dev, control = tight)
  lp <- predict(g, newdata = val); p <- plogis(lp)
  o <- sum(val$y); n <- nrow(val)
  gc <- glm(val$y ~ 1, offset = lp, family = binomial, control = tight)
  gs <- glm(val$y ~ lp, family = binomial, control = tight)
  r <- roc(val$y, p, levels = c(0, 1), direction = "<", quiet = TRUE)
  a <- as.numeric(auc(r)); se <- sqrt(var(r, method = "delong"))
  list(site = lab, n = n, events = o, oe = o / sum(p), log_oe_se = sqrt((1 - o / n) / o),
       citl = unname(coef(gc)[1]), citl_se = unname(sqrt(vcov(gc)[1, 1])),
       slope = unname(coef(gs)[2]), slope_se = unname(sqrt(vcov(gs)[2, 2])),
       c = a, c_se_logit = se / (a * (1 - a)))
})
icol <- function(name) sapply(iecv_sites, `[[`, name)
iecv <- list(
  sites = iecv_sites,
  c = pooled(qlogis(icol("c")), icol("c_se_logit")^2),
  oe = pooled(log(icol("oe")), icol("log_oe_se")^2),
  slope = pooled(icol("slope"), icol("slope_se")^2),
  citl = pooled(icol("citl"), icol("citl_se")^2)
)

# ---- 3. R's random streams used by pmvalsampsize (replayed in myorisk.modeling.sample_size) --
set.seed(123456); rn <- rnorm(5, -5, 2.5)
set.seed(123456); rb <- rbeta(2000, 0.5, 0.5)
set.seed(1234); bi <- rbinom(2000, 1, 0.018); bp <- rbinom(2000, 1, plogis(seq(-6, 6, length.out = 2000)))
set.seed(99); rb2 <- rbeta(500, 2, 5)
streams <- list(rnorm5 = rn, rbeta_head = rb[1:20], rbeta_mean = mean(rb), rbeta_sum_log = sum(log(rb)),
                rbeta25_sum = sum(rb2), rbeta25_head = rb2[1:10],
                rbinom_const = bi, rbinom_vec = bp)

out <- list(metafor = as.character(packageVersion("metafor")),
            pROC = as.character(packageVersion("pROC")),
            cases = cases, random_cases = random_cases, sites = sites, meta_sites = meta_sites, iecv = iecv, streams = streams)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null"), "meta_r.json")
