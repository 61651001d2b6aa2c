# Reference values from R's mclust for tests/test_gmm.py (regenerate: Rscript tests/data/mclust_reference.R).
# For the nine models: mstep() from fixed soft responsibilities z on iris (4 attributes, 3 clusters),
# and me() (EM from the same z, tolerance 1e-10): log-likelihood, iterations, mixing proportions.
# Writes tests/data/mclust_reference.json next to this script.
suppressMessages(library(mclust))
x <- as.matrix(iris[, 1:4])
set.seed(1)
raw <- matrix(rexp(nrow(x) * 3), ncol = 3)
raw[cbind(seq_len(nrow(x)), as.integer(iris$Species))] <- raw[cbind(seq_len(nrow(x)), as.integer(iris$Species))] + 3
z <- raw / rowSums(raw)
num <- function(v) paste0("[", paste(sprintf("%.17g", as.vector(v)), collapse = ", "), "]")
models <- c("EII", "VII", "EEI", "EVI", "VVI", "EEE", "EEV", "EVV", "VVV")
parts <- c()
for (m in models) {
  ms <- mstep(modelName = m, data = x, z = z)
  sigma <- ms$parameters$variance$sigma            # d x d x G
  fit <- me(modelName = m, data = x, z = z, control = emControl(tol = c(1e-10, sqrt(.Machine$double.eps))))
  parts <- c(parts, sprintf(paste0('"%s": {"mstep_pro": %s, "mstep_mean": %s, "mstep_sigma": %s, ',
                                   '"me_loglik": %.17g, "me_iterations": %d, "me_pro": %s}'),
                            m, num(ms$parameters$pro), num(t(ms$parameters$mean)), num(aperm(sigma, c(3, 1, 2))),
                            fit$loglik, as.integer(attr(fit, "info")["iterations"]), num(fit$parameters$pro)))
}
out <- paste0('{"mclust_version": "', packageVersion("mclust"), '", "z": ', num(z), ', ',
              paste(parts, collapse = ", "), "}")
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("--file=", "", args[grep("--file=", args)])))
writeLines(out, file.path(here, "mclust_reference.json"))
