/* fuzz_http.c -- libFuzzer target: the HTTP/1.1 request parser of `parapet serve`
** (src/server/http.c).  The input is fed as the server feeds it: in pieces (the first
** byte chooses the piece size), with compaction between calls, and pipelined requests
** parsed one after another.  Checks the parser's promises: every offset it reports
** lies inside the buffer, the body ends before `consumed`, an error carries a status
** and a message, and limits hold. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "server/http.h"

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    size_t step = (size_t)(data[0] % 17) + 1;
    data++;
    size--;
    http_limits lim;
    http_limits_default(&lim);
    lim.max_body = 4096;
    lim.max_header_bytes = 2048;
    lim.max_line = 1024;
    lim.max_headers = 16;
    char *buf = malloc(size + 1);
    size_t len = 0, pos = 0;
    http_req r;
    http_req_init(&r);
    while (pos < size || len) {
        size_t take = size - pos < step ? size - pos : step;
        memcpy(buf + len, data + pos, take);
        len += take;
        pos += take;
        int rc = http_parse(&r, buf, len, &lim);
        if (rc == HTTP_ERROR) {
            REQUIRE(r.status >= 400 && r.status < 600 && r.error && *r.error);
            break;
        }
        if (rc == HTTP_AGAIN) {
            size_t before = len;
            http_compact(&r, buf, &len);
            REQUIRE(len <= before);
            if (!take) break;                    /* input exhausted mid-request */
            continue;
        }
        REQUIRE(r.headers_done);
        REQUIRE(r.consumed <= len);
        REQUIRE(r.body_off + r.body_len <= r.consumed);
        REQUIRE(r.body_len <= lim.max_body);
        REQUIRE(r.path_off + r.path_len <= r.consumed && r.path_len >= 1 && buf[r.path_off] == '/');
        REQUIRE(r.auth_off + r.auth_len <= r.consumed);
        REQUIRE(r.ctype_off + r.ctype_len <= r.consumed);
        REQUIRE(r.method_off + r.method_len <= r.consumed);
        /* next pipelined request */
        memmove(buf, buf + r.consumed, len - r.consumed);
        len -= r.consumed;
        http_req_init(&r);
        if (!len && pos == size) break;
    }
    free(buf);
    return 0;
}
