# maxstat.test (LogRank, Lau94) over the genes of a CSV matrix; prints the seconds spent.
# Usage: Rscript maxstat_equivalent.R DATA.csv   (columns: time, event, g1, g2, ...)
suppressPackageStartupMessages({library(survival); library(maxstat)})
d <- read.csv(commandArgs(trailingOnly = TRUE)[1])
genes <- setdiff(names(d), c("time", "event"))
t0 <- proc.time()[["elapsed"]]
for (g in genes) {
  m <- maxstat.test(Surv(time, event) ~ x, data = data.frame(time = d$time, event = d$event,
                    x = d[[g]]), smethod = "LogRank", pmethod = "Lau94", minprop = 0.1,
                    maxprop = 0.9)
}
cat(sprintf("%.6f\n", proc.time()[["elapsed"]] - t0))
