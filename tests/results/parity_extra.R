# Independent R-parity check on public data sets that the other scripts do not use:
#   MASS::Pima.tr / Pima.te / Pima.tr2 (diabetes; outcome type "No"/"Yes"; Pima.tr2 has NAs),
#   MASS::biopsy (breast biopsies; class benign/malignant; NAs in V6; integer scores 1-10),
#   datasets::esoph expanded to one row per subject (three character factors, sparse cells),
#   datasets::mtcars (n = 32, am ~ wt + hp: fitted probabilities near 0/1, ties).
# Exports the data to data/ and writes parity_extra_r.json. Run from tests/results/:
#   Rscript --vanilla parity_extra.R
suppressMessages({library(rms); library(pROC); library(brglm2); library(MASS); library(jsonlite)})
dir.create("data", showWarnings = FALSE)

# jsonlite (digits = NA) writes 15 significant digits: every number that Python must use as an
# input is rounded to the double its 15-digit text parses to, before R uses it.
r15 <- function(x) ifelse(is.na(x), NA_real_, suppressWarnings(as.numeric(sprintf("%.15g", x))))
w <- function(d, name) write.csv(d, file.path("data", paste0(name, ".csv")), row.names = FALSE, na = "")
radix <- function(x, ref = NULL) {              # C-locale (code-point) level order
  l <- sort(unique(x[!is.na(x)]), method = "radix")
  if (!is.null(ref)) l <- c(ref, setdiff(l, ref))
  factor(x, levels = l)
}
vec <- function(x) as.list(setNames(as.numeric(x), names(x)))

# ------------------------------------------------------------------ data -------------------------
agegrp <- function(a) ifelse(a < 30, "<30", ifelse(a < 50, "30-49", ">=50"))
pima_out <- function(d) {
  d$type <- as.character(d$type)
  d$agegrp <- agegrp(d$age)          # sorts "30-49" < "<30" < ">=50" in C, "<30" < ">=50" < "30-49" in ICU
  d
}
w(pima_out(Pima.tr), "pima_tr")
w(pima_out(Pima.te), "pima_te")
w(pima_out(Pima.tr2), "pima_tr2")
b <- biopsy
b$class <- as.character(b$class)
w(b, "biopsy")
e <- esoph
long <- do.call(rbind, lapply(seq_len(nrow(e)), function(i) {
  n1 <- e$ncases[i]; n0 <- e$ncontrols[i]
  data.frame(agegp = as.character(e$agegp[i]), alcgp = as.character(e$alcgp[i]),
             tobgp = as.character(e$tobgp[i]), case = c(rep(1L, n1), rep(0L, n0)))
}))
w(long, "esoph_long")
m <- mtcars
m$car <- rownames(m)
w(m[, c("car", "am", "wt", "hp", "mpg", "cyl", "qsec")], "mtcars")
# airquality: Ozone > 60 (NAs in Ozone and Solar.R), Month as text; fitted probabilities near 0
# and 1 with a large-scale predictor: profile limits far out in the likelihood's tails
aq <- airquality
aq$hi <- ifelse(aq$Ozone > 60, 1L, 0L)
aq$month <- month.abb[aq$Month]
w(aq[, c("hi", "Solar.R", "Wind", "Temp", "month")], "airquality_hi")
# 30 of iris's versicolor/virginica: near-separated (profile limits tens of units out)
set.seed(3)
ir <- iris[51:150, ][sample(100, 30), c("Species", "Petal.Width", "Sepal.Length")]
ir$Species <- as.character(ir$Species)
w(ir, "iris30")

ptr <- read.csv("data/pima_tr.csv"); pte <- read.csv("data/pima_te.csv")
ptr2 <- read.csv("data/pima_tr2.csv"); bio <- read.csv("data/biopsy.csv")
aqh <- read.csv("data/airquality_hi.csv"); ir30 <- read.csv("data/iris30.csv")
ir30$Species <- factor(ir30$Species)
eso <- read.csv("data/esoph_long.csv"); mt <- read.csv("data/mtcars.csv")
for (nm in c("ptr", "pte", "ptr2")) { d <- get(nm); d$type <- factor(d$type); assign(nm, d) }
bio$class <- factor(bio$class)

# ------------------------------------------------------------------ fits -------------------------
# Profile-likelihood limits solved exactly (uniroot on the constrained deviance): MASS's confint
# interpolates a profile traced on a grid with a spline, which is only accurate to ~1e-3.
exact_profile <- function(g, level = 0.95) {
  X <- model.matrix(g); y <- g$y; d0 <- deviance(g); q <- qchisq(level, 1)
  b <- coef(g); se <- sqrt(diag(vcov(g)))
  # constrained deviance by Newton-Raphson with step halving (glm.fit's IRLS can diverge here)
  softplus <- function(eta) ifelse(eta > 0, eta + log1p(exp(-eta)), log1p(exp(eta)))
  # Constrained deviance (beta_j fixed at v) by Newton-Raphson with step halving, started from a
  # nearby constrained solution: the limit is approached along a path of small steps in v, so
  # each fit starts close to its solution (far out in the tails a cold start saturates plogis).
  newton_dev <- function(Z, off, beta) {
    dev <- function(bb) { eta <- off + drop(Z %*% bb); -2 * sum(y * eta - softplus(eta)) }
    cur <- dev(beta)
    for (it in 1:500) {
      pr <- plogis(off + drop(Z %*% beta))
      sc <- crossprod(Z, y - pr)
      step <- solve(crossprod(Z, Z * (pr * (1 - pr))), sc)
      # Newton decrement: the deviance is within 1e-14 (relative) of its constrained minimum
      if (sum(sc * step) < 1e-14 * (abs(cur) + 1)) return(list(dev = cur, beta = beta))
      h <- 1
      repeat {
        nb <- beta + h * drop(step); nd <- dev(nb)
        if (nd <= cur) break
        h <- h / 2
        if (h < 1e-12) {
          if (sum(sc * step) < 1e-10 * (abs(cur) + 1)) return(list(dev = cur, beta = beta))
          stop("no descent")
        }
      }
      beta <- nb; cur <- nd
    }
    stop("constrained Newton did not converge")
  }
  lim <- function(j, s) {
    Z <- X[, -j, drop = FALSE]
    at <- function(v, start) newton_dev(Z, v * X[, j], start)
    v0 <- b[j]; st0 <- b[-j]
    repeat {  # walk out in steps of se/4 until the deviance passes d0 + q
      v1 <- v0 + s * se[j] / 4
      r1 <- at(v1, st0)
      if (r1$dev - d0 - q > 0) break
      v0 <- v1; st0 <- r1$beta
    }
    f <- function(v) at(v, st0)$dev - d0 - q
    uniroot(f, sort(c(v0, v1)), tol = 1e-13 * max(1, abs(b[j])), maxiter = 200)$root
  }
  list(low = sapply(seq_along(b), lim, s = -1), high = sapply(seq_along(b), lim, s = 1))
}

fit_case <- function(name, data, formula, dataset, outcome, predictors, reference = list(),
                     firth = TRUE) {
  g <- glm(formula, data = data, family = binomial, control = glm.control(epsilon = 1e-14, maxit = 100))
  f <- lrm(formula, data = data)
  s <- summary(g)$coefficients
  ci <- suppressMessages(confint(g))
  cc <- somers2(fitted(g), g$y)
  ex <- exact_profile(g)
  out <- list(name = name, dataset = dataset, outcome = outcome, predictors = predictors,
              reference = reference, names = names(coef(f)), n = nobs(g),
              n_omitted = length(g$na.action),
              omitted_rows = if (length(g$na.action)) as.integer(g$na.action) + 1L else list(),
              coef = unname(coef(g)), se = unname(s[, 2]), z = unname(s[, 3]), p = unname(s[, 4]),
              profile_low = unname(ci[, 1]), profile_high = unname(ci[, 2]),
              exact_low = ex$low, exact_high = ex$high,
              loglik = as.numeric(logLik(g)), aic = AIC(g),
              lrm_coef = unname(coef(f)), lrm_stats = vec(f$stats),
              c_exact = unname(cc["C"]), dxy_exact = unname(cc["Dxy"]))
  if (firth) {
    bf <- glm(formula, data = data, family = binomial, method = "brglmFit", type = "AS_mean",
              epsilon = 1e-12, maxit = 200)
    sb <- summary(bf)$coefficients
    out$firth <- list(coef = unname(coef(bf)), se = unname(sb[, 2]), z = unname(sb[, 3]),
                      p = unname(sb[, 4]))
  }
  out
}

pima_x <- c("npreg", "glu", "bmi", "ped", "age")
tr2_x <- c("glu", "bp", "bmi", "ped", "age")
ag_x <- c("glu", "bmi", "ped", "agegrp")
bio_x <- c("V1", "V3", "V4", "V6", "V7")
eso_x <- c("agegp", "alcgp", "tobgp")
form <- function(y, x) as.formula(paste(y, "~", paste(x, collapse = " + ")))

ptr2_c <- ptr2; ptr2_c$agegrp <- radix(ptr2_c$agegrp)      # C-locale (code-point) levels
ptr2_l <- ptr2; ptr2_l$agegrp <- factor(ptr2_l$agegrp)     # R's default factor() in this locale
eso_f <- eso; for (v in eso_x) eso_f[[v]] <- factor(eso_f[[v]])   # default factor() levels
# Every fit below lets glm()/lrm() turn character columns into factors as a user's call would:
# levels in the locale's collation (ICU under C.UTF-8 on Debian), first level the reference.
fits <- list(
  fit_case("pima_tr", ptr, form("type", pima_x), "pima_tr", "type", pima_x),
  fit_case("pima_tr2_missing", ptr2, form("type", tr2_x), "pima_tr2", "type", tr2_x),
  fit_case("pima_tr2_agegrp", ptr2, form("type", ag_x), "pima_tr2", "type", ag_x),
  fit_case("biopsy_missing", bio, form("class", bio_x), "biopsy", "class", bio_x),
  fit_case("esoph", eso_f, form("case", eso_x), "esoph_long", "case", eso_x),
  fit_case("mtcars", mt, am ~ wt + hp, "mtcars", "am", c("wt", "hp")),
  fit_case("airquality_month", aqh, hi ~ Solar.R + Wind + Temp + month, "airquality_hi", "hi",
           c("Solar.R", "Wind", "Temp", "month")),
  fit_case("iris30", ir30, Species ~ Petal.Width + Sepal.Length, "iris30", "Species",
           c("Petal.Width", "Sepal.Length"))
)
# the same agegrp model with code-point (C-locale) levels, i.e. another reference level:
loc <- fit_case("pima_tr2_agegrp_radix", ptr2_c, form("type", ag_x), "pima_tr2", "type", ag_x,
                firth = FALSE)
loc$locale_levels <- levels(ptr2_l$agegrp)
loc$radix_levels <- levels(ptr2_c$agegrp)
loc$esoph_levels <- lapply(setNames(eso_x, eso_x), function(v) levels(factor(eso[[v]])))
loc$collate <- Sys.getlocale("LC_COLLATE")
loc$outcome_levels_no_Yes <- levels(factor(c("no", "Yes")))
loc$outcome_levels_radix_no_Yes <- sort(c("no", "Yes"), method = "radix")

# ------------------------------------------------------------------ external validation ----------
g_tr <- glm(form("type", pima_x), data = ptr, family = binomial,
            control = glm.control(epsilon = 1e-14, maxit = 100))
p_te <- r15(unname(predict(g_tr, newdata = pte, type = "response")))
p_tr <- r15(unname(fitted(g_tr)))
y_te <- as.integer(pte$type == "Yes"); y_tr <- as.integer(ptr$type == "Yes")
vp_names <- c("Dxy", "C (ROC)", "R2", "D", "D:Chi-sq", "D:p", "U", "U:Chi-sq", "U:p", "Q",
              "Brier", "Intercept", "Slope", "Emax", "E90", "Eavg", "S:z", "S:p")
vp <- val.prob(p_te, y_te, pl = FALSE)
cc_te <- somers2(p_te, y_te)
citl <- unname(coef(glm(y_te ~ 1, offset = qlogis(p_te), family = binomial,
                        control = glm.control(epsilon = 1e-14, maxit = 100))))
external <- list(p = p_te, y = y_te, stats = as.list(setNames(unname(vp)[seq_along(vp_names)], vp_names)),
                 c_exact = unname(cc_te["C"]), dxy_exact = unname(cc_te["Dxy"]), citl = citl)

# ------------------------------------------------------------------ ROC --------------------------
best <- function(r) {
  cc <- coords(r, x = "best", best.method = "youden",
               ret = c("threshold", "sensitivity", "specificity", "ppv", "npv"), transpose = FALSE)
  as.list(cc)
}
roc_one <- function(label, dataset, outcome, score, y, x) {
  r <- roc(y, x, levels = c(0, 1), direction = "auto", quiet = TRUE)
  list(label = label, dataset = dataset, outcome = outcome, score = score,
       direction = r$direction, n_cases = length(r$cases), n_controls = length(r$controls),
       auc = as.numeric(auc(r)), ci = as.numeric(ci.auc(r, method = "delong")), best = best(r))
}
bio_y <- as.integer(bio$class == "malignant")
mt_y <- mt$am
rocs <- list(
  roc_one("pima_te model", "pima_te", "type", "p_model", y_te, p_te),
  roc_one("pima_te glu", "pima_te", "type", "glu", y_te, pte$glu),
  roc_one("pima_te bmi (ties)", "pima_te", "type", "bmi", y_te, pte$bmi),
  roc_one("pima_te npreg (heavy ties)", "pima_te", "type", "npreg", y_te, pte$npreg),
  roc_one("biopsy V6 (NAs dropped)", "biopsy", "class", "V6", bio_y, bio$V6),
  roc_one("biopsy V1", "biopsy", "class", "V1", bio_y, bio$V1),
  roc_one("mtcars wt (direction >)", "mtcars", "am", "wt", mt_y, mt$wt),
  roc_one("mtcars qsec", "mtcars", "am", "qsec", mt_y, mt$qsec)
)
paired_one <- function(label, dataset, outcome, s1, s2, y, x1, x2) {
  ok <- !is.na(x1) & !is.na(x2) & !is.na(y)
  r1 <- roc(y[ok], x1[ok], levels = c(0, 1), direction = "auto", quiet = TRUE)
  r2 <- roc(y[ok], x2[ok], levels = c(0, 1), direction = "auto", quiet = TRUE)
  t <- roc.test(r1, r2, method = "delong", paired = TRUE)
  list(label = label, dataset = dataset, outcome = outcome, score1 = s1, score2 = s2, n = sum(ok),
       direction1 = r1$direction, direction2 = r2$direction,
       auc1 = as.numeric(auc(r1)), auc2 = as.numeric(auc(r2)),
       ci1 = as.numeric(ci.auc(r1, method = "delong")), ci2 = as.numeric(ci.auc(r2, method = "delong")),
       best1 = best(r1), best2 = best(r2),
       estimate = unname(t$estimate), z = unname(t$statistic), p = t$p.value,
       conf_int = as.numeric(t$conf.int))
}
paired <- list(
  paired_one("pima_te glu vs bmi", "pima_te", "type", "glu", "bmi", y_te, pte$glu, pte$bmi),
  paired_one("pima_te model vs glu", "pima_te", "type", "p_model", "glu", y_te, p_te, pte$glu),
  paired_one("biopsy V1 vs V6 (complete pairs)", "biopsy", "class", "V1", "V6", bio_y, bio$V1, bio$V6),
  paired_one("mtcars wt vs qsec", "mtcars", "am", "wt", "qsec", mt_y, mt$wt, mt$qsec)
)
# unpaired: the glucose curve in the training sample against the test sample
r_a <- roc(y_tr, ptr$glu, levels = c(0, 1), direction = "auto", quiet = TRUE)
r_b <- roc(y_te, pte$glu, levels = c(0, 1), direction = r_a$direction, quiet = TRUE)
tu <- roc.test(r_a, r_b, method = "delong", paired = FALSE)
unpaired <- list(label = "glu: pima_tr vs pima_te", auc1 = as.numeric(auc(r_a)), auc2 = as.numeric(auc(r_b)),
                 statistic = unname(tu$statistic), df = unname(tu$parameter), p = tu$p.value)

# ------------------------------------------------------------------ nomograms --------------------
options(datadist = NULL)
nomo_case <- function(name, data, formula, dataset, outcome, predictors, complete = FALSE) {
  dd <<- datadist(if (complete) na.omit(data[, c(outcome, predictors)]) else data)
  options(datadist = "dd")
  f <- lrm(formula, data = data, x = TRUE)
  nom <- nomogram(f, fun = plogis, funlabel = "Risk")
  info <- attr(nom, "info")
  axes <- lapply(predictors, function(v) {
    s <- nom[[v]]
    list(variable = v, values = I(as.character(s[[v]])), points = I(as.numeric(s$points)))
  })
  list(name = name, dataset = dataset, outcome = outcome, predictors = predictors, complete = complete,
       coef = unname(coef(f)), sc = info$sc, intercept = unname(info$Intercept), axes = axes,
       total_points = I(nom$total.points$x), prob_x = I(nom$Risk$x), prob_real = I(nom$Risk$x.real))
}
nomos <- list(
  nomo_case("pima_tr", ptr, form("type", pima_x), "pima_tr", "type", pima_x),
  nomo_case("esoph", eso_f, form("case", eso_x), "esoph_long", "case", eso_x),
  # datadist() is computed on every non-missing value, including rows the model drops
  nomo_case("pima_tr2_missing", ptr2, form("type", tr2_x), "pima_tr2", "type", tr2_x),
  # ... and on the complete cases only (the rows the model uses)
  nomo_case("pima_tr2_complete_dd", ptr2, form("type", tr2_x), "pima_tr2", "type", tr2_x, complete = TRUE)
)

res <- list(
  versions = list(R = R.version.string, rms = as.character(packageVersion("rms")),
                  pROC = as.character(packageVersion("pROC")),
                  brglm2 = as.character(packageVersion("brglm2")),
                  Hmisc = as.character(packageVersion("Hmisc"))),
  fits = fits, locale_factor = loc, external = external,
  roc = rocs, paired = paired, unpaired = unpaired, nomograms = nomos
)
write_json(res, "parity_extra_r.json", digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
