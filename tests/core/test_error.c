/* test_error.c — status names, exit codes and the error record. */
#include "xm_test.h"

#include "xmrisk/error.h"

static void test_exit_codes(void **state)
{
    (void)state;
    /* interface.md: 0 success, 1 a failure while running, 2 a usage or model error. */
    assert_int_equal(xm_status_exit_code(XM_OK), 0);
    assert_int_equal(xm_status_exit_code(XM_EUSAGE), 2);
    assert_int_equal(xm_status_exit_code(XM_EMODEL), 2);
    assert_int_equal(xm_status_exit_code(XM_EIO), 1);
    assert_int_equal(xm_status_exit_code(XM_ENOMEM), 1);
    assert_int_equal(xm_status_exit_code(XM_ENUMERIC), 1);
    assert_int_equal(xm_status_exit_code(XM_EINTR), 1);
    assert_int_equal(xm_status_exit_code(XM_EDATA), 2);   /* a bad part or checkpoint: input */
    assert_int_equal(xm_status_exit_code((xm_status)999), 1);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(xm_status_name(XM_EMODEL), "EMODEL");
    assert_string_equal(xm_status_text(XM_EIO), "input/output error");
    assert_string_equal(xm_status_name(XM_EDATA), "EDATA");
    assert_string_equal(xm_status_name((xm_status)999), "?");
    assert_string_equal(xm_status_text((xm_status)999), "?");
}

static void test_set_and_clear(void **state)
{
    (void)state;
    xm_error err;
    assert_int_equal(xm_error_set(&err, XM_EMODEL, "m.yaml:%d:%d: %s", 3, 7, "bad"), XM_EMODEL);
    assert_int_equal(err.status, XM_EMODEL);
    assert_string_equal(err.msg, "m.yaml:3:7: bad");
    xm_error_clear(&err);
    assert_int_equal(err.status, XM_OK);
    assert_string_equal(err.msg, "");
    /* NULL records are allowed: the status still comes back. */
    assert_int_equal(xm_error_set(NULL, XM_EIO, "x"), XM_EIO);
    xm_error_clear(NULL);
}

static void test_long_message_is_cut(void **state)
{
    (void)state;
    xm_error err;
    char big[3 * XM_ERROR_MSG_MAX];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    xm_error_set(&err, XM_EMODEL, "%s", big);
    assert_int_equal(strlen(err.msg), XM_ERROR_MSG_MAX - 1);
}

/* A message carrying user input with control characters stays one line (found by fuzz_model:
 * an accounts_csv path with newlines). */
static void test_message_is_one_line(void **state)
{
    (void)state;
    xm_error err;
    xm_error_set(&err, XM_EIO, "%s: cannot read", "dir/a\nb\r\tc\x01.csv");
    assert_string_equal(err.msg, "dir/a\\nb\\r\\tc\\x01.csv: cannot read");
    assert_null(strchr(err.msg, '\n'));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_codes),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_set_and_clear),
        cmocka_unit_test(test_long_message_is_cut),
        cmocka_unit_test(test_message_is_one_line),
    };
    return xm_run_tests(tests, NULL, NULL);
}
