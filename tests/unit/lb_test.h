/* Shared by the Check unit tests: a scratch database path per process (removed with its WAL
 * files) and the runner every test binary ends with. Header-only: each test is one binary. */
#ifndef LB_TEST_H
#define LB_TEST_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char lb_test_db[256];

static inline void lb_test_db_remove(void)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char p[300];
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        snprintf(p, sizeof p, "%s%s", lb_test_db, suffixes[i]);
        unlink(p);
    }
}

/* A fresh, absent database path named after the test binary, the process and the call: unforked
 * (CK_FORK=no, as under valgrind) a failed test skips its teardown, and a writer thread it left
 * running must not find the next test's file under the same name (it would write its own back). */
static inline void lb_test_db_setup_named(const char *name)
{
    static unsigned calls;
    snprintf(lb_test_db, sizeof lb_test_db, "/tmp/lb-test-%s-%d-%u.db", name, getpid(), calls++);
    lb_test_db_remove();
}

/* Runs every case of the suite; the exit status is what ctest reads. */
static inline int lb_test_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
