// test_rng_reference.cpp — our C PCG64 against O'Neill's reference C++ implementation
// (Debian libpcg-cpp-dev, /usr/include/pcg_random.hpp), output for output.
//
// C++ only so that the reference header can be included; the code under test is the C
// library, called through its C header.
#include <cstdint>
#include <cstdio>

// The reference header first: cmocka defines a fail() macro that clashes with iostreams.
#include <pcg_random.hpp>

extern "C" {
#include "xm_test.h"
#include "xmrisk/rng.h"
}

namespace {

const int kOutputs = 10000;

// (seed, stream) pairs: zeros, small, neighbours, all-ones and high-entropy values.
const uint64_t kPairs[][2] = {
    {0u, 0u},
    {42u, 54u},
    {42u, 55u},
    {20261125u, 0u},
    {20261125u, 1u},
    {0xFFFFFFFFFFFFFFFFull, 0xFFFFFFFFFFFFFFFFull},
    {0x853C49E6748FEA9Bull, 0xDA3E39CB94B95BDBull},
    {1u, 0x7FFFFFFFFFFFFFFFull},
    {0x0123456789ABCDEFull, 0x8000000000000000ull},  // stream's top bit shifted out by << 1
};

void compare_sequences(uint64_t seed, uint64_t stream)
{
    pcg64 ref(seed, stream);
    xm_pcg64 ours;
    xm_pcg64_seed(&ours, seed, stream);
    for (int k = 0; k < kOutputs; k++) {
        uint64_t want = ref();
        uint64_t got = xm_pcg64_next(&ours);
        if (want != got)
            fail_msg("seed %llu stream %llu output %d: reference %llu, ours %llu",
                     (unsigned long long)seed, (unsigned long long)stream, k,
                     (unsigned long long)want, (unsigned long long)got);
    }
}

void test_first_outputs_match(void **)
{
    for (const auto &p : kPairs)
        compare_sequences(p[0], p[1]);
}

// advance(d) must equal the reference's advance(d) and also d calls of next().
void test_advance_matches(void **)
{
    const uint64_t deltas[] = {0u, 1u, 2u, 7u, 1000u, 123456789u, 0xFFFFFFFFull,
                               0x8000000000000001ull, 0xFFFFFFFFFFFFFFFFull};
    for (const auto &p : kPairs) {
        for (uint64_t d : deltas) {
            pcg64 ref(p[0], p[1]);
            xm_pcg64 ours;
            xm_pcg64_seed(&ours, p[0], p[1]);
            ref.advance(d);
            xm_pcg64_advance(&ours, d);
            for (int k = 0; k < kOutputs; k++) {
                uint64_t want = ref(), got = xm_pcg64_next(&ours);
                if (want != got)
                    fail_msg("advance %llu, output %d after it: reference %llu, ours %llu",
                             (unsigned long long)d, k, (unsigned long long)want,
                             (unsigned long long)got);
            }
        }
    }
}

// advance(d) and the reference discard(d) land on the same state.
void test_advance_then_discard_equivalence(void **)
{
    pcg64 ref(42u, 54u);
    ref.discard(5000);
    xm_pcg64 ours;
    xm_pcg64_seed(&ours, 42u, 54u);
    xm_pcg64_advance(&ours, 5000);
    for (int k = 0; k < kOutputs; k++)
        assert_true(ref() == xm_pcg64_next(&ours));
}

}  // namespace

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_outputs_match),
        cmocka_unit_test(test_advance_matches),
        cmocka_unit_test(test_advance_then_discard_equivalence),
    };
    return xm_run_tests(tests, NULL, NULL);
}
