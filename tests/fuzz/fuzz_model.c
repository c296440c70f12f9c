/* fuzz_model.c — libFuzzer harness: any bytes as a model file.
 *
 *   bytes -> xm_model_load_string(data, size, NAME, &err) -> xm_model_free
 *
 * The loader must return a model or an error for every input: no crash, no leak, no sanitizer
 * report, and on failure a non-empty one-line message. NAME is DIR/models/fuzz.yaml in a private
 * temporary directory (under $TMPDIR) that also holds DIR/csv/accounts.csv and
 * DIR/csv/positions.csv (copies of tests/data/csv), so that `accounts_csv:` paths such as the
 * ones of tests/data/models/with_csv.yaml (../csv/accounts.csv) resolve and the CSV reader is
 * reached from the model too, without reading files of the working directory.
 *
 * Inputs that name files under /dev, /proc or /sys are skipped: reading /dev/zero or /dev/stdin
 * as a CSV file does not end, by design (a CSV line may be as long as memory allows).
 *
 * `population:` can ask for up to 2^32 - 3 accounts, which is valid and takes minutes and many
 * gigabytes (report: docs/robustness.md); the fuzzer would stop at its -timeout or
 * -rss_limit_mb on such an input. The harness is linked with -Wl,--wrap=xm_population_generate
 * (tests/fuzz/CMakeLists.txt): generation is refused, as an allocation failure (XM_ENOMEM, a
 * path the loader has to handle anyway), above MAX_POPULATION_POSITIONS positions at most
 * (accounts * assets_per_account.max); smaller populations are generated as usual.
 *
 * GSL's error handler is left at its default (abort): src/market/corr.c says GSL is only called on
 * input it accepts, and an abort here would show that this does not hold.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xmrisk/model.h"
#include "xmrisk/population.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char ACCOUNTS_CSV[] = "id,mode,wallet_usd\n"
                                   "whale-7,cross,2500000.75\n"
                                   "iso-3,isolated,\n"
                                   "acc-0012,cross,13.5e3\n"
                                   "iso-9,isolated,0\n";
static const char POSITIONS_CSV[] = "account_id,asset,qty,entry,margin_usd\n"
                                    "acc-0012,ETH,-4.0625,3011.25,\n"
                                    "whale-7,BTC,17.3,90873.5,0\n"
                                    "iso-3,BTC,0.0421,91002.7,388.19\n"
                                    "whale-7,ETH,-210.5,3044.1,\n"
                                    "iso-9,ETH,1.5e1,2999.99,4417.5\n"
                                    "acc-0012,BTC,+0.125,9.1e4,\n"
                                    "iso-3,ETH,-3.3,3050,1007.75\n";

#define MAX_POPULATION_POSITIONS 200000u /* default.yaml: 20000 accounts * 3 */

xm_status __real_xm_population_generate(const xm_population_params *p, const xm_market *m,
                                        const xm_venue *v, uint64_t seed, xm_accounts *book,
                                        xm_error *err);
xm_status __wrap_xm_population_generate(const xm_population_params *p, const xm_market *m,
                                        const xm_venue *v, uint64_t seed, xm_accounts *book,
                                        xm_error *err);

xm_status __wrap_xm_population_generate(const xm_population_params *p, const xm_market *m,
                                        const xm_venue *v, uint64_t seed, xm_accounts *book,
                                        xm_error *err)
{
    if (p->accounts > MAX_POPULATION_POSITIONS ||
        p->accounts * (uint64_t)p->assets_max > MAX_POPULATION_POSITIONS)
        return xm_error_set(err, XM_ENOMEM,
                            "population: %llu accounts of up to %u positions (fuzz_model "
                            "generates at most %u positions)",
                            (unsigned long long)p->accounts, (unsigned)p->assets_max,
                            MAX_POPULATION_POSITIONS);
    return __real_xm_population_generate(p, m, v, seed, book, err);
}

static char g_dir[4096];
static int g_verbose; /* XM_FUZZ_VERBOSE=1: print each load's outcome (reproducing) */
static char g_name[4200];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0) {
        perror(path);
        abort();
    }
}

static void cleanup(void)
{
    static const char *const files[] = {"csv/accounts.csv", "csv/positions.csv", "csv", "models",
                                        ""};
    char p[4400];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", g_dir, files[i]);
        if (remove(p) != 0 && i + 1 == sizeof files / sizeof files[0])
            rmdir(g_dir);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    g_verbose = getenv("XM_FUZZ_VERBOSE") != NULL && *getenv("XM_FUZZ_VERBOSE") == '1';
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/xm_fuzz_model.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(g_dir) == NULL) {
        perror(g_dir);
        abort();
    }
    char p[4400];
    snprintf(p, sizeof p, "%s/models", g_dir);
    if (mkdir(p, 0700) != 0) {
        perror(p);
        abort();
    }
    snprintf(p, sizeof p, "%s/csv", g_dir);
    if (mkdir(p, 0700) != 0) {
        perror(p);
        abort();
    }
    snprintf(p, sizeof p, "%s/csv/accounts.csv", g_dir);
    write_file(p, ACCOUNTS_CSV);
    snprintf(p, sizeof p, "%s/csv/positions.csv", g_dir);
    write_file(p, POSITIONS_CSV);
    snprintf(g_name, sizeof g_name, "%s/models/fuzz.yaml", g_dir);
    atexit(cleanup);
    return 0;
}

static int names_device(const uint8_t *data, size_t size)
{
    static const char *const bad[] = {"/dev", "/proc", "/sys"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = strlen(bad[i]);
        for (size_t k = 0; k + n <= size; k++)
            if (memcmp(data + k, bad[i], n) == 0)
                return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (names_device(data, size))
        return -1; /* not added to the corpus */
    xm_error err;
    xm_error_clear(&err);
    xm_model *m = xm_model_load_string((const char *)data, size, g_name, &err);
    if (g_verbose)
        fprintf(stderr, "fuzz_model: %s\n", m != NULL ? "ok" : err.msg);
    if (m == NULL) {
        /* every failure says what went wrong, on one line */
        if (err.status == XM_OK || err.msg[0] == '\0' || strchr(err.msg, '\n') != NULL) {
            fprintf(stderr, "fuzz_model: failure without a one-line message: status %d, '%s'\n",
                    (int)err.status, err.msg);
            abort();
        }
        return 0;
    }
    if (err.status != XM_OK) {
        fprintf(stderr, "fuzz_model: a model with an error status %d: %s\n", (int)err.status,
                err.msg);
        abort();
    }
    (void)xm_model_tau(m);
    xm_model_free(m);
    return 0;
}
