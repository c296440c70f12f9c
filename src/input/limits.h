/* limits.h — internal: the bounds of the model file's numbers that keep every result finite
 * (docs/model.md §7 "Bounds", where they are derived). Shared by the YAML sections and the
 * accounts CSV reader, so that one input means the same whichever way it is given. */
#ifndef XM_INPUT_LIMITS_H
#define XM_INPUT_LIMITS_H

/* Any amount of money given in the model (wallet, isolated margin, insurance fund, tier cap,
 * minimum partial notional, impact depth and daily volume): at most 10^15 USD, ten times
 * the world's yearly product. */
#define XM_MONEY_MAX 1e15

/* A price (start price, entry price): [10^-9, 10^12] USD per base unit. */
#define XM_PRICE_MIN 1e-9
#define XM_PRICE_MAX 1e12

/* Impact depth (linear) and daily volume (square root) at least 10^3 USD: below it one
 * dollar of flow moves the price by more than 10^-5 in log. */
#define XM_IMPACT_USD_MIN 1e3

/* One jump of mean size plus one stdev moves ln S by at most this (e^20 = 4.9e8):
 * |jump_beta| (|jumps.mean| + jumps.stdev) <= XM_JUMP_LOG_MAX. */
#define XM_JUMP_LOG_MAX 20.0

/* population.entry_dispersion d (entry = S0 exp(d Z)): at most 2. */
#define XM_ENTRY_DISPERSION_MAX 2.0

#endif /* XM_INPUT_LIMITS_H */
