#!/usr/bin/env Rscript
# Golden values for ikaros.course.stats: time-varying Cox regression on (start, stop] data and
# exact Clopper-Pearson intervals.
#
# Run from the repository root, after the Python side has written the interval tables:
#     /work/venv/bin/python tests/reference/course/make_inputs.py
#     Rscript tests/reference/course/make_golden.R
#
# Inputs: tests/reference/course/tv_*.csv, written by ikaros (tests/course/reference_inputs.py)
# from the hand-made course table and the seeded simulated cohorts. Each row is one interval
# (start, stop] of one patient with the covariates cum_exposure (months of lenalidomide) and
# on_len (0/1). This script fits
#     coxph(Surv(start, stop, event) ~ covariates, ties = "efron")
# with convergence tightened (eps 1e-12, toler.chol 1e-14), and binom.test() confidence intervals for a fixed list
# of counts. Deterministic: no random numbers; the same CSV files give the same golden.json.

suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

outdir <- file.path("tests", "reference", "course")
if (!dir.exists(outdir)) stop("run this script from the repository root")

models <- list(
  handmade_os = list(c("cum_exposure")),
  maintenance_spm = list(c("cum_exposure"), c("cum_exposure", "on_len")),
  maintenance_efs_lagged = list(c("cum_exposure", "on_len")),
  ball_efs = list(c("cum_exposure"))
)

fit_one <- function(data, covariates) {
  f <- as.formula(paste("Surv(start, stop, event) ~", paste(covariates, collapse = " + ")))
  fit <- coxph(f, data = data, ties = "efron",
               control = coxph.control(eps = 1e-12, iter.max = 200, toler.chol = 1e-14))
  nm <- names(coef(fit))
  named <- function(x) as.list(setNames(unname(x), nm))
  ci <- confint(fit)
  list(
    covariates = I(covariates),
    n_intervals = nrow(data),
    n_patients = length(unique(data$patient_id)),
    events = fit$nevent,
    iterations = fit$iter,
    coef = named(coef(fit)),
    se = named(sqrt(diag(fit$var))),
    lower = named(exp(ci[, 1])),
    upper = named(exp(ci[, 2])),
    p = named(summary(fit)$coefficients[, "Pr(>|z|)"]),
    loglik = fit$loglik[2],
    loglik_null = fit$loglik[1]
  )
}

cox <- list()
for (name in names(models)) {
  csv <- file.path(outdir, paste0("tv_", name, ".csv"))
  data <- read.csv(csv, colClasses = c(patient_id = "character"))
  stopifnot(all(data$stop > data$start))
  fits <- lapply(models[[name]], function(cv) fit_one(data, cv))
  names(fits) <- vapply(models[[name]], paste, character(1), collapse = "+")
  cox[[name]] <- list(csv = basename(csv), fits = fits)
  for (k in names(fits)) {
    cat(sprintf("%s ~ %s: n = %d intervals, %d events, coef = %s\n", name, k,
                fits[[k]]$n_intervals, fits[[k]]$events,
                paste(format(unlist(fits[[k]]$coef), digits = 10), collapse = ", ")))
  }
}

binom_cases <- list(
  c(25, 28, 0.95), c(9, 19, 0.95), c(8, 26, 0.95), c(5, 32, 0.95), c(3, 7, 0.95),
  c(0, 10, 0.95), c(10, 10, 0.95), c(0, 1, 0.95), c(1, 1, 0.95), c(1, 1000, 0.95),
  c(999, 1000, 0.95), c(25, 28, 0.90), c(16, 32, 0.99)
)
binom <- lapply(binom_cases, function(b) {
  bt <- binom.test(b[1], b[2], conf.level = b[3])
  list(count = b[1], n = b[2], conf_level = b[3], estimate = unname(bt$estimate),
       lower = bt$conf.int[1], upper = bt$conf.int[2])
})

golden <- list(
  generator = "tests/reference/course/make_golden.R",
  r_version = R.version.string,
  survival_version = as.character(packageVersion("survival")),
  cox_method = "coxph(Surv(start, stop, event) ~ ..., ties = 'efron'), eps = 1e-12, toler.chol = 1e-14",
  cox = cox,
  binom = binom
)
path <- file.path(outdir, "golden.json")
writeLines(toJSON(golden, auto_unbox = TRUE, digits = NA, pretty = TRUE), path)
cat("wrote", path, "\n")
