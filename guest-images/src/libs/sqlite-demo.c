/* sqlite-demo: links Debian's static i386 SQLite (libsqlite3-dev:i386).
 * An in-memory database: a table filled by a recursive CTE, an index, aggregates,
 * a join, a window function, an update inside a transaction that is rolled back.
 * Prints each result row; exit status 0.
 *
 *   sqlite-demo [ROWS]   rows in the pages table, 10..1000000 (default 5000: ~103 M
 *                        instructions; 40: a whole run in about two million) */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

static int row(void *tag, int n, char **val, char **col) {
    printf("%s:", (const char *)tag);
    for (int i = 0; i < n; i++) printf(" %s=%s", col[i], val[i] ? val[i] : "NULL");
    printf("\n");
    return 0;
}

static int run(sqlite3 *db, const char *tag, const char *sql) {
    char *err = NULL;
    if (sqlite3_exec(db, sql, row, (void *)tag, &err) != SQLITE_OK) {
        printf("%s: error: %s\n", tag, err);
        sqlite3_free(err);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    long rows = 5000;
    if (argc > 1) {
        rows = strtol(argv[1], NULL, 0);
        if (rows < 10 || rows > 1000000) {
            fprintf(stderr, "usage: sqlite-demo [ROWS], 10..1000000\n");
            return 2;
        }
    }
    char fill[512];
    snprintf(fill, sizeof fill,
             "CREATE TABLE pages(id INTEGER PRIMARY KEY, vma TEXT, faults INTEGER, kind TEXT);"
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < %ld)"
             " INSERT INTO pages SELECT i, CASE i %% 4 WHEN 0 THEN 'stack' WHEN 1 THEN 'heap'"
             " WHEN 2 THEN 'text' ELSE 'data' END, (i * 7919) %% 13, CASE WHEN i %% 3 = 0"
             " THEN 'major' ELSE 'minor' END FROM n;"
             "CREATE INDEX pages_vma ON pages(vma);",
             rows);
    sqlite3 *db;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK) return 1;
    int bad = 0;
    printf("sqlite %s\n", sqlite3_libversion());
    bad |= run(db, "create", fill);
    bad |= run(db, "count", "SELECT count(*) AS n, sum(faults) AS total, min(id) AS lo, max(id) AS hi FROM pages;");
    bad |= run(db, "group",
               "SELECT vma, count(*) AS n, sum(faults) AS f, printf('%.3f', avg(faults)) AS avg"
               " FROM pages GROUP BY vma ORDER BY vma;");
    bad |= run(db, "kinds", "SELECT kind, count(*) AS n FROM pages WHERE vma = 'stack' GROUP BY kind ORDER BY kind;");
    bad |= run(db, "vmas",
               "CREATE TABLE vmas(name TEXT PRIMARY KEY, flags INTEGER);"
               "INSERT INTO vmas VALUES ('stack', 0x177), ('heap', 0x77), ('text', 0x1875), ('data', 0x1873);"
               "SELECT v.name, printf('0x%x', v.flags) AS flags, count(p.id) AS pages FROM vmas v"
               " JOIN pages p ON p.vma = v.name WHERE p.faults > 10 GROUP BY v.name ORDER BY pages DESC, v.name;");
    bad |= run(db, "window",
               "SELECT id, faults, sum(faults) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS run3"
               " FROM pages WHERE id <= 6;");
    bad |= run(db, "rollback",
               "BEGIN; UPDATE pages SET faults = faults + 100; ROLLBACK;"
               "SELECT sum(faults) AS total_after_rollback FROM pages;");
    bad |= run(db, "strings", "SELECT upper('growsdown') AS u, length(group_concat(vma, ',')) AS len,"
                              " substr('expand_stack', 8) AS tail, hex(zeroblob(3)) AS z FROM pages WHERE id < 10;");
    sqlite3_close(db);
    return bad;
}
