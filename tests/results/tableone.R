# Reference values for myorisk.modeling.tableone (Table 1: descriptive statistics and
# between-group tests). Run from tests/results/ with `Rscript --vanilla tableone.R`.
# Output: tableone_r.json. Base R `stats` only (t.test, wilcox.test, chisq.test, fisher.test,
# kruskal.test, oneway.test, quantile type 7, sd, shapiro.test).
suppressMessages({library(jsonlite); library(rms); library(pROC); library(brglm2)})

b <- read.csv("data/birthwt.csv", stringsAsFactors = FALSE)
a <- read.csv("data/asah.csv", stringsAsFactors = FALSE)

nz <- function(x) if (is.null(x)) NA else unname(x)
ht <- function(h) list(statistic = nz(h$statistic), parameter = nz(h$parameter),
                       p.value = h$p.value, method = h$method)
qw <- function(expr) suppressWarnings(expr)  # "approximation may be incorrect" / ties notes

# Descriptives of a numeric vector (NA removed, as the Python table does after counting them)
desc <- function(x) {
  m <- sum(is.na(x)); x <- x[!is.na(x)]
  list(n = length(x), missing = m, mean = mean(x), sd = sd(x),
       q = unname(quantile(x, c(0.25, 0.5, 0.75), type = 7)),
       shapiro = if (length(x) >= 3 && length(x) <= 5000) ht(shapiro.test(x)) else NA)
}

# Everything about one continuous variable by a grouping column.
# Groups are ordered as sort(unique(g)) - the same order the Python code uses; for two groups
# x = first level, y = second, which fixes the sign of t and which W is reported.
cont <- function(d, v, g) {
  x <- d[[v]]; grp <- d[[g]]
  keep <- !is.na(grp)
  x <- x[keep]; grp <- grp[keep]
  lev <- sort(unique(grp))
  f <- factor(grp, levels = lev)
  out <- list(overall = desc(x), groups = lapply(setNames(lev, as.character(lev)),
                                                 function(l) desc(x[grp == l])))
  ok <- !is.na(x)
  out$kruskal <- ht(kruskal.test(x[ok], f[ok]))
  out$anova <- ht(oneway.test(x[ok] ~ f[ok], var.equal = TRUE))
  if (length(lev) == 2) {
    x1 <- x[ok & grp == lev[1]]; x2 <- x[ok & grp == lev[2]]
    out$welch <- ht(t.test(x1, x2))
    out$student <- ht(t.test(x1, x2, var.equal = TRUE))
    out$wilcox <- ht(qw(wilcox.test(x1, x2)))
  }
  out
}

# Everything about one categorical variable by a grouping column (levels sorted, as in Python)
cat_ <- function(d, v, g, fisher = TRUE) {
  keep <- !is.na(d[[g]])
  x <- d[[v]][keep]; grp <- d[[g]][keep]
  ok <- !is.na(x)
  tab <- table(factor(x[ok], levels = sort(unique(x[ok]))),
               factor(grp[ok], levels = sort(unique(grp[ok]))))
  cs <- qw(chisq.test(tab))
  out <- list(levels = rownames(tab), groups = colnames(tab),
              counts = unname(lapply(seq_len(nrow(tab)), function(i) as.numeric(tab[i, ]))),
              missing = sum(!ok), expected_min = min(cs$expected), chisq = ht(cs))
  if (all(dim(tab) == 2)) out$chisq_uncorrected <- ht(qw(chisq.test(tab, correct = FALSE)))
  if (fisher) {
    ft <- fisher.test(tab, workspace = 2e7)
    out$fisher <- ht(ft)
    if (all(dim(tab) == 2)) out$fisher_or <- list(estimate = unname(ft$estimate),
                                                  conf.int = as.numeric(ft$conf.int))
  }
  out
}

res <- list()

# ---- birthwt by low (0/1), and by race (3 groups) ---------------------------------------
res$birthwt <- list(
  by_low = list(
    continuous = list(age = cont(b, "age", "low"), lwt = cont(b, "lwt", "low")),
    categorical = lapply(setNames(nm = c("race", "smoke", "ht", "ui", "ftv")),
                         function(v) cat_(b, v, "low"))),
  by_race = list(
    continuous = list(age = cont(b, "age", "race"), lwt = cont(b, "lwt", "race")),
    categorical = list(smoke = cat_(b, "smoke", "race"), low = cat_(b, "low", "race")))
)

# ---- aSAH by outcome (Good / Poor) ---------------------------------------------------------
res$asah <- list(by_outcome = list(
  continuous = lapply(setNames(nm = c("age", "s100b", "ndka", "wfns")),
                      function(v) cont(a, v, "outcome")),
  categorical = list(wfns = cat_(a, "wfns", "outcome"), gender = cat_(a, "gender", "outcome"))))

# ---- small constructed frames (stored in the JSON so Python builds the same data) ----------
# (1) no ties, both n < 50 -> exact Wilcoxon; (2) ties, n < 50 -> normal approximation with
# continuity and tie correction; (3) one missing value in x and one missing group.
set.seed(20240501)
noties <- data.frame(g = rep(c("A", "B"), c(9, 12)),
                     x = c(round(rnorm(9, 10, 3), 3), round(rnorm(12, 12.5, 3), 3)))
stopifnot(!anyDuplicated(noties$x))
ties <- data.frame(g = rep(c("A", "B"), c(11, 8)),
                   x = c(1, 2, 2, 3, 3, 3, 4, 5, 5, 7, 8, 3, 4, 5, 5, 6, 7, 7, 9))
withna <- data.frame(g = c("a", "a", "a", "b", "b", "b", "b", NA),
                     x = c(1.5, NA, 2.5, 3.1, 4.2, 0.7, 5.5, 9.9),
                     k = c("u", "v", "u", NA, "v", "v", "u", "u"))
res$small <- list(
  noties = list(data = noties, cont = cont(noties, "x", "g")),
  ties = list(data = ties, cont = cont(ties, "x", "g")),
  withna = list(data = withna, cont = cont(withna, "x", "g"), cat = cat_(withna, "k", "g"))
)

# ---- sparse tables for Fisher's exact test --------------------------------------------------
t22 <- matrix(c(3, 1, 1, 6), 2)                          # 2 x 2, expected < 5
t23 <- matrix(c(2, 5, 0, 3, 4, 1), 2)                    # 2 x 3, expected < 5
t33 <- matrix(c(3, 0, 1, 2, 4, 0, 0, 2, 5), 3)           # 3 x 3
t22big <- matrix(c(12, 5, 9, 20), 2)                     # 2 x 2, chi-squared regime
tabs <- list(t22 = t22, t23 = t23, t33 = t33, t22big = t22big)
res$tables <- lapply(tabs, function(m) {
  f <- fisher.test(m)
  out <- list(table = unname(lapply(seq_len(nrow(m)), function(i) as.numeric(m[i, ]))),
              fisher = ht(f), chisq = ht(qw(chisq.test(m))))
  if (all(dim(m) == 2)) out$fisher_or <- list(estimate = unname(f$estimate),
                                              conf.int = as.numeric(f$conf.int))
  out
})

res$versions <- list(R = as.character(getRversion()),
                     rms = as.character(packageVersion("rms")),
                     pROC = as.character(packageVersion("pROC")),
                     brglm2 = as.character(packageVersion("brglm2")),
                     jsonlite = as.character(packageVersion("jsonlite")))
write_json(res, "tableone_r.json", digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
