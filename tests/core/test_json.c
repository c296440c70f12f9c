/* test_json.c — the writers of result files: JSON (core/json.h), CSV fields (core/csv.h), and
 * the little-endian codec of the binary formats (core/le.h). */
#include "xm_test.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/csv.h"
#include "core/json.h"
#include "core/le.h"

/* What a writer puts on a stream, as a string (freed by cap_expect). */
typedef struct {
    char *text;
    size_t len;
    FILE *fp;
} capture;

static void cap_open(capture *c)
{
    c->text = NULL;
    c->len = 0;
    c->fp = open_memstream(&c->text, &c->len);
    assert_non_null(c->fp);
}

/* Close the stream, compare with `want`, free. */
static void cap_expect(capture *c, const char *want)
{
    assert_int_equal(fclose(c->fp), 0);
    assert_string_equal(c->text, want);
    free(c->text);
}

static void check_string(const char *s, const char *want)
{
    capture c;
    cap_open(&c);
    xm_json_string(c.fp, s);
    cap_expect(&c, want);
}

static void check_num(double x, const char *want)
{
    capture c;
    cap_open(&c);
    xm_json_num(c.fp, x);
    cap_expect(&c, want);
}

static void test_json_string_escapes(void **state)
{
    (void)state;
    check_string("plain", "\"plain\"");
    check_string("", "\"\"");
    check_string("a\"b", "\"a\\\"b\"");
    check_string("a\\b", "\"a\\\\b\"");
    check_string("tab\there\nnl\x01\x1f", "\"tab\\u0009here\\u000anl\\u0001\\u001f\"");
    check_string("\x7f", "\"\x7f\"");                        /* DEL is not a control in JSON */
    check_string("caf\xc3\xa9 \xe2\x82\xac", "\"caf\xc3\xa9 \xe2\x82\xac\"");  /* UTF-8 as is */
    check_string("/", "\"/\"");
}

static void test_json_numbers(void **state)
{
    (void)state;
    check_num(0.1, "0.10000000000000001");
    check_num(1e300, "1.0000000000000001e+300");
    check_num(-0.0, "-0");
    check_num(0.0, "0");
    check_num(1.0, "1");
    check_num(10000.0, "10000");
    check_num(0.95, "0.94999999999999996");
    check_num(NAN, "null");
    check_num(INFINITY, "null");
    check_num(-INFINITY, "null");
    check_num(5e-324, "4.9406564584124654e-324");
    check_num(1.7976931348623157e308, "1.7976931348623157e+308");
}

static void test_json_keys_and_pairs(void **state)
{
    (void)state;
    capture c;
    cap_open(&c);
    fputc('{', c.fp);
    xm_json_key_num(c.fp, "p", 0.5, ", ");
    xm_json_key_pair(c.fp, "ci95", 0.25, NAN, ", ");
    xm_json_key(c.fp, "q\"k");
    xm_json_pair(c.fp, -1.0, 2.0);
    fputc('}', c.fp);
    cap_expect(&c, "{\"p\": 0.5, \"ci95\": [0.25, null], \"q\\\"k\": [-1, 2]}");
}

static void test_csv_fields(void **state)
{
    (void)state;
    capture c;
    cap_open(&c);
    xm_csv_text(c.fp, "plain");
    xm_csv_num(c.fp, 0.1);
    xm_csv_num(c.fp, NAN);
    xm_csv_num(c.fp, -INFINITY);
    fputc(',', c.fp);
    xm_csv_text(c.fp, "a,b");
    fputc(',', c.fp);
    xm_csv_text(c.fp, "say \"hi\"");
    fputc(',', c.fp);
    xm_csv_text(c.fp, "two\nlines");
    cap_expect(&c, "plain,0.10000000000000001,,,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\"");
}

/* splitmix64 (Steele, Lea, Flood 2014): a fixed stream of 64-bit patterns for the tests. */
static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* 10,000 doubles (every bit pattern that is finite, and values of ordinary size) read back
 * through strtod to the same bits. */
static void test_numbers_round_trip(void **state)
{
    (void)state;
    uint64_t seed = 42;
    for (int k = 0; k < 10000; k++) {
        uint64_t u = splitmix64(&seed);
        double x = k % 2 ? xm_bits_f64(u) : ldexp((double)(u >> 11), -53) * 1e6 - 5e5;
        char buf[XM_NUM_MAX];
        xm_num_text(buf, x, "null");
        if (!isfinite(x)) {
            assert_string_equal(buf, "null");
            continue;
        }
        assert_int_equal(xm_f64_bits(strtod(buf, NULL)), xm_f64_bits(x));
    }
}

static void test_le_round_trip(void **state)
{
    (void)state;
    unsigned char b[40];
    xm_le_writer w = {b, 0};
    xm_le_write_u32(&w, 0x01020304u);
    xm_le_write_u64(&w, 0x0102030405060708ULL);
    xm_le_write_i64(&w, -2);
    xm_le_write_f64(&w, -0.1);
    xm_le_write_bytes(&w, "xyzw", 4);
    assert_int_equal(w.off, 32);
    /* Little-endian: least significant byte first. */
    assert_int_equal(b[0], 0x04);
    assert_int_equal(b[3], 0x01);
    assert_int_equal(b[4], 0x08);
    assert_int_equal(b[11], 0x01);
    assert_int_equal(b[12], 0xfe);
    assert_int_equal(b[19], 0xff);
    assert_int_equal(xm_le_get_u32(b), 0x01020304u);
    assert_int_equal(xm_le_get_u64(b + 4), 0x0102030405060708ULL);

    xm_le_reader r = {b, 32, 0, 0};
    assert_int_equal(xm_le_read_u32(&r), 0x01020304u);
    assert_int_equal(xm_le_read_u64(&r), 0x0102030405060708ULL);
    assert_int_equal(xm_le_read_i64(&r), -2);
    assert_int_equal(xm_f64_bits(xm_le_read_f64(&r)), xm_f64_bits(-0.1));
    assert_int_equal(xm_le_read_u32(&r), xm_le_get_u32((const unsigned char *)"xyzw"));
    assert_int_equal(r.off, 32);
    assert_false(r.bad);
    /* Past the end: zero, bad, and the cursor stays. */
    assert_int_equal(xm_le_read_u32(&r), 0);
    assert_true(r.bad);
    assert_int_equal(r.off, 32);
    xm_le_reader short_r = {b, 7, 0, 0};
    assert_int_equal(xm_le_read_u64(&short_r), 0);
    assert_true(short_r.bad);
    assert_int_equal(xm_le_read_u32(&short_r), 0);  /* once bad, stays bad */
}

static void test_le_random_round_trip(void **state)
{
    (void)state;
    uint64_t seed = 7;
    unsigned char b[8];
    for (int k = 0; k < 10000; k++) {
        uint64_t u = splitmix64(&seed);
        xm_le_put_u64(b, u);
        assert_int_equal(xm_le_get_u64(b), u);
        xm_le_put_u32(b, (uint32_t)u);
        assert_int_equal(xm_le_get_u32(b), (uint32_t)u);
        assert_int_equal(xm_f64_bits(xm_bits_f64(u)), u);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_string_escapes),
        cmocka_unit_test(test_json_numbers),
        cmocka_unit_test(test_json_keys_and_pairs),
        cmocka_unit_test(test_csv_fields),
        cmocka_unit_test(test_numbers_round_trip),
        cmocka_unit_test(test_le_round_trip),
        cmocka_unit_test(test_le_random_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
