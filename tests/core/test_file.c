/* test_file.c — xm_read_file: missing file, a directory, an empty file, a large file, the size
 * limit, a pipe. */
#include "xm_test.h"

#include "core/file.h"

/* A fresh path in the temporary directory. */
static const char *temp_path(const char *basename, char *buf, size_t size)
{
    const char *dir = getenv("TMPDIR");
    snprintf(buf, size, "%s/xmtest-%ld-%s", dir ? dir : "/tmp", (long)getpid(), basename);
    return buf;
}

static void test_missing(void **state)
{
    (void)state;
    xm_error err;
    char *buf = (char *)1;
    size_t len = 7;
    assert_int_equal(xm_read_file("/nonexistent/no.yaml", NULL, &buf, &len, &err), XM_EIO);
    assert_string_equal(err.msg, "/nonexistent/no.yaml: cannot read: No such file or directory");
    assert_null(buf);
    assert_int_equal(len, 0);
}

static void test_directory(void **state)
{
    (void)state;
    xm_error err;
    char *buf;
    size_t len;
    static const xm_read_opts regular = {0, NULL, 1};
    assert_int_equal(xm_read_file(XM_TEST_DATA_DIR, NULL, &buf, &len, &err), XM_EIO);
    assert_string_equal(err.msg, XM_TEST_DATA_DIR ": cannot read: Is a directory");
    assert_int_equal(xm_read_file(XM_TEST_DATA_DIR, &regular, &buf, &len, &err), XM_EIO);
    assert_string_equal(err.msg, XM_TEST_DATA_DIR ": cannot read: Is a directory");
    assert_null(buf);
}

static void test_empty(void **state)
{
    (void)state;
    const char *path = xm_test_write_file("empty.txt", "");
    xm_error err;
    char *buf;
    size_t len = 7;
    assert_int_equal(xm_read_file(path, NULL, &buf, &len, &err), XM_OK);
    assert_non_null(buf);
    assert_int_equal(len, 0);
    free(buf);
    unlink(path);
}

/* Several MiB (more than the first read and any stdio buffer), byte for byte. */
static void test_large(void **state)
{
    (void)state;
    char path[512];
    temp_path("large.bin", path, sizeof path);
    const size_t n = (size_t)5 << 20;
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (size_t i = 0; i < n; i++)
        fputc((int)((i * 2654435761u) >> 13) & 0xff, f);
    fclose(f);
    char *buf;
    size_t len;
    xm_error err;
    assert_int_equal(xm_read_file(path, NULL, &buf, &len, &err), XM_OK);
    assert_int_equal(len, n);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)buf[i] != (((i * 2654435761u) >> 13) & 0xff))
            fail_msg("byte %zu differs", i);
    free(buf);
    unlink(path);
}

/* A file of max_bytes or more is refused, one byte less is read. */
static void test_limit(void **state)
{
    (void)state;
    char path[512], want[600];
    temp_path("limit.bin", path, sizeof path);
    const xm_read_opts opts = {(size_t)1 << 20, "a model file", 0};
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (size_t i = 0; i + 1 < opts.max_bytes; i++)
        fputc('x', f);
    fclose(f);
    char *buf;
    size_t len;
    xm_error err;
    assert_int_equal(xm_read_file(path, &opts, &buf, &len, &err), XM_OK);
    assert_int_equal(len, opts.max_bytes - 1);
    free(buf);
    f = fopen(path, "ab");
    fputc('x', f);
    fclose(f);
    assert_int_equal(xm_read_file(path, &opts, &buf, &len, &err), XM_EIO);
    snprintf(want, sizeof want, "%s: cannot read: larger than 1 MiB, not a model file", path);
    assert_string_equal(err.msg, want);
    assert_null(buf);
    unlink(path);
}

/* A device without an end: refused at the limit while streaming; refused at once when only
 * regular files are read. */
static void test_not_regular(void **state)
{
    (void)state;
    const xm_read_opts limit = {(size_t)1 << 20, "a model file", 0};
    const xm_read_opts regular = {0, NULL, 1};
    char *buf;
    size_t len;
    xm_error err;
    assert_int_equal(xm_read_file("/dev/zero", &limit, &buf, &len, &err), XM_EIO);
    assert_string_equal(err.msg, "/dev/zero: cannot read: larger than 1 MiB, not a model file");
    assert_int_equal(xm_read_file("/dev/zero", &regular, &buf, &len, &err), XM_EIO);
    assert_string_equal(err.msg, "/dev/zero: cannot read: Invalid argument");
    assert_int_equal(xm_read_file("/dev/null", NULL, &buf, &len, &err), XM_OK);
    assert_int_equal(len, 0);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing),   cmocka_unit_test(test_directory),
        cmocka_unit_test(test_empty),     cmocka_unit_test(test_large),
        cmocka_unit_test(test_limit),     cmocka_unit_test(test_not_regular),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
