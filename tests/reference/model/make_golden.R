#!/usr/bin/env Rscript
## Reference ("golden") values for ikaros.model: the lenalidomide PK / protein-turnover ODE
## solved with R deSolve, independently of the Python code.
##
## Run from the repository root:
##     Rscript tests/reference/model/make_golden.R
## Writes golden.json next to this script. Deterministic (no random numbers, no dates).
##
## The whole model is integrated as an ODE here -- gut and central amounts of lenalidomide and
## the protein P -- with the doses added to the gut compartment by deSolve events, whereas
## ikaros computes the PK in closed form and integrates P alone. See README.md.

suppressPackageStartupMessages({
  library(deSolve)
  library(jsonlite)
})
options(stringsAsFactors = FALSE, warn = 1)

script_arg <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
script_dir <- if (length(script_arg) == 1) {
  dirname(normalizePath(script_arg, mustWork = TRUE))
} else {
  normalizePath(file.path("tests", "reference", "model"), mustWork = TRUE)
}
out_file <- file.path(script_dir, "golden.json")

RTOL <- 1e-12
ATOL <- 1e-14

## the model: y = (Ag mg, Ac mg, P)
rhs <- function(t, y, p) {
  conc <- 1000 * y[["Ac"]] / p$v
  ch <- if (conc > 0) conc^p$hill else 0
  loss <- p$kdeg + p$emax * ch / (p$ec50^p$hill + ch)
  list(c(
    Ag = -p$ka * y[["Ag"]],
    Ac = p$ka * y[["Ag"]] - p$ke * y[["Ac"]],
    P = p$kdeg * p$m - loss * y[["P"]]
  ))
}

dose_times <- function(days_on, cycle_days, n_cycles) {
  unlist(lapply(seq_len(n_cycles) - 1, function(c) (c * cycle_days + seq_len(days_on) - 1) * 24))
}

run_case <- function(id, marker, dose, days_on, cycle_days, n_cycles, m, p0,
                     ka, cl, v, fe, crcl_ref, crcl, half_life, emax, ec50, hill, extra_times) {
  cl_patient <- if (is.null(crcl)) cl else cl * (1 - fe + fe * crcl / crcl_ref)
  p <- list(ka = ka, ke = cl_patient / v, v = v, kdeg = log(2) / half_life, m = m,
            emax = emax, ec50 = ec50, hill = hill)
  t_end <- n_cycles * cycle_days * 24
  doses <- dose_times(days_on, cycle_days, n_cycles)
  times <- sort(unique(c(seq(0, t_end, by = 3), extra_times)))
  ev <- data.frame(var = "Ag", time = doses, value = dose, method = "add")
  sol <- lsoda(c(Ag = 0, Ac = 0, P = p0), times, rhs, p, rtol = RTOL, atol = ATOL,
               events = list(data = ev), maxsteps = 1e6)
  list(
    id = id,
    marker = marker,
    dose_mg = dose,
    days_on = days_on,
    cycle_days = cycle_days,
    n_cycles = n_cycles,
    m = m,
    p0 = p0,
    parameters = list(ka = ka, cl_f = cl, v_f = v, fe_renal = fe, crcl_ref = crcl_ref,
                      half_life_protein = half_life, emax = emax, ec50 = ec50, hill = hill),
    crcl = if (is.null(crcl)) NULL else crcl,
    time = I(unname(sol[, "time"])),
    concentration = I(unname(1000 * sol[, "Ac"] / v)),
    protein = I(unname(sol[, "P"]))
  )
}

odd <- c(0.37, 5.5, 22.75, 100.01, 503.123)
cases <- list(
  ## the defaults of IKZF1 at the DSMM XII dose: 25 mg on days 1-21 of 28, two cycles
  run_case("ikzf1_25mg_21of28", "IKZF1", 25, 21, 28, 2, m = 1, p0 = 1,
           ka = 3.0, cl = 10.3, v = 49.1, fe = 0.82, crcl_ref = 90, crcl = NULL,
           half_life = 12, emax = 0.5, ec50 = 130, hill = 1, extra_times = odd),
  ## a low expresser, continuous 10 mg, Hill coefficient 2, one cycle
  run_case("ikzf3_10mg_continuous_hill2", "IKZF3", 10, 28, 28, 1, m = 0.4, p0 = 0.4,
           ka = 3.0, cl = 10.3, v = 49.1, fe = 0.82, crcl_ref = 90, crcl = NULL,
           half_life = 12, emax = 0.8, ec50 = 200, hill = 2, extra_times = odd),
  ## BSG, 15 mg on days 1-14 of 21, impaired renal function, not starting at steady state
  run_case("bsg_15mg_14of21_crcl40", "BSG", 15, 14, 21, 2, m = 2.3, p0 = 1.3,
           ka = 3.0, cl = 10.3, v = 49.1, fe = 0.82, crcl_ref = 90, crcl = 40,
           half_life = 24, emax = 0.2, ec50 = 260, hill = 1.5, extra_times = odd),
  ## ka equal to ke (the limit form of the closed-form PK), 5 mg every day
  run_case("ikzf1_5mg_ka_equals_ke", "IKZF1", 5, 28, 28, 1, m = 1.7, p0 = 1.7,
           ka = 0.2, cl = 10, v = 50, fe = 0.82, crcl_ref = 90, crcl = NULL,
           half_life = 6, emax = 1.2, ec50 = 30, hill = 0.8, extra_times = odd)
)

golden <- list(
  meta = list(
    generator = "tests/reference/model/make_golden.R",
    r_version = R.version.string,
    deSolve = as.character(packageVersion("deSolve")),
    jsonlite = as.character(packageVersion("jsonlite")),
    method = "lsoda on (gut amount, central amount, protein); doses as deSolve 'add' events",
    rtol = RTOL,
    atol = ATOL
  ),
  cases = cases
)
writeLines(toJSON(golden, digits = NA, auto_unbox = TRUE, null = "null", na = "null",
                  pretty = TRUE), out_file)
cat("wrote", out_file, "\n")
