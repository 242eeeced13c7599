#!/usr/bin/env Rscript
## Reference ("golden") values for ikaros.ipd: statistics of reconstructed patient data.
##
## Run from anywhere (after make_inputs.py has written inputs/):
##     Rscript tests/reference/ipd/make_golden.R
## Reads the patients that ikaros reconstructed from the digitised curves, inputs/ipd_*.csv,
## and writes golden.json next to this script:
##   - RMST and its standard error, R's print(survfit, rmean = tau) (survival:::survmean), at
##     tau = 12, 24, an exact event time, and the default (shortest last follow-up of the arms);
##   - medians with log-log (Brookmeyer-Crowley) intervals and landmark survival (survfit,
##     conf.type = "log-log");
##   - Cox hazard ratios (coxph, Efron ties, Wald interval and p) and log-rank tests (survdiff)
##     of every arm against the first; the k-arm log-rank test;
##   - competing risks: cmprsk::cuminc estimates and variances at the landmarks, Gray's test.
## Deterministic: no random numbers, no dates. See README.md.

suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
  library(jsonlite)
})
options(stringsAsFactors = FALSE, warn = 1)

script_arg <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
script_dir <- if (length(script_arg) == 1) {
  dirname(normalizePath(script_arg, mustWork = TRUE))
} else {
  normalizePath(file.path("tests", "reference", "ipd"), mustWork = TRUE)
}
input_dir <- file.path(script_dir, "inputs")
cases <- fromJSON(file.path(input_dir, "cases.json"))

CONF_LEVEL <- 0.95
Z <- qnorm(1 - (1 - CONF_LEVEL) / 2)
arr <- function(x) I(unname(as.vector(x)))
num <- function(x) unname(as.numeric(x))

read_arm <- function(file) {
  d <- read.csv(file.path(input_dir, file))
  stopifnot(all(d$reconstructed == 1))
  data.frame(time = d$pfs_time, event = d$pfs_event, arm = d$arm)
}

rmean <- function(d, tau) {
  fit <- survfit(Surv(time, event) ~ 1, data = d)
  tab <- summary(fit, rmean = tau)$table
  list(tau = tau, rmean = num(tab["rmean"]), se = num(tab["se(rmean)"]))
}

arm_block <- function(d, taus) {
  fit <- survfit(Surv(time, event) ~ 1, data = d, conf.type = "log-log")
  tab <- summary(fit)$table
  lm <- summary(fit, times = cases$landmarks)
  list(
    n = nrow(d), events = sum(d$event),
    median = list(estimate = num(tab["median"]), lower = num(tab["0.95LCL"]),
                  upper = num(tab["0.95UCL"])),
    landmarks = list(time = arr(lm$time), surv = arr(lm$surv), lower = arr(lm$lower),
                     upper = arr(lm$upper), n_risk = arr(lm$n.risk)),
    rmst = lapply(taus, function(tau) rmean(d, tau))
  )
}

comparison <- function(ref, other) {
  d <- rbind(ref, other)
  d$x <- as.numeric(d$arm == other$arm[1])
  cox <- coxph(Surv(time, event) ~ x, data = d, ties = "efron")
  s <- summary(cox)$coefficients
  sd <- survdiff(Surv(time, event) ~ x, data = d)
  list(
    arm = other$arm[1], reference = ref$arm[1],
    coef = num(s[1, "coef"]), se = num(s[1, "se(coef)"]), hr = num(s[1, "exp(coef)"]),
    lower = num(exp(s[1, "coef"] - Z * s[1, "se(coef)"])),
    upper = num(exp(s[1, "coef"] + Z * s[1, "se(coef)"])),
    p = num(s[1, "Pr(>|z|)"]),
    logrank_statistic = num(sd$chisq),
    logrank_p = pchisq(sd$chisq, length(sd$n) - 1, lower.tail = FALSE)
  )
}

rmst_difference <- function(a, b) {   # arm a minus reference b, independent arms
  est <- a$rmean - b$rmean
  se <- sqrt(a$se^2 + b$se^2)
  list(tau = a$tau, estimate = est, se = se, lower = est - Z * se, upper = est + Z * se,
       p = 2 * pnorm(-abs(est) / se))
}

survival_case <- function(prefix, names) {
  arms <- lapply(names, function(n) read_arm(sprintf("ipd_%s_%s.csv", prefix, n)))
  names(arms) <- names
  default_tau <- min(vapply(arms, function(d) max(d$time), 0))
  ref <- arms[[1]]
  exact <- sort(unique(ref$time[ref$event == 1]))[40]   # a tau on an event time
  taus <- c(cases$taus, exact, default_tau)
  blocks <- lapply(arms, arm_block, taus = taus)
  comps <- lapply(names[-1], function(n) {
    out <- comparison(ref, arms[[n]])
    out$rmst_difference <- rmst_difference(rmean(arms[[n]], default_tau),
                                           rmean(ref, default_tau))
    out
  })
  all <- do.call(rbind, arms)
  overall <- if (length(names) > 2) {
    sd <- survdiff(Surv(time, event) ~ arm, data = all)
    list(statistic = num(sd$chisq), df = length(sd$n) - 1L,
         p = pchisq(sd$chisq, length(sd$n) - 1, lower.tail = FALSE))
  } else NULL
  list(default_tau = default_tau, exact_tau = exact, taus = arr(taus), arms = blocks,
       comparisons = comps, overall = overall)
}

competing_case <- function(names) {
  d <- do.call(rbind, lapply(names, function(n) read.csv(file.path(input_dir,
                                                                    sprintf("ipd_cif_%s.csv", n)))))
  ci <- cuminc(d$time, d$status, d$arm)
  tests <- ci$Tests
  est <- timepoints(ci[names(ci) != "Tests"], cases$landmarks)
  arms <- lapply(names, function(n) {
    sel <- d$arm == n
    list(n = sum(sel), events = sum(d$status[sel] == 1), competing = sum(d$status[sel] == 2),
         event_at = arr(est$est[paste(n, 1), ]), event_var = arr(est$var[paste(n, 1), ]),
         competing_at = arr(est$est[paste(n, 2), ]),
         competing_var = arr(est$var[paste(n, 2), ]))
  })
  names(arms) <- names
  list(arms = arms, gray = list(statistic = num(tests["1", "stat"]),
                                df = as.integer(tests["1", "df"]),
                                p = num(tests["1", "pv"])))
}

golden <- list(
  description = paste(
    "Statistics of patient data reconstructed by ikaros.ipd from digitised curves:",
    "survfit RMST (rmean) with se, medians and landmarks (log-log), coxph (Efron), survdiff,",
    "cmprsk::cuminc and Gray's test. Inputs: inputs/ipd_*.csv (make_inputs.py)."
  ),
  r_version = R.version.string,
  survival_version = as.character(packageVersion("survival")),
  cmprsk_version = as.character(packageVersion("cmprsk")),
  conf_level = CONF_LEVEL,
  landmarks = arr(cases$landmarks),
  two_arm = survival_case("two_arm", c("control", "experimental")),
  three_arm = survival_case("three_arm", c("a", "b", "c")),
  competing = competing_case(c("low", "high"))
)
writeLines(toJSON(golden, digits = NA, auto_unbox = TRUE, na = "null", null = "null",
                  pretty = TRUE),
           file.path(script_dir, "golden.json"))
cat("wrote", file.path(script_dir, "golden.json"), "\n")
