/* closed_form.h — closed forms the simulator is validated against (tests/validation/test_validation.c,
 * docs/validation.md). Independent of the xmrisk library: only libm and GSL's normal CDF.
 *
 * Sources:
 *  - first passage of a Brownian motion with drift (reflection principle, then Girsanov for
 *    the drift): S. E. Shreve, Stochastic Calculus for Finance II (Springer, 2004), §7.2
 *    (maximum of Brownian motion with drift); I. Karatzas, S. E. Shreve, Brownian Motion and
 *    Stochastic Calculus (2nd ed., Springer, 1991), §2.6 (reflection principle);
 *  - discrete monitoring: M. Broadie, P. Glasserman, S. Kou, "A continuity correction for
 *    discrete barrier options", Mathematical Finance 7(4) (1997) 325-348, main result (§1):
 *    a barrier monitored every dt behaves like a continuously monitored one shifted away
 *    from the start by exp(beta sigma sqrt(dt)), beta = -zeta(1/2)/sqrt(2 pi) = 0.5825971...,
 *    with an error o(1/sqrt(m)) for m monitoring dates; survey: S. G. Kou, "Discrete barrier
 *    and lookback options", Handbooks in OR & MS 15 (2008), ch. 8;
 *  - the exact discretely monitored probability (cf_bm_hit_discrete_exact) is computed, not a
 *    closed form: the killed random walk's density, propagated step by step
 *    (Chapman-Kolmogorov recursion; trapezoidal quadrature).
 */
#ifndef XM_CLOSED_FORM_H
#define XM_CLOSED_FORM_H

/* beta = -zeta(1/2) / sqrt(2 pi); zeta(1/2) = -1.4603545088095868 (BGK 1997). */
#define CF_BGK_BETA 0.5825971579390106

/* Probability that X_t = nu t + sigma W_t (X_0 = 0) reaches the level b != 0 at some
 * t in [0, T] (continuous monitoring). b < 0: down barrier,
 *   P = Phi((b - nu T)/(sigma sqrt T)) + exp(2 nu b / sigma^2) Phi((b + nu T)/(sigma sqrt T));
 * b > 0: the same for -X (b -> -b, nu -> -nu). sigma > 0, T > 0. */
double cf_bm_hit(double b, double nu, double sigma, double T);

/* The same when X is only observed at t = dt, 2 dt, ..., T: BGK's corrected level
 * b - beta sigma sqrt(dt) (down) or b + beta sigma sqrt(dt) (up) in cf_bm_hit. */
double cf_bm_hit_discrete(double b, double nu, double sigma, double T, double dt);

/* The same probability for observation at t = dt, ..., T (dt = T / m) computed without an
 * asymptotic formula: the walk X_k = X_{k-1} + nu dt + sigma sqrt(dt) Z_k, killed at b, has
 * its density propagated step by step on a uniform grid (trapezoidal quadrature of the
 * Gaussian transition kernel; grid h = sigma sqrt(dt) / 20, kernel cut at 8 sd, grid from b
 * to 12 sigma sqrt(T) + |nu| T beyond the start); P = 1 - surviving mass. Numerical error
 * below 1e-4 for the cases of test_validation.c (checked there by halving h). A reference
 * for coarse monitoring, where BGK's o(sqrt(dt)) remainder is visible. -1 on allocation
 * failure. */
double cf_bm_hit_discrete_exact(double b, double nu, double sigma, double T, unsigned m,
                                int points_per_sd);

/* Liquidation mark of an isolated position opened at `entry` with margin N/L (one tier,
 * maintenance rate mmr, no cum): E = MM at
 *   long  B = entry (1 - 1/L) / (1 - mmr),   short B = entry (1 + 1/L) / (1 + mmr). */
double cf_iso_barrier(double entry, double leverage, double mmr, int is_long);

/* Probability that an isolated position on a GBM asset (S0 = entry, annual drift mu and vol
 * sigma) is liquidated within T years, monitored every dt years (dt <= 0: continuously).
 * Log price: drift nu = mu - sigma^2/2, vol sigma; barrier b = ln(B / S0). */
double cf_iso_gbm_liq(double leverage, double mmr, int is_long, double mu, double sigma,
                      double T, double dt);

/* The same with cf_bm_hit_discrete_exact (m observations). */
double cf_iso_gbm_liq_exact(double leverage, double mmr, int is_long, double mu, double sigma,
                            double T, unsigned m);

/* Health of a cross account long qa of A, short qb of B (magnitudes > 0), both opened at
 * the start prices, one tier per asset (rate mmr), under arithmetic Brownian motion
 * (bachelier, no drift): H = W + qa (mA - SA0) - qb (mB - SB0) - mmr (qa mA + qb mB).
 * H0 = W - mmr (qa SA0 + qb SB0); its annual variance rate is
 *   sH^2 = (qa (1-mmr) sA SA0)^2 + (qb (1+mmr) sB SB0)^2
 *          - 2 rho qa (1-mmr) qb (1+mmr) sA SA0 sB SB0. */
typedef struct {
    double qa, sa0, vol_a;   /* long leg: quantity, start price = entry, annual vol (relative) */
    double qb, sb0, vol_b;   /* short leg: |quantity|, start price = entry, annual vol */
    double rho, mmr, wallet;
} cf_pair;

double cf_pair_h0(const cf_pair *p);
double cf_pair_sigma_h(const cf_pair *p);

/* P(H reaches 0 within T years): 2 Phi(-H0 / (sH sqrt T)); with dt > 0 the BGK correction
 * H0 -> H0 + beta sH sqrt(dt). 1 when H0 <= 0. */
double cf_pair_cross_liq(const cf_pair *p, double T, double dt);

/* The same with cf_bm_hit_discrete_exact (m observations): H is a driftless Gaussian walk. */
double cf_pair_cross_liq_exact(const cf_pair *p, double T, unsigned m);

/* Binomial standard error sqrt(p (1 - p) / n). */
double cf_binom_se(double p, double n);

/* Wilson score interval (Wilson, JASA 22 (1927) 209-212) for k successes out of n at normal
 * quantile z. */
void cf_wilson(double k, double n, double z, double *lo, double *hi);

/* Least-squares slope of y on x over n points. */
double cf_ols_slope(const double *x, const double *y, int n);

#endif /* XM_CLOSED_FORM_H */
