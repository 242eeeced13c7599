#!/usr/bin/env Rscript
## Reference ("golden") values for the ikaros genome-wide scan engine (ikaros.scan).
##
## Run from the repository root:
##     Rscript tests/reference/scan/make_golden.R
## Writes, next to this script, sim_matrix.csv (a simulated cohort, re-read before fitting so
## that R and Python use identical numbers) and golden.json.
##
## CoMMpass data are read in place (never copied): $IKAROS_SHARED_DATA if set, otherwise
## <repo root>/../shared/data, prepared exactly as tests/reference/survival/make_golden.R
## (see that directory's README). Deterministic: a fixed seed and RNG kind, fixed ordering, no
## dates. Per gene it records R coxph (Efron) and survdiff results; see README.md here.

suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})
options(stringsAsFactors = FALSE, warn = 1)

## ---------------------------------------------------------------------------
## Locations
## ---------------------------------------------------------------------------
script_arg <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
script_dir <- if (length(script_arg) == 1) {
  dirname(normalizePath(script_arg, mustWork = TRUE))
} else {
  normalizePath(file.path("tests", "reference", "scan"), mustWork = TRUE)
}
repo_root <- normalizePath(file.path(script_dir, "..", "..", ".."), mustWork = TRUE)
data_dir <- Sys.getenv("IKAROS_SHARED_DATA", unset = "")
if (!nzchar(data_dir)) data_dir <- file.path(repo_root, "..", "shared", "data")
data_dir <- normalizePath(data_dir, mustWork = TRUE)
out_file <- file.path(script_dir, "golden.json")
sim_file <- file.path(script_dir, "sim_matrix.csv")

f_cp_clin <- file.path(data_dir, "commpass", "clinical.csv")
f_cp_expr <- file.path(data_dir, "commpass", "expression_100genes_log2fpkm.csv")

DAYS_PER_MONTH <- 30.4375
DAYS_PER_YEAR <- 365.25

arr <- function(x) I(unname(as.vector(x)))
num <- function(x) unname(as.numeric(x))

## ---------------------------------------------------------------------------
## CoMMpass (rules of tests/reference/survival/README.md), all 100 genes
## ---------------------------------------------------------------------------
cp_clin <- read.csv(f_cp_clin, stringsAsFactors = FALSE, check.names = FALSE)
cp_clin$time <- ifelse(cp_clin$vital_status == "Dead",
                       cp_clin$days_to_death, cp_clin$days_to_last_follow_up) / DAYS_PER_MONTH
cp_clin$event <- as.integer(cp_clin$vital_status == "Dead")
cp_clin$iss <- unname(c(I = 1, II = 2, III = 3)[cp_clin$iss_stage])   # "Unknown" -> NA
cp_clin$age_years <- cp_clin$age_at_diagnosis / DAYS_PER_YEAR
cp_bad_time <- is.na(cp_clin$time) | cp_clin$time < 0
cp_os <- cp_clin[!cp_bad_time, c("bcr_patient_barcode", "time", "event", "iss", "age_years")]

cp_expr_raw <- read.csv(f_cp_expr, stringsAsFactors = FALSE, check.names = FALSE)
gene_ids <- cp_expr_raw[[1]]
expr_cols <- sort(grep("_1_BM_", colnames(cp_expr_raw)[-1], value = TRUE, fixed = TRUE))
expr_pid <- vapply(strsplit(expr_cols, "_", fixed = TRUE),
                   function(p) paste(p[1:2], collapse = "_"), "")
keep <- !duplicated(expr_pid)               # first in sorted column-name order
expr_cols <- expr_cols[keep]
expr_pid <- expr_pid[keep]
cp_expr <- data.frame(bcr_patient_barcode = expr_pid)
for (g in gene_ids) {
  cp_expr[[g]] <- as.numeric(unlist(cp_expr_raw[match(g, gene_ids), expr_cols]))
}
cp_m <- merge(cp_os, cp_expr, by = "bcr_patient_barcode", all = FALSE, sort = TRUE)
stopifnot(nrow(cp_m) == 762, sum(cp_m$event) == 153, length(gene_ids) == 100)

## ---------------------------------------------------------------------------
## Simulated cohort: tied times, null genes, a constant gene, a separated gene
## ---------------------------------------------------------------------------
RNGkind("Mersenne-Twister", "Inversion", "Rejection")
set.seed(20170715)
N_SIM <- 300
N_GENES <- 200
sim <- data.frame(id = sprintf("P%03d", seq_len(N_SIM)))
sim$age <- round(rnorm(N_SIM, 65, 9), 1)
sim$stage <- sample(1:3, N_SIM, replace = TRUE)
G <- matrix(0, N_SIM, N_GENES)
true_beta <- numeric(N_GENES)
for (j in seq_len(N_GENES)) {
  kind <- j %% 4
  G[, j] <- switch(kind + 1,
    rnorm(N_SIM, 8, 2),                          # normal, log2 scale
    log2(1 + rexp(N_SIM, 1 / 20)),               # skewed, many small values
    round(rnorm(N_SIM, 5, 1.5), 1),              # coarse: many tied values
    rnorm(N_SIM, 0, 1))
  if (j > 20) true_beta[j] <- 0 else true_beta[j] <- c(0.4, -0.3, 0.25, -0.5)[kind + 1]
}
lp <- drop(scale(G[, 1:20]) %*% (true_beta[1:20] / 2)) + 0.03 * (sim$age - 65) +
  0.3 * (sim$stage - 2)
t_event <- rexp(N_SIM, 0.02 * exp(lp))
t_cens <- runif(N_SIM, 12, 72)
## whole months: many tied event times
sim$time <- pmax(1, ceiling(pmin(t_event, t_cens)))
sim$event <- as.integer(t_event <= t_cens)
## special genes (the last four columns)
G[, 197] <- 5                                      # constant
sep <- rep(0, N_SIM)                              # binary, no events in the "1" group
cens_idx <- which(sim$event == 0)
sep[cens_idx[seq(1, length(cens_idx), by = 3)]] <- 1
G[, 198] <- sep
outlier <- rnorm(N_SIM, 0, 1)
outlier[which.max(sim$time)] <- 25                # one extreme value
G[, 199] <- outlier
G[, 200] <- as.numeric(sim$stage == 3) + rnorm(N_SIM, 0, 0.05)   # close to a covariate
gene_names <- sprintf("g%03d", seq_len(N_GENES))
colnames(G) <- gene_names
G <- round(G, 4)
sim_out <- cbind(sim[, c("id", "time", "event", "age", "stage")], as.data.frame(G))
write.csv(sim_out, sim_file, row.names = FALSE)
sim_in <- read.csv(sim_file, stringsAsFactors = FALSE, check.names = FALSE)
stopifnot(identical(colnames(sim_in)[-(1:5)], gene_names))

## ---------------------------------------------------------------------------
## Per-gene Cox fits and log-rank tests
## ---------------------------------------------------------------------------
## Two fits per model: R's default control (eps = 1e-9 relative change in the log-likelihood,
## at most 20 iterations: what a user of coxph sees; its estimates can be ~1e-6 from the
## maximum) and a tight control iterated to the maximum, the main reference values.
## toler.chol is lowered with eps, as coxph.control asks.
TIGHT <- coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100)
DEFAULT <- coxph.control()

quiet_coxph <- function(formula, data, control) {
  msgs <- character(0)
  fit <- withCallingHandlers(
    coxph(formula, data = data, ties = "efron", control = control),
    warning = function(w) {
      msgs <<- c(msgs, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
  list(fit = fit, warnings = msgs)
}

cox_scan_case <- function(id, dataset, d, genes, covars) {
  rhs_cov <- if (length(covars)) paste("+", paste(covars, collapse = " + ")) else ""
  base <- NULL
  if (length(covars)) {
    base <- quiet_coxph(as.formula(paste("Surv(time, event) ~", paste(covars, collapse = " + "))),
                        d, TIGHT)
    stopifnot(length(base$warnings) == 0)
  }
  f <- as.formula(paste("Surv(time, event) ~ gene", rhs_cov))
  cols <- c("coef", "se", "hr", "lower", "upper", "z", "p", "loglik", "loglik_null",
            "loglik_zero", "lr_chisq", "lr_p", "iter", "coef_default", "hr_default",
            "iter_default")
  res <- lapply(setNames(cols, cols), function(k) rep(NA_real_, length(genes)))
  warn <- character(length(genes))
  warn_default <- character(length(genes))
  for (i in seq_along(genes)) {
    dd <- d
    dd$gene <- d[[genes[i]]]
    r <- quiet_coxph(f, dd, TIGHT)
    r0 <- quiet_coxph(f, dd, DEFAULT)
    fit <- r$fit
    cf <- summary(fit)$coefficients
    ll_null <- if (is.null(base)) fit$loglik[1] else base$fit$loglik[2]
    res$iter[i] <- fit$iter
    res$iter_default[i] <- r0$fit$iter
    res$loglik_zero[i] <- fit$loglik[1]
    res$loglik_null[i] <- ll_null
    warn[i] <- paste(r$warnings, collapse = "; ")
    warn_default[i] <- paste(r0$warnings, collapse = "; ")
    if (!is.na(fit$coefficients["gene"])) {
      ci <- exp(confint(fit, level = 0.95))
      res$coef[i] <- cf["gene", "coef"]
      res$se[i] <- cf["gene", "se(coef)"]
      res$hr[i] <- cf["gene", "exp(coef)"]
      res$lower[i] <- ci["gene", 1]
      res$upper[i] <- ci["gene", 2]
      res$z[i] <- cf["gene", "z"]
      res$p[i] <- cf["gene", "Pr(>|z|)"]
      res$loglik[i] <- fit$loglik[2]
      res$lr_chisq[i] <- 2 * (fit$loglik[2] - ll_null)
      res$lr_p[i] <- pchisq(res$lr_chisq[i], 1, lower.tail = FALSE)
      res$coef_default[i] <- coef(r0$fit)["gene"]
      res$hr_default[i] <- exp(coef(r0$fit)["gene"])
    }
  }
  converged <- res$iter < TIGHT$iter.max & !grepl("converge", warn)
  converged_default <- res$iter_default < DEFAULT$iter.max & !grepl("converge", warn_default)
  c(list(id = id, dataset = dataset, model = if (length(covars)) "adjusted" else "unadjusted",
         formula = paste(deparse(f, width.cutoff = 500L), collapse = ""),
         covariates = arr(covars), n = nrow(d), nevent = sum(d$event),
         loglik_base = if (is.null(base)) NULL else num(base$fit$loglik[2]),
         base_coef = if (is.null(base)) NULL else arr(coef(base$fit)),
         genes = arr(genes)),
    lapply(res, arr),
    list(converged = arr(converged), warning = arr(warn),
         converged_default = arr(converged_default), warning_default = arr(warn_default)))
}

logrank_scan_case <- function(id, dataset, grouping, d, genes) {
  cols <- c("cut", "n_low", "n_high", "obs_low", "obs_high", "exp_low", "exp_high", "chisq", "p")
  res <- lapply(setNames(cols, cols), function(k) rep(NA_real_, length(genes)))
  for (i in seq_along(genes)) {
    x <- d[[genes[i]]]
    cut <- if (grouping == "q1_vs_rest") {
      quantile(x, 0.25, type = 7, names = FALSE)
    } else {
      median(x)
    }
    high <- x > cut
    res$cut[i] <- cut
    res$n_low[i] <- sum(!high)
    res$n_high[i] <- sum(high)
    if (all(high) || !any(high)) next                  # survdiff needs two groups
    sd <- survdiff(Surv(d$time, d$event) ~ factor(high, levels = c(FALSE, TRUE)))
    res$obs_low[i] <- sd$obs[1]
    res$obs_high[i] <- sd$obs[2]
    res$exp_low[i] <- sd$exp[1]
    res$exp_high[i] <- sd$exp[2]
    res$chisq[i] <- sd$chisq
    res$p[i] <- pchisq(sd$chisq, 1, lower.tail = FALSE)
  }
  c(list(id = id, dataset = dataset, grouping = grouping,
         rule = if (grouping == "q1_vs_rest") "high = x > quantile(x, 0.25, type = 7)"
                else "high = x > median(x)",
         n = nrow(d), nevent = sum(d$event), genes = arr(genes)),
    lapply(res, arr))
}

## CoMMpass: unadjusted on all 762, adjusted on complete cases of iss and age
cp_cc <- cp_m[stats::complete.cases(cp_m[, c("iss", "age_years")]), ]
COX <- list(
  cox_scan_case("commpass/os/unadjusted", "commpass", cp_m, gene_ids, character(0)),
  cox_scan_case("commpass/os/adjusted", "commpass", cp_cc, gene_ids, c("iss", "age_years")),
  cox_scan_case("sim/unadjusted", "sim", sim_in, gene_names, character(0)),
  cox_scan_case("sim/adjusted", "sim", sim_in, gene_names, c("age", "stage"))
)
LR <- list(
  logrank_scan_case("commpass/os/q1_vs_rest", "commpass", "q1_vs_rest", cp_m, gene_ids),
  logrank_scan_case("commpass/os/median", "commpass", "median", cp_m, gene_ids),
  logrank_scan_case("sim/q1_vs_rest", "sim", "q1_vs_rest", sim_in, gene_names),
  logrank_scan_case("sim/median", "sim", "median", sim_in, gene_names)
)

md5 <- function(f) unname(tools::md5sum(f))
golden <- list(
  meta = list(
    generator = "tests/reference/scan/make_golden.R",
    r_version = R.version.string,
    survival_version = as.character(packageVersion("survival")),
    jsonlite_version = as.character(packageVersion("jsonlite")),
    ties = "efron", conf_int = 0.95,
    control = list(eps = TIGHT$eps, toler_chol = TIGHT$toler.chol, iter_max = TIGHT$iter.max),
    control_default = list(eps = DEFAULT$eps, iter_max = DEFAULT$iter.max),
    seed = 20170715L),
  datasets = list(
    commpass = list(
      files = list(clinical = "commpass/clinical.csv",
                   expression = "commpass/expression_100genes_log2fpkm.csv"),
      md5 = list(clinical = md5(f_cp_clin), expression = md5(f_cp_expr)),
      days_per_month = DAYS_PER_MONTH, days_per_year = DAYS_PER_YEAR,
      n = nrow(cp_m), nevent = sum(cp_m$event),
      n_adjusted = nrow(cp_cc), nevent_adjusted = sum(cp_cc$event),
      patients = arr(cp_m$bcr_patient_barcode),
      patients_adjusted = arr(cp_cc$bcr_patient_barcode),
      genes = arr(gene_ids)),
    sim = list(
      file = "tests/reference/scan/sim_matrix.csv", md5 = md5(sim_file),
      n = nrow(sim_in), nevent = sum(sim_in$event),
      n_distinct_event_times = length(unique(sim_in$time[sim_in$event == 1])),
      genes = arr(gene_names), true_beta_per_sd = arr(true_beta / 2),
      special = list(constant = "g197", separated = "g198", outlier = "g199",
                     near_covariate = "g200"))),
  cox = COX,
  logrank = LR
)
json <- toJSON(golden, digits = NA, auto_unbox = TRUE, na = "null", null = "null",
               pretty = TRUE)
writeLines(json, out_file, useBytes = TRUE)
cat(sprintf("wrote %s and %s\n", out_file, sim_file))
