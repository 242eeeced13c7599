#!/usr/bin/env Rscript
## Reference ("golden") values for ikaros.cutpoints (maximally selected log-rank statistics).
##
## Run from the repository root:
##     Rscript tests/reference/maxstat/make_golden.R
## Writes, next to this script: golden.json and the simulated inputs inputs/*.csv.
##
## Real data are read in place (never copied): $IKAROS_SHARED_DATA if set, otherwise
## <repo root>/../shared/data.  Deterministic: every random draw follows a set.seed(), no dates.
## See README.md in this directory for what each case is and the JSON layout.

suppressPackageStartupMessages({
  library(survival)
  library(maxstat)
  library(jsonlite)
})
options(stringsAsFactors = FALSE, warn = 1)

script_arg <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
script_dir <- if (length(script_arg) == 1) {
  dirname(normalizePath(script_arg, mustWork = TRUE))
} else {
  normalizePath(file.path("tests", "reference", "maxstat"), mustWork = TRUE)
}
repo_root <- normalizePath(file.path(script_dir, "..", "..", ".."), mustWork = TRUE)
data_dir <- Sys.getenv("IKAROS_SHARED_DATA", unset = "")
if (!nzchar(data_dir)) data_dir <- file.path(repo_root, "..", "shared", "data")
data_dir <- normalizePath(data_dir, mustWork = TRUE)
input_dir <- file.path(script_dir, "inputs")
dir.create(input_dir, showWarnings = FALSE)
out_file <- file.path(script_dir, "golden.json")

f_gse <- file.path(data_dir, "gse24080", "clinical.tsv")
f_cp_clin <- file.path(data_dir, "commpass", "clinical.csv")
f_cp_expr <- file.path(data_dir, "commpass", "expression_100genes_log2fpkm.csv")

B_MC <- 10000L
SEED_MC <- 20240611L
DAYS_PER_MONTH <- 30.4375
CP_GENES <- c("ENSG00000002586", "ENSG00000004799", "ENSG00000000938",
              "ENSG00000000005", "ENSG00000000003")

arr <- function(x) I(unname(as.vector(x)))
num <- function(x) unname(as.numeric(x))
## inputs are written to CSV and read back, so that R and Python analyse the same printed values
write_read <- function(name, d) {
  path <- file.path(input_dir, paste0(name, ".csv"))
  write.csv(d, path, row.names = FALSE)
  read.csv(path)
}

## ---------------------------------------------------------------------------
## One maxstat case: Lau94 (estimate, M, p, all candidate cuts and statistics)
## and condMC (B = 10000, seeded) on complete cases of (time, event, x).
## ---------------------------------------------------------------------------
run_case <- function(id, time, event, x, minprop = 0.1, maxprop = 0.9, mc = TRUE, seed = SEED_MC) {
  ok <- !is.na(time) & !is.na(event) & !is.na(x)
  d <- data.frame(time = time[ok], event = event[ok], x = x[ok])
  lau <- maxstat.test(Surv(time, event) ~ x, data = d, smethod = "LogRank",
                      pmethod = "Lau94", minprop = minprop, maxprop = maxprop)
  est <- num(lau$estimate)
  m_cuts <- vapply(lau$cuts, function(cc) sum(d$x <= cc), numeric(1))
  ## pLausen94 with the group sizes of the candidate cuts reproduces maxstat's Lau94 p
  p_check <- pLausen94(num(lau$statistic), nrow(d), minprop, maxprop, m = m_cuts)
  stopifnot(isTRUE(all.equal(p_check, num(lau$p.value), tolerance = 1e-14)))
  out <- list(
    id = id, n = nrow(d), n_missing = sum(!ok), n_events = sum(d$event),
    minprop = minprop, maxprop = maxprop,
    estimate = est, n_low = sum(d$x <= est), events_low = sum(d$event[d$x <= est]),
    statistic = num(lau$statistic), p_lau94 = num(lau$p.value),
    n_cuts = length(lau$cuts), cuts = arr(num(lau$cuts)), m_cuts = arr(m_cuts),
    stats = arr(num(lau$stats)),
    condmc = NULL
  )
  if (mc) {
    set.seed(seed)
    cmc <- maxstat.test(Surv(time, event) ~ x, data = d, smethod = "LogRank",
                        pmethod = "condMC", minprop = minprop, maxprop = maxprop, B = B_MC)
    stopifnot(isTRUE(all.equal(num(cmc$statistic), num(lau$statistic))))
    p <- num(cmc$p.value)
    out$condmc <- list(B = B_MC, seed = seed, p = p, mc_se = sqrt(p * (1 - p) / B_MC))
  }
  out
}

cases <- list()
add <- function(case) cases[[length(cases) + 1]] <<- case

## ---------------------------------------------------------------------------
## GSE24080 (all 565 rows; complete cases per marker)
## ---------------------------------------------------------------------------
gse <- read.delim(f_gse, stringsAsFactors = FALSE, check.names = FALSE)
stopifnot(nrow(gse) == 565)
for (ep in c("efs", "os")) {
  for (mk in c("b2m_mg_l", "ldh")) {
    add(run_case(sprintf("gse24080/%s/%s", ep, mk),
                 gse[[paste0(ep, "_time")]], gse[[paste0(ep, "_event")]], gse[[mk]]))
  }
}

## ---------------------------------------------------------------------------
## CoMMpass OS, baseline CD138+ samples (tests/reference/survival/README.md)
## ---------------------------------------------------------------------------
clin <- read.csv(f_cp_clin, stringsAsFactors = FALSE, check.names = FALSE)
dead <- clin$vital_status == "Dead"
days <- ifelse(dead, clin$days_to_death, clin$days_to_last_follow_up)
clin$os_time <- days / DAYS_PER_MONTH
clin$os_event <- as.integer(dead)
clin <- clin[!is.na(clin$os_time) & clin$os_time >= 0, ]
stopifnot(nrow(clin) == 994)
expr <- read.csv(f_cp_expr, stringsAsFactors = FALSE, check.names = FALSE)
genes <- expr[[1]]
expr <- expr[, -1]
cols <- sort(grep("_1_BM_", colnames(expr), value = TRUE))
pat <- vapply(strsplit(cols, "_"), function(p) paste(p[1:2], collapse = "_"), "")
keep <- !duplicated(pat)
ex <- t(as.matrix(expr[, cols[keep]]))
colnames(ex) <- genes
ex <- data.frame(bcr_patient_barcode = pat[keep], ex[, CP_GENES], check.names = FALSE)
cp <- merge(clin[, c("bcr_patient_barcode", "os_time", "os_event")], ex,
            by = "bcr_patient_barcode")
stopifnot(nrow(cp) == 762, sum(cp$os_event) == 153)
for (g in CP_GENES) add(run_case(sprintf("commpass/os/%s", g), cp$os_time, cp$os_event, cp[[g]]))

## ---------------------------------------------------------------------------
## R's own data: DLBCL (maxstat), overall survival by mean gene expression and IPI
## ---------------------------------------------------------------------------
## (columns time, cens, MGE, IPI written to inputs/DLBCL.csv for the Python side)
data("DLBCL", package = "maxstat")
dl <- write_read("DLBCL", DLBCL[, c("time", "cens", "MGE", "IPI")])
add(run_case("DLBCL/os/MGE", dl$time, dl$cens, dl$MGE))
add(run_case("DLBCL/os/IPI", dl$time, dl$cens, dl$IPI))

## ---------------------------------------------------------------------------
## Simulated datasets, written to inputs/<name>.csv
## ---------------------------------------------------------------------------
sims <- list()
set.seed(101)   # null, tied marker and tied times
n <- 200
d <- data.frame(time = pmax(1, round(rexp(n, 1 / 30))), event = rbinom(n, 1, 0.7),
                x = round(rnorm(n, 5, 2), 1))
sims$sim_null_ties <- write_read("sim_null_ties", d)
set.seed(102)   # step effect at x = 0.5 (hazard ratio 3 above), continuous times
n <- 200
x <- round(rnorm(n), 3)
ev_t <- rexp(n, ifelse(x > 0.5, 3, 1) / 40)
cens_t <- runif(n, 10, 120)
d <- data.frame(time = round(pmin(ev_t, cens_t), 4), event = as.integer(ev_t <= cens_t), x = x)
sims$sim_step <- write_read("sim_step", d)
set.seed(103)   # small, marker with 6 levels, integer times
n <- 30
d <- data.frame(time = sample(1:15, n, replace = TRUE), event = rbinom(n, 1, 0.6),
                x = sample(1:6, n, replace = TRUE))
sims$sim_small_tied <- write_read("sim_small_tied", d)
set.seed(104)   # step at the median with a heavily tied marker (integer 0..20)
n <- 150
x <- pmin(20, rpois(n, 6))
ev_t <- rexp(n, ifelse(x > 6, 2, 1) / 24)
cens_t <- runif(n, 6, 60)
d <- data.frame(time = round(pmin(ev_t, cens_t), 1), event = as.integer(ev_t <= cens_t), x = x)
sims$sim_step_poisson <- write_read("sim_step_poisson", d)

for (nm in names(sims)) {
  d <- sims[[nm]]
  add(run_case(sprintf("sim/%s", nm), d$time, d$event, d$x))
}
d <- sims$sim_step_poisson
add(run_case("sim/sim_step_poisson/minprop0.25", d$time, d$event, d$x, 0.25, 0.75))
d <- sims$sim_step
add(run_case("sim/sim_step/minprop0.2", d$time, d$event, d$x, 0.2, 0.95))

## ---------------------------------------------------------------------------
## The candidate-cut rule: many small random tied datasets with varied minprop/maxprop
## (statistics and cuts only; no condMC). Inputs in inputs/rule_cases.csv.
## ---------------------------------------------------------------------------
set.seed(105)
props <- list(c(0.1, 0.9), c(0.05, 0.95), c(0.2, 0.8), c(0.25, 0.75), c(0.3, 0.7),
              c(0.15, 0.85), c(0.1, 0.6))
rule_rows <- list()
for (i in 1:60) {
  n <- sample(8:70, 1)
  k <- sample(c(3, 5, 10, 25, 1000), 1)
  x <- if (k == 1000) round(runif(n), 3) else sample(1:k, n, replace = TRUE)
  time <- if (i %% 2 == 0) sample(1:10, n, replace = TRUE) else round(rexp(n, 0.1), 2)
  event <- rbinom(n, 1, 0.65)
  if (sum(event) == 0) event[1] <- 1
  rule_rows[[i]] <- data.frame(case = i, time = time, event = event, x = x,
                               minprop = props[[1 + (i %% length(props))]][1],
                               maxprop = props[[1 + (i %% length(props))]][2])
}
## case 61: no admissible cut (1 patient below and 1 above a tie of 18); R stops with an error
rule_rows[[61]] <- data.frame(case = 61, time = 1:20, event = rep(c(1, 0), 10),
                              x = c(1, rep(2, 18), 3), minprop = 0.1, maxprop = 0.9)
rule <- write_read("rule_cases", do.call(rbind, rule_rows))
rule_cases <- list()
for (i in unique(rule$case)) {
  d <- rule[rule$case == i, ]
  res <- tryCatch(run_case(sprintf("rule/%d", i), d$time, d$event, d$x, d$minprop[1],
                           d$maxprop[1], mc = FALSE),
                  error = function(e) list(id = sprintf("rule/%d", i), n = nrow(d),
                                           minprop = d$minprop[1], maxprop = d$maxprop[1],
                                           error = conditionMessage(e)))
  if (is.null(res$error)) res$error <- NULL
  rule_cases[[length(rule_cases) + 1]] <- res
}

## ---------------------------------------------------------------------------
## pLausen94 on its own (continuous predictor, m = NULL; and given m)
## ---------------------------------------------------------------------------
plau <- list(
  list(b = 2.5, N = 20, minprop = 0.25, maxprop = 0.75, m = NULL,
       p = pLausen94(2.5, 20, 0.25, 0.75)),
  list(b = 2.5, N = 200, minprop = 0.25, maxprop = 0.75, m = arr(seq(50, 150, by = 10)),
       p = pLausen94(2.5, 200, 0.25, 0.75, m = seq(50, 150, by = 10))),
  list(b = 3.1, N = 100, minprop = 0.1, maxprop = 0.9, m = NULL,
       p = pLausen94(3.1, 100, 0.1, 0.9)),
  list(b = 0.8, N = 100, minprop = 0.1, maxprop = 0.9, m = NULL,
       p = pLausen94(0.8, 100, 0.1, 0.9))
)

golden <- list(
  meta = list(
    generator = "tests/reference/maxstat/make_golden.R",
    r_version = R.version.string,
    maxstat_version = as.character(packageVersion("maxstat")),
    survival_version = as.character(packageVersion("survival")),
    jsonlite_version = as.character(packageVersion("jsonlite")),
    smethod = "LogRank", B = B_MC, seed = SEED_MC
  ),
  datasets = list(
    gse24080 = list(file = "gse24080/clinical.tsv", md5 = unname(tools::md5sum(f_gse))),
    commpass = list(files = c("commpass/clinical.csv", "commpass/expression_100genes_log2fpkm.csv"),
                    md5 = unname(tools::md5sum(c(f_cp_clin, f_cp_expr))), n_merged = nrow(cp),
                    genes = arr(CP_GENES))
  ),
  cases = cases,
  rule_cases = rule_cases,
  plausen94 = plau
)
writeLines(toJSON(golden, digits = NA, auto_unbox = TRUE, na = "null", null = "null",
                  pretty = TRUE), out_file)
cat("wrote", out_file, "\n")
