#!/usr/bin/env Rscript
## Reference values for ikaros' own Cox engine (ikaros.stats.cox.fit_cox): R coxph on generated
## inputs with ties, several covariates, strata, and 100,000 patients.
##
## Run from the repository root:
##     Rscript tests/reference/cox_engine/make_golden.R
## Writes next to this script the inputs (<case>.csv.gz, generated here with a fixed seed and
## re-read before fitting, so that R and Python fit identical numbers) and golden.json.
## Deterministic: RNGkind("Mersenne-Twister", "Inversion", "Rejection"), set.seed per case, no
## dates; gzip output is written without a time stamp (gzcon on a connection, level 9).
##
## Fits: coxph(Surv(time, event) ~ covariates [+ strata(stratum)], ties = ...) with
## control = coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100).

suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})
options(stringsAsFactors = FALSE, warn = 1)
RNGkind("Mersenne-Twister", "Inversion", "Rejection")

script_arg <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
script_dir <- if (length(script_arg) == 1) {
  dirname(normalizePath(script_arg, mustWork = TRUE))
} else {
  normalizePath(file.path("tests", "reference", "cox_engine"), mustWork = TRUE)
}
out_file <- file.path(script_dir, "golden.json")
arr <- function(x) I(unname(as.vector(x)))
num <- function(x) unname(as.numeric(x))
tight <- coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100)

## A cohort: n patients, k continuous covariates (2 decimals), one binary, optional strata;
## exponential times with true log-hazard ratios, uniform censoring; times rounded to `unit`
## (coarse units give many ties).
simulate <- function(seed, n, k, n_strata, unit) {
  set.seed(seed)
  d <- data.frame(id = seq_len(n))
  lp <- 0
  for (j in seq_len(k)) {
    x <- round(rnorm(n), 2)
    d[[paste0("x", j)]] <- x
    lp <- lp + c(0.5, -0.3, 0.2, 0.1)[j] * x
  }
  d$b <- rbinom(n, 1, 0.3)
  lp <- lp + 0.4 * d$b
  d$stratum <- if (n_strata > 1) sample.int(n_strata, n, replace = TRUE) else 1L
  base <- c(1, 1.5, 0.7, 2)[d$stratum] / 24
  te <- rexp(n, base * exp(lp))
  tc <- runif(n, 6, 72)
  d$time <- pmax(unit, ceiling(pmin(te, tc) / unit) * unit)
  d$event <- as.integer(te <= tc)
  d$id <- NULL
  d[, c("time", "event", setdiff(names(d), c("time", "event")))]
}

write_gz <- function(d, path) {
  con <- gzcon(file(path, "wb"), level = 9)
  write.csv(d, con, row.names = FALSE)
  close(con)
}

fit_case <- function(id, seed, n, k, n_strata, unit, ties) {
  file <- paste0(id, ".csv.gz")
  write_gz(simulate(seed, n, k, n_strata, unit), file.path(script_dir, file))
  d <- read.csv(file.path(script_dir, file))
  covs <- c(paste0("x", seq_len(k)), "b")
  rhs <- paste(covs, collapse = " + ")
  if (n_strata > 1) rhs <- paste(rhs, "+ strata(stratum)")
  formula <- as.formula(paste("Surv(time, event) ~", rhs))
  elapsed <- system.time(fit <- coxph(formula, data = d, ties = ties, control = tight))
  s <- summary(fit)
  co <- s$coefficients
  ci <- exp(confint(fit))
  list(
    id = id, file = file, formula = paste(deparse(formula), collapse = ""), ties = ties,
    n = nrow(d), nevent = sum(d$event), n_strata = n_strata,
    distinct_event_times = length(unique(d$time[d$event == 1])),
    covariates = arr(covs),
    coef = arr(num(co[, "coef"])), se = arr(num(co[, "se(coef)"])),
    hr = arr(num(co[, "exp(coef)"])), lower = arr(num(ci[, 1])), upper = arr(num(ci[, 2])),
    z = arr(num(co[, "z"])), p = arr(num(co[, "Pr(>|z|)"])),
    loglik_null = num(fit$loglik[1]), loglik = num(fit$loglik[2]),
    lr_chisq = num(s$logtest["test"]), lr_df = num(s$logtest["df"]),
    lr_p = num(s$logtest["pvalue"]),
    wald_chisq = num(s$waldtest["test"]), wald_df = num(s$waldtest["df"]),
    wald_p = num(s$waldtest["pvalue"]),
    iter = num(fit$iter),
    seconds = NULL  # timing is not a reference value (elapsed[3] varies)
  )
}

cases <- list(
  fit_case("small_ties", 101, 200, 1, 1, 1, "efron"),
  fit_case("small_breslow", 101, 200, 1, 1, 1, "breslow"),
  fit_case("continuous_no_ties", 102, 1000, 2, 1, 1e-6, "efron"),
  fit_case("strata_3", 103, 3000, 3, 3, 1, "efron"),
  fit_case("large_100k_strata", 104, 100000, 2, 2, 1 / 30.4375, "efron")
)

out <- list(
  meta = list(R = R.version.string, survival = as.character(packageVersion("survival")),
              jsonlite = as.character(packageVersion("jsonlite")),
              control = "coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100)"),
  cases = cases
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", null = "null",
                  pretty = TRUE), out_file)
