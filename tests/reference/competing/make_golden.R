#!/usr/bin/env Rscript
## Reference ("golden") values for ikaros.stats.competing (competing risks).
##
## Run from anywhere:
##     Rscript tests/reference/competing/make_golden.R
## Writes, next to this script:
##     inputs/mgus1_first.csv     survival::mgus1, first transition per patient (241 rows)
##     inputs/sim_ties.csv        simulated, whole-month times (heavy ties), 3 arms, 2 causes
##     inputs/sim_three.csv       simulated, 3 causes, 2 groups, times to 0.01 (few ties)
##     inputs/sim_small.csv       simulated, 36 patients, times 1..8 (extreme ties)
##     golden.json
## Every computation uses the CSV files as read back, so R and Python see identical numbers.
## Deterministic: fixed RNG and seeds, no dates; re-running gives byte-identical files.
## See README.md in this directory for the meaning of every field.

suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
  library(jsonlite)
})
options(stringsAsFactors = FALSE, warn = 1)
RNGkind("Mersenne-Twister", "Inversion", "Rejection")

script_arg <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
script_dir <- if (length(script_arg) == 1) {
  dirname(normalizePath(script_arg, mustWork = TRUE))
} else {
  normalizePath(file.path("tests", "reference", "competing"), mustWork = TRUE)
}
input_dir <- file.path(script_dir, "inputs")
dir.create(input_dir, showWarnings = FALSE)

CONF_LEVEL <- 0.95
Z <- qnorm(1 - (1 - CONF_LEVEL) / 2)
arr <- function(x) I(unname(as.vector(x)))

## ---------------------------------------------------------------------------
## Data sets
## ---------------------------------------------------------------------------
## mgus1: the first transition of each patient is the row with enum == 1 (equivalently
## start == 0). event is censor / pcm / death; mgus1 has no "other malignancy" level.
m <- survival::mgus1
m <- m[m$enum == 1, ]
stopifnot(nrow(m) == 241, all(m$start == 0), !anyDuplicated(m$id))
mgus <- data.frame(
  id = m$id,
  time = m$stop,
  status = c(censor = 0L, pcm = 1L, death = 2L)[as.character(m$event)],
  # 3 causes: multiple myeloma, other plasma-cell malignancy (AM, LP, MA), death
  status3 = ifelse(m$event == "pcm", ifelse(m$pcdx == "MM", 1L, 2L),
                   ifelse(m$event == "death", 3L, 0L)),
  sex = as.character(m$sex),
  male = as.integer(m$sex == "male"),
  age = m$age,
  hgb = m$hgb,
  mspike = m$mspike
)
stopifnot(!anyNA(mgus[, c("time", "status", "status3", "sex", "age", "mspike")]))

## Simulations: SPM (cause 1) competing with death (cause 2), and for sim_three progression.
sim_ties <- local({
  set.seed(20240601)
  n <- 400
  arm <- sample(c("len", "len_plus", "obs"), n, replace = TRUE, prob = c(0.4, 0.3, 0.3))
  age <- round(rnorm(n, 62, 8))
  iss3 <- rbinom(n, 1, 0.3)
  ldh <- round(exp(rnorm(n, log(220), 0.3)))
  lp <- 0.5 * (arm == "len") + 0.8 * (arm == "len_plus")
  t_spm <- rexp(n, 0.004 * exp(lp + 0.02 * (age - 62)))
  t_death <- rexp(n, 0.012 * exp(0.6 * iss3 + 0.04 * (age - 62) + 0.002 * (ldh - 220)))
  t_cens <- pmin(runif(n, 24, 120), 96)
  t <- pmin(t_spm, t_death, t_cens)
  status <- ifelse(t == t_cens, 0L, ifelse(t == t_spm, 1L, 2L))
  data.frame(time = ceiling(t), status = status, arm = arm, age = age, iss3 = iss3,
             len = as.integer(arm != "obs"), ldh = ldh)
})
sim_three <- local({
  set.seed(20240602)
  n <- 250
  group <- sample(c("A", "B"), n, replace = TRUE)
  x1 <- round(rnorm(n), 3)
  x2 <- rbinom(n, 1, 0.5)
  h <- exp(0.4 * (group == "B") + 0.3 * x1)
  t1 <- rexp(n, 0.05 * h)
  t2 <- rexp(n, 0.10 * exp(0.5 * x2))
  t3 <- rexp(n, 0.06 * exp(-0.2 * x1))
  tc <- runif(n, 2, 25)
  t <- pmin(t1, t2, t3, tc)
  status <- ifelse(t == tc, 0L, ifelse(t == t1, 1L, ifelse(t == t2, 2L, 3L)))
  data.frame(time = round(t, 2), status = status, group = group, x1 = x1, x2 = x2)
})
sim_small <- local({
  set.seed(20240603)
  n <- 36
  group <- sample(c("a", "b"), n, replace = TRUE)
  status <- sample(0:2, n, replace = TRUE, prob = c(0.3, 0.35, 0.35))
  data.frame(time = sample(1:8, n, replace = TRUE), status = status, group = group,
             x = round(runif(n), 2))
})

write_input <- function(d, name) {
  path <- file.path(input_dir, paste0(name, ".csv"))
  write.csv(d, path, row.names = FALSE, na = "NA")
  read.csv(path, stringsAsFactors = FALSE)
}
datasets <- list(
  mgus1_first = write_input(mgus, "mgus1_first"),
  sim_ties = write_input(sim_ties, "sim_ties"),
  sim_three = write_input(sim_three, "sim_three"),
  sim_small = write_input(sim_small, "sim_small")
)

## ---------------------------------------------------------------------------
## Helpers
## ---------------------------------------------------------------------------
## value of a right-continuous step function (x, y) at t (y0 before x[1])
step_at <- function(x, y, t, y0 = 0) {
  i <- findInterval(t, x)
  ifelse(i == 0, y0, y[pmax(i, 1)])
}
loglog_ci <- function(f, v) {
  ok <- f > 0 & f < 1
  fs <- ifelse(ok, f, 0.5)
  se <- sqrt(pmax(v, 0)) / abs(fs * log(fs))
  th <- log(-log(fs))
  list(lower = ifelse(ok, exp(-exp(th + Z * se)), NA),
       upper = ifelse(ok, exp(-exp(th - Z * se)), NA))
}

## Aalen-Johansen: cuminc estimates and variances, survfit multi-state pstate, at every
## distinct observed time of each group.
cif_case <- function(id, ds, status_col, group_col, labels) {
  d <- datasets[[ds]]
  st <- d[[status_col]]
  g <- if (is.null(group_col)) rep("all", nrow(d)) else d[[group_col]]
  k <- length(labels)
  ci <- cuminc(d$time, st, g)
  ci <- ci[names(ci) != "Tests"]
  curves <- list()
  for (gl in sort(unique(g))) {
    sel <- g == gl
    tg <- d$time[sel]
    sg <- st[sel]
    times <- sort(unique(tg))
    sf <- survfit(Surv(tg, factor(sg, levels = 0:k)) ~ 1)
    stopifnot(identical(sf$states, c("(s0)", as.character(1:k))))
    n_risk <- vapply(times, function(t) sum(tg >= t), 0)
    stopifnot(all(step_at(sf$time, sf$n.risk[, 1], times, NA) == n_risk))
    for (code in seq_len(k)) {
      key <- paste(gl, code)
      if (key %in% names(ci)) {
        cc <- ci[[key]]
        est <- step_at(cc$time, cc$est, times)
        var <- step_at(cc$time, cc$var, times)
      } else {            # cuminc omits causes without events in the whole data set
        est <- var <- rep(0, length(times))
      }
      pstate <- step_at(sf$time, sf$pstate[, code + 1], times)
      ci95 <- loglog_ci(est, var)
      curves[[length(curves) + 1]] <- list(
        group = gl, code = code, cause = labels[[code]], time = arr(times),
        n_risk = arr(n_risk),
        n_event = arr(vapply(times, function(t) sum(tg == t & sg == code), 0)),
        cuminc_est = arr(est), cuminc_var = arr(var), survfit_pstate = arr(pstate),
        lower = arr(ci95$lower), upper = arr(ci95$upper)
      )
    }
  }
  list(id = id, dataset = ds, status = status_col, group = group_col,
       cause_labels = arr(unlist(labels)), curves = curves)
}

gray_case <- function(id, ds, status_col, group_col, labels, rho = 0) {
  d <- datasets[[ds]]
  ci <- cuminc(d$time, d[[status_col]], d[[group_col]], rho = rho)
  tests <- ci$Tests
  lapply(rownames(tests), function(code) {
    stat <- tests[code, "stat"]
    df <- tests[code, "df"]
    list(id = paste(id, code, sep = "-"), dataset = ds, status = status_col, group = group_col,
         cause_labels = arr(unlist(labels)), code = as.integer(code),
         cause = labels[[as.integer(code)]], rho = rho, statistic = stat, df = as.integer(df),
         p_cuminc = tests[code, "pv"], p = pchisq(stat, df, lower.tail = FALSE))
  })
}

regression_case <- function(id, ds, status_col, covariates, labels, code) {
  d <- datasets[[ds]]
  d <- d[complete.cases(d[, c("time", status_col, covariates)]), ]
  X <- as.matrix(d[, covariates, drop = FALSE])
  st <- d[[status_col]]
  # gtol tightened from the default 1e-6, which stops Newton-Raphson ~1e-7 short of the
  # maximum (enough to move a small coefficient by 1e-5 relative); maxiter from 10 to 50
  fg <- crr(d$time, st, X, failcode = code, cencode = 0, gtol = 1e-12, maxiter = 50)
  fg_default <- crr(d$time, st, X, failcode = code, cencode = 0)
  se <- sqrt(diag(fg$var))
  ev <- as.integer(st == code)
  cx <- coxph(Surv(d$time, ev) ~ X, ties = "efron")
  cs <- summary(cx)$coefficients
  list(id = id, dataset = ds, status = status_col, covariates = arr(covariates),
       cause_labels = arr(unlist(labels)), code = code, cause = labels[[code]],
       n = nrow(d), events = sum(st == code), competing = sum(st != code & st != 0),
       crr = list(coef = arr(fg$coef), se = arr(se),
                  p = arr(2 * pnorm(-abs(fg$coef / se))), loglik = fg$loglik,
                  converged = fg$converged,
                  coef_default_gtol = arr(fg_default$coef)),
       coxph = list(coef = arr(coef(cx)), se = arr(cs[, "se(coef)"]),
                    p = arr(cs[, "Pr(>|z|)"]), nevent = cx$nevent))
}

km_case <- function(id, ds, status_col, group_col, labels, code) {
  d <- datasets[[ds]]
  g <- if (is.null(group_col)) rep("all", nrow(d)) else d[[group_col]]
  curves <- lapply(sort(unique(g)), function(gl) {
    sel <- g == gl
    fit <- survfit(Surv(d$time[sel], d[[status_col]][sel] == code) ~ 1,
                   conf.type = "log-log", conf.int = CONF_LEVEL)
    list(group = gl, time = arr(fit$time), one_minus_surv = arr(1 - fit$surv),
         lower = arr(1 - fit$upper), upper = arr(1 - fit$lower))
  })
  list(id = id, dataset = ds, status = status_col, group = group_col,
       cause_labels = arr(unlist(labels)), code = code, cause = labels[[code]], curves = curves)
}

## ---------------------------------------------------------------------------
## Cases
## ---------------------------------------------------------------------------
L_mgus <- list("pcm", "death")
L_mgus3 <- list("MM", "other_pcm", "death")
L_spm <- list("SPM", "death")
L_three <- list("SPM", "progression", "death")

cif <- list(
  cif_case("mgus1-all", "mgus1_first", "status", NULL, L_mgus),
  cif_case("mgus1-sex", "mgus1_first", "status", "sex", L_mgus),
  cif_case("mgus1-pcdx-sex", "mgus1_first", "status3", "sex", L_mgus3),
  cif_case("sim_ties-arm", "sim_ties", "status", "arm", L_spm),
  cif_case("sim_three-group", "sim_three", "status", "group", L_three),
  cif_case("sim_small-group", "sim_small", "status", "group", L_spm)
)
gray <- c(
  gray_case("mgus1-sex", "mgus1_first", "status", "sex", L_mgus),
  gray_case("mgus1-sex-rho1", "mgus1_first", "status", "sex", L_mgus, rho = 1),
  gray_case("mgus1-pcdx-sex", "mgus1_first", "status3", "sex", L_mgus3),
  gray_case("sim_ties-arm", "sim_ties", "status", "arm", L_spm),
  gray_case("sim_ties-arm-rho1", "sim_ties", "status", "arm", L_spm, rho = 1),
  gray_case("sim_three-group", "sim_three", "status", "group", L_three),
  gray_case("sim_small-group", "sim_small", "status", "group", L_spm),
  gray_case("sim_small-group-rho-0.5", "sim_small", "status", "group", L_spm, rho = -0.5)
)
mgus_cov <- c("age", "male", "hgb", "mspike")
regression <- list(
  regression_case("mgus1-pcm", "mgus1_first", "status", mgus_cov, L_mgus, 1L),
  regression_case("mgus1-death", "mgus1_first", "status", mgus_cov, L_mgus, 2L),
  regression_case("sim_ties-spm", "sim_ties", "status", c("len", "age", "iss3", "ldh"), L_spm, 1L),
  regression_case("sim_ties-death", "sim_ties", "status", c("len", "age", "iss3", "ldh"), L_spm, 2L),
  regression_case("sim_three-spm", "sim_three", "status", c("x1", "x2"), L_three, 1L),
  regression_case("sim_three-progression", "sim_three", "status", c("x1", "x2"), L_three, 2L),
  regression_case("sim_small-spm", "sim_small", "status", c("x"), L_spm, 1L)
)
km <- list(
  km_case("mgus1-pcm", "mgus1_first", "status", NULL, L_mgus, 1L),
  km_case("mgus1-pcm-sex", "mgus1_first", "status", "sex", L_mgus, 1L),
  km_case("sim_ties-spm-arm", "sim_ties", "status", "arm", L_spm, 1L),
  km_case("sim_small-spm-group", "sim_small", "status", "group", L_spm, 1L)
)

golden <- list(
  description = paste(
    "Competing-risks reference values: cmprsk::cuminc (estimates, variances, Gray's test),",
    "survival::survfit multi-state pstate, cmprsk::crr, coxph cause-specific (Efron) and",
    "1 - Kaplan-Meier; see README.md"
  ),
  r_version = paste(R.version$major, R.version$minor, sep = "."),
  survival_version = as.character(packageVersion("survival")),
  cmprsk_version = as.character(packageVersion("cmprsk")),
  jsonlite_version = as.character(packageVersion("jsonlite")),
  conf_level = CONF_LEVEL,
  datasets = lapply(datasets, function(d) list(n = nrow(d), columns = arr(names(d)))),
  cif = cif, gray = gray, regression = regression, km = km
)
writeLines(toJSON(golden, digits = NA, auto_unbox = TRUE, na = "null", null = "null",
                  pretty = TRUE),
           file.path(script_dir, "golden.json"))
cat("wrote", file.path(script_dir, "golden.json"), "\n")
