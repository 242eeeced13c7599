#!/usr/bin/env Rscript
# Golden values for src/ikaros/stats/rank_tests.py.
#
# Run from the repository root (/work/main):
#     Rscript tests/reference/rank/make_golden.R [out_dir]
# out_dir defaults to tests/reference/rank. The script is deterministic: it fixes the RNG kind and
# seed, writes each simulated data set as CSV, READS IT BACK and computes every test on the
# re-read data, so Python and R see exactly the same numbers.
#
# Kruskal-Wallis: stats::kruskal.test. Mann-Whitney: stats::wilcox.test(exact = FALSE,
# correct = TRUE). Jonckheere-Terpstra: explicit code below from the definition (pairwise counts,
# ties 1/2; null mean and tie-corrected variance of Hollander, Wolfe & Chicken 2014, section 6.2),
# written without reference to the Python code. The variance formula is checked against the exact
# permutation variance obtained by full enumeration on a small tied data set.

suppressPackageStartupMessages(library(jsonlite))
RNGkind("Mersenne-Twister", "Inversion", "Rejection")

args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args) >= 1) args[1] else file.path("tests", "reference", "rank")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

# Numbers go into the JSON verbatim with 17 significant digits (jsonlite itself stops at 15).
num <- function(x) structure(sprintf("%.17g", x), class = "json")

write_and_reread <- function(df, name) {
  path <- file.path(out_dir, name)
  write.csv(df, path, row.names = FALSE, quote = FALSE, na = "NA")
  read.csv(path, stringsAsFactors = FALSE)
}

# ---------------------------------------------------------------- Jonckheere-Terpstra by hand
jt_by_definition <- function(value, group, levels) {
  ok <- !is.na(value) & !is.na(group)
  value <- value[ok]
  group <- group[ok]
  k <- length(levels)
  J <- 0
  for (i in 1:(k - 1)) {
    for (j in (i + 1):k) {
      a <- value[group == levels[i]]
      b <- value[group == levels[j]]
      J <- J + sum(outer(a, b, "<")) + 0.5 * sum(outer(a, b, "=="))
    }
  }
  n <- sapply(levels, function(l) sum(group == l))
  N <- sum(n)
  t <- rle(sort(value))$lengths            # sizes of tied groups of values
  mean <- (N^2 - sum(n^2)) / 4
  var <- (N * (N - 1) * (2 * N + 5) - sum(n * (n - 1) * (2 * n + 5)) -
            sum(t * (t - 1) * (2 * t + 5))) / 72 +
    sum(n * (n - 1) * (n - 2)) * sum(t * (t - 1) * (t - 2)) / (36 * N * (N - 1) * (N - 2)) +
    sum(n * (n - 1)) * sum(t * (t - 1)) / (8 * N * (N - 1))
  z <- (J - mean) / sqrt(var)
  list(statistic = J, mean = mean, variance = var, z = z, p = 2 * pnorm(-abs(z)),
       n = N, n_missing = sum(!ok))
}

# Check the variance formula against exact enumeration: values with ties, sizes 2, 2, 3.
check_vals <- c(1, 2, 2, 3, 3, 3, 4)
assignments <- function(pos, sizes) {       # all ways to deal positions into groups of `sizes`
  if (length(sizes) == 1) return(list(list(pos)))
  out <- list()
  for (first in combn(length(pos), sizes[1], simplify = FALSE)) {
    for (rest in assignments(pos[-first], sizes[-1])) {
      out[[length(out) + 1]] <- c(list(pos[first]), rest)
    }
  }
  out
}
all_J <- sapply(assignments(seq_along(check_vals), c(2, 2, 3)), function(a) {
  g <- integer(length(check_vals))
  for (i in seq_along(a)) g[a[[i]]] <- i
  jt_by_definition(check_vals, g, 1:3)$statistic
})
ref <- jt_by_definition(check_vals, rep(1:3, c(2, 2, 3)), 1:3)
stopifnot(length(all_J) == 210,
          abs(mean(all_J) - ref$mean) < 1e-12,
          abs(mean((all_J - mean(all_J))^2) - ref$variance) < 1e-12)
exact_p_small <- mean(abs(all_J - ref$mean) >= abs(ref$statistic - ref$mean) - 1e-9)

# ---------------------------------------------------------------- data sets
set.seed(20170101)
n3 <- c(8, 10, 7)
g3 <- rep(1:3, n3)
ties3 <- write_and_reread(
  data.frame(group = g3, value = round(rnorm(sum(n3), mean = c(0, 0.4, 0.9)[g3]), 1)),
  "ties3.csv")

lev4 <- c("none", "low", "mid", "high")
n4 <- c(6, 9, 5, 8)
g4 <- rep(1:4, n4)
score <- pmin(4, pmax(0, round(rnorm(sum(n4), mean = 1 + 0.5 * g4, sd = 1.2))))
score[c(3, 17)] <- NA
heavy4 <- write_and_reread(data.frame(group = lev4[g4], score = score), "heavy4.csv")

two <- data.frame(group = rep(c("x", "y"), c(12, 15)),
                  value = round(c(rexp(12, 1), rexp(15, 0.6)), 1))
two$value[c(5, 20)] <- NA
two <- write_and_reread(two, "two_sample.csv")

resp_lev <- c("CR", "VGPR", "PR", "SD")
iss <- sample(1:3, 60, replace = TRUE, prob = c(0.3, 0.4, 0.3))
resp <- resp_lev[pmin(4, pmax(1, iss + sample(-1:1, 60, replace = TRUE)))]
marker <- round(exp(rnorm(60, mean = -0.3 * iss, sd = 0.8)), 2)
marker[c(7, 31, 52)] <- NA
iss[44] <- NA
myeloma <- write_and_reread(
  data.frame(patient_id = sprintf("P%02d", 1:60), iss = iss, response = resp, marker = marker),
  "myeloma_like.csv")

air <- write_and_reread(airquality[, c("Ozone", "Month")], "airquality.csv")

check <- data.frame(group = rep(1:3, c(2, 2, 3)), value = check_vals)
check <- write_and_reread(check, "tiny_ties.csv")

for (d in list(ties3$value, heavy4$score, two$value, myeloma$marker)) {
  stopifnot(any(duplicated(d[!is.na(d)])))  # every simulated set has ties
}

# ---------------------------------------------------------------- tests
cases <- list()
add <- function(...) cases[[length(cases) + 1]] <<- list(...)

kw <- function(id, data, value, group, levels = NULL) {
  ok <- complete.cases(data[[value]], data[[group]])
  r <- kruskal.test(data[[value]], factor(data[[group]]))
  add(id = id, test = "kruskal_wallis", dataset = attr(data, "file"), value = value,
      group = group, order = levels, statistic = num(unname(r$statistic)), p = num(r$p.value),
      df = unname(r$parameter), n = sum(ok), n_missing = sum(!ok))
}
mw <- function(id, data, value, group, x_level, y_level) {
  x <- data[[value]][data[[group]] %in% x_level]
  y <- data[[value]][data[[group]] %in% y_level]
  r <- wilcox.test(x, y, exact = FALSE, correct = TRUE)
  add(id = id, test = "mann_whitney", dataset = attr(data, "file"), value = value,
      group = group, x_level = x_level, y_level = y_level, statistic = num(unname(r$statistic)),
      p = num(r$p.value), n = sum(!is.na(x)) + sum(!is.na(y)),
      n_missing = sum(is.na(x)) + sum(is.na(y)))
}
jt <- function(id, data, value, group, levels) {
  r <- jt_by_definition(data[[value]], data[[group]], levels)
  add(id = id, test = "jonckheere_terpstra", dataset = attr(data, "file"), value = value,
      group = group, order = levels, statistic = num(r$statistic), p = num(r$p), z = num(r$z),
      mean = num(r$mean), variance = num(r$variance), n = r$n, n_missing = r$n_missing)
}

attr(ties3, "file") <- "ties3.csv"
attr(heavy4, "file") <- "heavy4.csv"
attr(two, "file") <- "two_sample.csv"
attr(myeloma, "file") <- "myeloma_like.csv"
attr(air, "file") <- "airquality.csv"
attr(check, "file") <- "tiny_ties.csv"

kw("kw_ties3", ties3, "value", "group")
kw("kw_heavy4", heavy4, "score", "group")
kw("kw_myeloma_iss", myeloma, "marker", "iss")
kw("kw_myeloma_response", myeloma, "marker", "response")
kw("kw_airquality", air, "Ozone", "Month")
mw("mw_two_sample", two, "value", "group", "x", "y")
mw("mw_heavy4_none_high", heavy4, "score", "group", "none", "high")
mw("mw_myeloma_iss1_iss3", myeloma, "marker", "iss", 1, 3)
mw("mw_airquality_5_8", air, "Ozone", "Month", 5, 8)
jt("jt_ties3", ties3, "value", "group", 1:3)
jt("jt_heavy4", heavy4, "score", "group", lev4)
jt("jt_myeloma_iss", myeloma, "marker", "iss", 1:3)
jt("jt_myeloma_response", myeloma, "marker", "response", resp_lev)
jt("jt_airquality", air, "Ozone", "Month", 5:9)
jt("jt_tiny_ties", check, "value", "group", 1:3)

golden <- list(
  generated_by = "tests/reference/rank/make_golden.R",
  r_version = R.version.string,
  seed = 20170101,
  tiny_ties_exact_permutation_p = num(exact_p_small),
  cases = cases
)
writeLines(toJSON(golden, auto_unbox = TRUE, json_verbatim = TRUE, pretty = TRUE, null = "null"),
           file.path(out_dir, "golden.json"))
cat("wrote", length(cases), "cases to", file.path(out_dir, "golden.json"), "\n")
