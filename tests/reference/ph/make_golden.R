#!/usr/bin/env Rscript
# Golden values for ikaros.stats.ph.schoenfeld_test: R survival's cox.zph(fit, terms = TRUE).
#
# Run from the repository root:   Rscript tests/reference/ph/make_golden.R
# Reads  <shared>/gse24080/clinical.tsv, where <shared> is $IKAROS_SHARED_DATA if set and
#        ../shared/data otherwise (relative to the repository root).
# Writes tests/reference/ph/golden.json and tests/reference/ph/lung.csv (survival::lung as is).
# Deterministic: no random numbers, no dates; re-running on the same R/survival gives the same
# bytes. See README.md in this directory for the meaning of every field.

suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

if (packageVersion("survival") < "3.0") {
  stop("survival >= 3.0 is required (cox.zph computes the exact score test from 3.0 on)")
}
out_dir <- file.path("tests", "reference", "ph")
if (!dir.exists(out_dir)) {
  stop("run this script from the repository root: Rscript tests/reference/ph/make_golden.R")
}
shared <- Sys.getenv("IKAROS_SHARED_DATA", unset = file.path("..", "shared", "data"))
clin_path <- file.path(shared, "gse24080", "clinical.tsv")
if (!file.exists(clin_path)) {
  stop("cannot find ", clin_path, "; set IKAROS_SHARED_DATA to the shared data directory")
}

clin <- read.delim(clin_path, stringsAsFactors = FALSE)
lung_data <- survival::lung
write.csv(lung_data, file.path(out_dir, "lung.csv"), row.names = FALSE, na = "NA")

# One case = one coxph fit (ties) + one cox.zph call (transform).
run_fit <- function(id, dataset, data, time_col, event_col, event_value, covariates, ties,
                    transforms, time_divisor = NULL) {
  d <- data[, c(time_col, event_col, covariates)]
  d <- d[complete.cases(d), , drop = FALSE]
  tt <- d[[time_col]]
  if (!is.null(time_divisor)) tt <- ceiling(tt / time_divisor)
  ev <- as.integer(d[[event_col]] == event_value)
  xdf <- d[, covariates, drop = FALSE]
  fml <- as.formula(paste("Surv(tt, ev) ~", paste(covariates, collapse = " + ")))
  fit <- coxph(fml, data = cbind(data.frame(tt = tt, ev = ev), xdf), ties = ties)
  stopifnot(identical(names(coef(fit)), covariates))
  death_times <- tt[ev == 1]
  lapply(transforms, function(tr) {
    z <- cox.zph(fit, transform = tr, terms = TRUE)
    tab <- z$table
    terms <- lapply(covariates, function(v) {
      list(chisq = tab[v, "chisq"], df = as.integer(tab[v, "df"]), p = tab[v, "p"])
    })
    names(terms) <- covariates
    case <- list(
      id = paste(id, ties, tr, sep = "-"),
      dataset = dataset,
      time = time_col,
      event = event_col,
      event_value = event_value,
      covariates = I(covariates),
      ties = ties,
      transform = tr,
      n = nrow(d),
      nevent = sum(ev),
      n_event_times = length(unique(death_times)),
      max_tied_events = max(table(death_times)),
      coef = I(unname(coef(fit))),
      terms = terms,
      global = list(
        chisq = tab["GLOBAL", "chisq"], df = as.integer(tab["GLOBAL", "df"]),
        p = tab["GLOBAL", "p"]
      )
    )
    if (!is.null(time_divisor)) case$time_divisor <- time_divisor
    case
  })
}

gse_models <- list(
  b2m = "b2m_mg_l",
  ldh = "ldh",
  b2m_cyto_age = c("b2m_mg_l", "cyto_abn", "age"),
  ldh_cyto = c("ldh", "cyto_abn")
)
gse_endpoints <- list(efs = c("efs_time", "efs_event"), os = c("os_time", "os_event"))
tie_methods <- c("efron", "breslow")

cases <- list()
for (ep in names(gse_endpoints)) {
  for (m in names(gse_models)) {
    for (ti in tie_methods) {
      cases <- c(cases, run_fit(
        id = paste("gse24080", ep, m, sep = "-"), dataset = "gse24080", data = clin,
        time_col = gse_endpoints[[ep]][1], event_col = gse_endpoints[[ep]][2],
        event_value = 1L, covariates = gse_models[[m]], ties = ti,
        transforms = c("km", "rank", "identity")
      ))
    }
  }
}
lung_cov <- c("age", "sex", "ph.ecog")
for (ti in tie_methods) {
  # lung as shipped: days, 26 tied death times.
  cases <- c(cases, run_fit(
    id = "lung", dataset = "lung", data = lung_data, time_col = "time", event_col = "status",
    event_value = 2L, covariates = lung_cov, ties = ti,
    transforms = c("km", "rank", "identity", "log")
  ))
  # Heavy ties: time coarsened to 30-day blocks, ceiling(time / 30).
  cases <- c(cases, run_fit(
    id = "lung30", dataset = "lung", data = lung_data, time_col = "time", event_col = "status",
    event_value = 2L, covariates = lung_cov, ties = ti,
    transforms = c("km", "rank", "identity", "log"), time_divisor = 30
  ))
}

golden <- list(
  description = paste(
    "cox.zph(coxph(Surv(time, event) ~ covariates, ties = ties), transform, terms = TRUE)",
    "on complete cases; see README.md"
  ),
  r_version = paste(R.version$major, R.version$minor, sep = "."),
  survival_version = as.character(packageVersion("survival")),
  jsonlite_version = as.character(packageVersion("jsonlite")),
  cases = cases
)
writeLines(
  toJSON(golden, digits = NA, auto_unbox = TRUE, pretty = TRUE),
  file.path(out_dir, "golden.json")
)
cat("wrote", length(cases), "cases to", file.path(out_dir, "golden.json"), "\n")
