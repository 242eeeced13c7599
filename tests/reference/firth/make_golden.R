#!/usr/bin/env Rscript
# Golden values for ikaros.stats.firth: Firth-penalised Cox regression (Heinze & Schemper 2001).
#
# Run from the repository root:   Rscript tests/reference/firth/make_golden.R
#
# This is an independent reference implementation written from the published method, not a
# port of any library: the Breslow log partial likelihood plus 0.5 * log det I(beta), its
# gradient (written out with third risk-set moments), a Newton maximiser, profile penalised
# likelihood confidence limits by uniroot and penalised likelihood-ratio tests.
# It writes the input data sets as CSV and the fitted values to golden.json.
# Deterministic: every random draw follows set.seed(), and the fits use the data read back
# from the CSV files, so Python and R see identical numbers.

suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

outdir <- file.path("tests", "reference", "firth")
if (!dir.exists(outdir)) stop("run this script from the repository root (/work/main)")

ALPHA <- 0.05
PENALTY <- 0.5        # weight of log det I: 0.5 is Firth / Jeffreys; 0 gives ordinary Cox
GTOL <- 1e-10         # maximiser stops when max |penalised score| < GTOL
ROOT_TOL <- 1e-12     # uniroot tolerance on the coefficient scale

# ---------------------------------------------------------------------------------------
# Penalised partial likelihood
# ---------------------------------------------------------------------------------------

# One entry per distinct event time: the risk set (time >= t, so subjects censored at t are
# at risk) and the subjects with an event at t.  Breslow ties: the d tied events share one
# risk-set denominator S0(t)^d.
risk_sets <- function(time, status) {
  event_times <- sort(unique(time[status == 1]))
  lapply(event_times, function(t) {
    list(R = which(time >= t), D = which(time == t & status == 1))
  })
}

# Penalised log partial likelihood, its gradient and the (unpenalised) information matrix.
#   l*(b)  = sum_t [ s_t'b - d_t log S0(t) ] + pen * log det I(b)
#   I(b)   = sum_t d_t V_t,  V_t = S2/S0 - xbar xbar'
#   dl*/db_u = U_u + pen * tr( I^-1 dI/db_u ),  dI/db_u = sum_t d_t dV_t/db_u,
#   dV/db_u = S3_u/S0 - (S2/S0) xbar_u - V[,u] xbar' - xbar V[u,]
# with S_k the exp(x'b)-weighted k-th moment sums over the risk set.
penalised <- function(beta, X, sets, pen = PENALTY) {
  p <- ncol(X)
  eta <- drop(X %*% beta)
  shift <- max(eta)
  w <- exp(eta - shift)
  ll <- 0
  U <- numeric(p)
  I <- matrix(0, p, p)
  dI <- array(0, c(p, p, p))
  for (s in sets) {
    XR <- X[s$R, , drop = FALSE]
    wR <- w[s$R]
    XD <- X[s$D, , drop = FALSE]
    d <- length(s$D)
    S0 <- sum(wR)
    S1 <- colSums(wR * XR)
    S2 <- crossprod(XR, wR * XR)
    xbar <- S1 / S0
    V <- S2 / S0 - tcrossprod(xbar)
    ll <- ll + sum(XD %*% beta) - d * (log(S0) + shift)
    U <- U + colSums(XD) - d * xbar
    I <- I + d * V
    if (pen != 0) {
      for (u in seq_len(p)) {
        S3u <- crossprod(XR, (wR * XR[, u]) * XR)
        dV <- S3u / S0 - (S2 / S0) * xbar[u] - outer(V[, u], xbar) - outer(xbar, V[u, ])
        dI[, , u] <- dI[, , u] + d * dV
      }
    }
  }
  if (pen == 0) {
    return(list(ll = ll, ll_unpen = ll, score = U, info = I))
  }
  R <- chol(I)
  logdet <- 2 * sum(log(diag(R)))
  Iinv <- chol2inv(R)
  score <- U + pen * vapply(seq_len(p), function(u) sum(Iinv * dI[, , u]), numeric(1))
  list(ll = ll + pen * logdet, ll_unpen = ll, score = score, info = I)
}

# Minus the Hessian of l* over the free coordinates, by central differences of the
# analytic gradient (only used to choose Newton directions).
neg_hessian <- function(beta, X, sets, pen, free, h = 1e-5) {
  k <- length(free)
  H <- matrix(0, k, k)
  for (a in seq_len(k)) {
    bp <- beta
    bm <- beta
    bp[free[a]] <- bp[free[a]] + h
    bm[free[a]] <- bm[free[a]] - h
    gp <- penalised(bp, X, sets, pen)$score[free]
    gm <- penalised(bm, X, sets, pen)$score[free]
    H[, a] <- -(gp - gm) / (2 * h)
  }
  (H + t(H)) / 2
}

# Maximise l* over the coordinates `free`, the others held at their values in `start`.
# Newton-Raphson (exact Hessian if it is negative definite, else Fisher scoring with I),
# steps capped at 5 per coordinate, step halving while l* decreases.
maximise <- function(X, sets, pen = PENALTY, free = seq_len(ncol(X)),
                     start = rep(0, ncol(X)), maxit = 500) {
  beta <- start
  q <- penalised(beta, X, sets, pen)
  for (it in 0:maxit) {
    g <- q$score[free]
    if (max(abs(g)) < GTOL) {
      return(list(beta = beta, q = q, iter = it, converged = TRUE))
    }
    H <- if (pen == 0) q$info[free, free, drop = FALSE] else neg_hessian(beta, X, sets, pen, free)
    if (inherits(try(chol(H), silent = TRUE), "try-error")) H <- q$info[free, free, drop = FALSE]
    step <- solve(H, g)
    if (max(abs(step)) > 5) step <- step * 5 / max(abs(step))
    accepted <- FALSE
    for (halving in 0:30) {
      cand <- beta
      cand[free] <- beta[free] + step / 2^halving
      qc <- penalised(cand, X, sets, pen)
      # near the optimum a step can lower l* by rounding error only: accept those
      if (is.finite(qc$ll) && qc$ll >= q$ll - 1e-12 * max(1, abs(q$ll))) {
        accepted <- TRUE
        break
      }
    }
    if (!accepted) break
    beta <- cand
    q <- qc
  }
  list(beta = beta, q = q, iter = maxit, converged = FALSE)
}

# Profile penalised log-likelihood for coefficient j at value b (others re-maximised).
make_profile <- function(X, sets, j, beta_hat) {
  p <- ncol(X)
  last <- beta_hat
  function(b) {
    if (p == 1) return(penalised(b, X, sets)$ll)
    start <- last
    start[j] <- b
    m <- maximise(X, sets, PENALTY, free = setdiff(seq_len(p), j), start = start)
    if (!m$converged) stop("profile fit did not converge at b = ", b)
    last <<- m$beta
    m$q$ll
  }
}

# Profile penalised likelihood limit for coefficient j on side `side` (-1 lower, +1 upper):
# the root of 2 * (l*(beta_hat) - l*_profile(b)) = qchisq(1 - alpha, 1).
profile_limit <- function(X, sets, j, fit, se, side, alpha = ALPHA) {
  crit <- qchisq(1 - alpha, 1)
  prof <- make_profile(X, sets, j, fit$beta)
  f <- function(b) 2 * (fit$q$ll - prof(b)) - crit
  inner <- fit$beta[j]
  width <- max(se[j], 0.1)
  repeat {
    outer <- fit$beta[j] + side * width
    if (f(outer) > 0) break
    inner <- outer
    width <- 2 * width
    if (width > 1e4) stop("no profile limit found for term ", j)
  }
  uniroot(f, sort(c(inner, outer)), tol = ROOT_TOL, maxiter = 1000)$root
}

# Penalised likelihood-ratio test of beta_j = 0: refit with beta_j fixed at 0 (the penalty
# keeps the full model's I(beta), evaluated with beta_j = 0) and compare.
plr_test <- function(X, sets, j, fit) {
  p <- ncol(X)
  if (p == 1) {
    ll0 <- penalised(0, X, sets)$ll
  } else {
    start <- fit$beta
    start[j] <- 0
    m <- maximise(X, sets, PENALTY, free = setdiff(seq_len(p), j), start = start)
    if (!m$converged) stop("constrained fit did not converge for term ", j)
    ll0 <- m$q$ll
  }
  chisq <- max(0, 2 * (fit$q$ll - ll0))
  list(chisq = chisq, p = pchisq(chisq, 1, lower.tail = FALSE), loglik_null = ll0)
}

firth_cox <- function(df, covariates) {
  X <- as.matrix(df[, covariates, drop = FALSE])
  sets <- risk_sets(df$time, df$status)
  fit <- maximise(X, sets, PENALTY)
  if (!fit$converged) stop("penalised fit did not converge")
  se <- sqrt(diag(solve(fit$q$info)))
  terms <- list()
  for (j in seq_along(covariates)) {
    lo <- profile_limit(X, sets, j, fit, se, -1)
    hi <- profile_limit(X, sets, j, fit, se, +1)
    tst <- plr_test(X, sets, j, fit)
    terms[[covariates[j]]] <- list(
      coef = fit$beta[j], se = unname(se[j]), hr = exp(fit$beta[j]),
      coef_lower = lo, coef_upper = hi, lower = exp(lo), upper = exp(hi),
      chisq = tst$chisq, p = tst$p
    )
  }
  list(fit = fit, X = X, sets = sets, terms = terms)
}

# Ordinary Cox fit with its warnings (an infinite coefficient shows as a warning).
ordinary_cox <- function(df, covariates) {
  warns <- character(0)
  f <- as.formula(paste("Surv(time, status) ~", paste(covariates, collapse = " + ")))
  fit <- withCallingHandlers(
    coxph(f, data = df, ties = "breslow"),
    warning = function(w) {
      warns <<- c(warns, conditionMessage(w))
      invokeRestart("muffleWarning")
    }
  )
  list(coef = unname(coef(fit)), warnings = warns)
}

# ---------------------------------------------------------------------------------------
# Data sets (integer or half-month times, so event times are tied)
# ---------------------------------------------------------------------------------------
set.seed(20170715)

# (1) 60 patients; q1 = lowest-quartile indicator, 15 patients, no deaths; z continuous.
n <- 60
q1 <- c(rep(1, 15), rep(0, 45))
z <- round(rnorm(n), 2)
t_event <- rexp(n, rate = 0.03 * exp(0.5 * z))
t_cens <- runif(n, 3, 60)
time1 <- ceiling(pmin(t_event, t_cens))
status1 <- as.integer(t_event <= t_cens)
status1[q1 == 1] <- 0L
time1[q1 == 1] <- ceiling(t_cens[q1 == 1])
ord <- sample(n)
case1 <- data.frame(time = time1, status = status1, q1 = q1, z = z)[ord, ]

# (2) 40 patients, one binary covariate; the x = 0 group (12 patients) has no events, so
#     the ordinary Cox estimate of beta goes to +infinity.
n <- 40
x <- c(rep(0, 12), rep(1, 28))
t_event <- rexp(n, rate = 0.05)
t_cens <- runif(n, 2, 36)
time2 <- ceiling(pmin(t_event, t_cens))
status2 <- as.integer(t_event <= t_cens)
status2[x == 0] <- 0L
time2[x == 0] <- ceiling(t_cens[x == 0])
ord <- sample(n)
case2 <- data.frame(time = time2, status = status2, x = x)[ord, ]

# (3) 80 patients, three covariates, no separation; times on a half-month grid (ties).
n <- 80
trt <- rbinom(n, 1, 0.5)
z1 <- round(rnorm(n), 2)
z2 <- round(runif(n, 0, 10), 1)
t_event <- rexp(n, rate = 0.04 * exp(0.6 * trt - 0.4 * z1 + 0.05 * z2))
t_cens <- runif(n, 6, 48)
time3 <- pmax(0.5, round(2 * pmin(t_event, t_cens)) / 2)
status3 <- as.integer(t_event <= t_cens)
case3 <- data.frame(time = time3, status = status3, trt = trt, z1 = z1, z2 = z2)

cases <- list(
  quartile_zero_events = list(
    csv = "case1_quartile_zero_events.csv", data = case1, covariates = c("q1", "z"),
    description = "60 patients; the q1 group (15) has no events; continuous z; tied times"
  ),
  single_binary_zero_events = list(
    csv = "case2_single_binary_zero_events.csv", data = case2, covariates = "x",
    description = "40 patients; one binary x; the x = 0 group (12) has no events; tied times"
  ),
  no_separation = list(
    csv = "case3_no_separation.csv", data = case3, covariates = c("trt", "z1", "z2"),
    description = "80 patients; trt, z1, z2; no separation; tied half-month times"
  )
)

# Write the CSVs, then read them back so the fits use exactly what Python will read.
for (nm in names(cases)) {
  path <- file.path(outdir, cases[[nm]]$csv)
  write.csv(cases[[nm]]$data, path, row.names = FALSE)
  cases[[nm]]$data <- read.csv(path)
}

# ---------------------------------------------------------------------------------------
# Checks of this implementation
# ---------------------------------------------------------------------------------------
cat("== check 1: penalty switched off reproduces coxph(ties = 'breslow') on no_separation\n")
d3 <- cases$no_separation$data
cv3 <- cases$no_separation$covariates
X3 <- as.matrix(d3[, cv3])
sets3 <- risk_sets(d3$time, d3$status)
unpen <- maximise(X3, sets3, pen = 0)
cph <- coxph(Surv(time, status) ~ trt + z1 + z2, data = d3, ties = "breslow",
             control = coxph.control(eps = 1e-11, iter.max = 100))
print(rbind(this_script = unpen$beta, coxph = unname(coef(cph))))
chk_coef <- max(abs(unpen$beta - coef(cph)))
chk_ll <- abs(unpen$q$ll - cph$loglik[2])
chk_info <- max(abs(unpen$q$info - solve(cph$var)))
cat(sprintf("max |coef diff| = %.3g, |loglik diff| = %.3g, max |information diff| = %.3g\n",
            chk_coef, chk_ll, chk_info))
stopifnot(chk_coef < 1e-8, chk_ll < 1e-8, chk_info < 1e-6)

cat("== check 2: analytic penalised score against central differences of l*\n")
b_test <- c(0.3, -0.2, 0.05)
q_test <- penalised(b_test, X3, sets3)
num_grad <- vapply(seq_along(b_test), function(u) {
  e <- replace(numeric(3), u, 1e-5)
  (penalised(b_test + e, X3, sets3)$ll - penalised(b_test - e, X3, sets3)$ll) / 2e-5
}, numeric(1))
chk_grad <- max(abs(q_test$score - num_grad))
cat(sprintf("max |analytic - numerical| = %.3g\n", chk_grad))
stopifnot(chk_grad < 1e-6)

# ---------------------------------------------------------------------------------------
# Golden values
# ---------------------------------------------------------------------------------------
golden <- list(
  generator = "tests/reference/firth/make_golden.R",
  r_version = R.version.string,
  survival_version = as.character(packageVersion("survival")),
  method = paste(
    "Firth-penalised Cox partial likelihood, Breslow ties:",
    "l*(b) = log PL_Breslow(b) + 0.5 log det I(b).",
    "se = sqrt(diag(I(b_hat)^-1)); CI = exp of profile penalised likelihood limits;",
    "p = penalised likelihood-ratio test with b_j fixed at 0 (other terms refitted)."
  ),
  alpha = ALPHA,
  penalty_weight = PENALTY,
  cases = list()
)

for (nm in names(cases)) {
  cs <- cases[[nm]]
  res <- firth_cox(cs$data, cs$covariates)
  oc <- ordinary_cox(cs$data, cs$covariates)
  ev_times <- cs$data$time[cs$data$status == 1]
  cat(sprintf(paste("== %s: n = %d, events = %d at %d distinct times,",
                    "iterations = %d, penalised loglik = %.10f\n"),
              nm, nrow(cs$data), length(ev_times), length(unique(ev_times)),
              res$fit$iter, res$fit$q$ll))
  print(do.call(rbind, lapply(res$terms, function(t) unlist(t))))
  cat("ordinary coxph coef:", format(oc$coef, digits = 6), "\n")
  if (length(oc$warnings)) cat("ordinary coxph warning:", oc$warnings, sep = "\n  ")
  golden$cases[[nm]] <- list(
    csv = cs$csv,
    description = cs$description,
    time = "time",
    event = "status",
    covariates = I(cs$covariates),
    n = nrow(cs$data),
    events = sum(cs$data$status),
    loglik = res$fit$q$ll,
    loglik_unpenalised = res$fit$q$ll_unpen,
    terms = res$terms,
    ordinary_cox = list(
      coef = setNames(as.list(oc$coef), cs$covariates),
      infinite_warning = any(grepl("infinite", oc$warnings))
    )
  )
}

path <- file.path(outdir, "golden.json")
writeLines(toJSON(golden, auto_unbox = TRUE, digits = NA, pretty = TRUE), path)
cat("wrote", path, "\n")
