/*
** http.c -- the incremental HTTP/1.1 request parser (see http.h for the contract).
**
** A small state machine over one buffer: request line, header lines, then a body
** framed by Content-Length or chunked coding.  Each state resumes at r->scan, so the
** total work for a request is linear in its size however it is split into reads.
** Every limit is checked before the bytes that would exceed it are accepted, which is
** what lets the server bound the memory a single connection can pin.
*/
#include <string.h>
#include "server/http.h"

enum { S_START, S_LINE, S_HEADERS, S_BODY_CL, S_CHUNK_SIZE, S_CHUNK_DATA, S_CHUNK_CRLF,
       S_TRAILER, S_DONE };

/* Longest chunk-size line (hex digits plus extensions) we tolerate. */
#define MAX_CHUNK_LINE 1024

void http_limits_default(http_limits *l) {
    l->max_line = 8192;
    l->max_header_bytes = 16384;
    l->max_headers = 64;
    l->max_body = 1u << 20;
}

void http_req_init(http_req *r) {
    memset(r, 0, sizeof *r);
    r->content_length = -1;
}

static int fail(http_req *r, int status, const char *why) {
    r->status = status;
    r->error = why;
    return HTTP_ERROR;
}

/* RFC 9110 tchar. */
static int is_tchar(unsigned char c) {
    if (c >= '0' && c <= '9') return 1;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return 1;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* Case-insensitive comparison of s[0..n) with the lowercase literal `lit`. */
static int ieq(const char *s, size_t n, const char *lit) {
    size_t m = strlen(lit);
    if (n != m) return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s[i]) != lit[i]) return 0;
    return 1;
}

/* Does the comma-separated list s[0..n) contain the token `lit` (case-insensitive)? */
static int list_has(const char *s, size_t n, const char *lit) {
    size_t i = 0;
    while (i < n) {
        while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == ',')) i++;
        size_t b = i;
        while (i < n && s[i] != ',') i++;
        size_t e = i;
        while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) e--;
        if (e > b && ieq(s + b, e - b, lit)) return 1;
    }
    return 0;
}

static const struct { const char *name; int method; } methods[] = {
    {"GET", HTTP_GET}, {"HEAD", HTTP_HEAD}, {"POST", HTTP_POST}, {"PUT", HTTP_PUT},
    {"DELETE", HTTP_DELETE}, {"OPTIONS", HTTP_OPTIONS}, {"PATCH", HTTP_PATCH},
};

/* Parses the request line buf[b..e) (without CRLF). */
static int parse_request_line(http_req *r, const char *buf, size_t b, size_t e) {
    size_t i = b;
    while (i < e && is_tchar((unsigned char)buf[i])) i++;
    if (i == b || i >= e || buf[i] != ' ') return fail(r, 400, "malformed request line");
    if (i - b > 16) return fail(r, 501, "method not implemented");
    r->method_off = b;
    r->method_len = i - b;
    r->method = HTTP_OTHER;
    for (size_t k = 0; k < sizeof methods / sizeof *methods; k++)
        if (strlen(methods[k].name) == i - b && !memcmp(buf + b, methods[k].name, i - b))
            r->method = methods[k].method;
    size_t t = ++i;
    if (t >= e || buf[t] != '/') return fail(r, 400, "request target must start with '/'");
    size_t q = 0;
    while (i < e && buf[i] != ' ') {
        unsigned char c = (unsigned char)buf[i];
        if (c <= 0x20 || c >= 0x7f) return fail(r, 400, "invalid character in request target");
        if (c == '?' && !q) q = i;
        i++;
    }
    if (i >= e) return fail(r, 400, "malformed request line");
    r->path_off = t;
    r->path_len = (q ? q : i) - t;
    if (q) { r->query_off = q + 1; r->query_len = i - q - 1; }
    i++;
    if (e - i != 8 || memcmp(buf + i, "HTTP/", 5) || buf[i + 6] != '.')
        return fail(r, 400, "malformed HTTP version");
    char maj = buf[i + 5], min = buf[i + 7];
    if (maj < '0' || maj > '9' || min < '0' || min > '9')
        return fail(r, 400, "malformed HTTP version");
    if (maj != '1') return fail(r, 505, "only HTTP/1.0 and HTTP/1.1 are supported");
    r->minor = min - '0';
    r->keep_alive = r->minor >= 1;
    return 0;
}

/* Parses one header line buf[b..e) (without CRLF). */
static int parse_header(http_req *r, const char *buf, size_t b, size_t e) {
    if (buf[b] == ' ' || buf[b] == '\t')
        return fail(r, 400, "obsolete line folding in header");
    size_t i = b;
    while (i < e && is_tchar((unsigned char)buf[i])) i++;
    if (i == b || i >= e || buf[i] != ':')
        return fail(r, 400, "malformed header field name");
    size_t name_b = b, name_n = i - b;
    i++;
    while (i < e && (buf[i] == ' ' || buf[i] == '\t')) i++;
    size_t vb = i, ve = e;
    for (size_t k = vb; k < ve; k++) {
        unsigned char c = (unsigned char)buf[k];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return fail(r, 400, "control character in header value");
    }
    while (ve > vb && (buf[ve - 1] == ' ' || buf[ve - 1] == '\t')) ve--;
    const char *name = buf + name_b, *v = buf + vb;
    size_t vn = ve - vb;
    switch (lower((unsigned char)name[0])) {
    case 'c':
        if (ieq(name, name_n, "content-length")) {
            if (!vn || vn > 18) return fail(r, 400, "invalid Content-Length");
            long long n = 0;
            for (size_t k = 0; k < vn; k++) {
                if (v[k] < '0' || v[k] > '9') return fail(r, 400, "invalid Content-Length");
                n = n * 10 + (v[k] - '0');
            }
            if (r->content_length >= 0 && r->content_length != n)
                return fail(r, 400, "conflicting Content-Length headers");
            r->content_length = n;
        } else if (ieq(name, name_n, "connection")) {
            if (list_has(v, vn, "close")) r->keep_alive = 0;
            else if (list_has(v, vn, "keep-alive")) r->keep_alive = 1;
        } else if (ieq(name, name_n, "content-type")) {
            r->ctype_off = vb;
            r->ctype_len = vn;
        }
        break;
    case 't':
        if (ieq(name, name_n, "transfer-encoding")) {
            if (r->chunked) return fail(r, 400, "repeated Transfer-Encoding");
            if (!ieq(v, vn, "chunked"))
                return fail(r, 501, "only the chunked transfer coding is supported");
            r->chunked = 1;
        }
        break;
    case 'e':
        if (ieq(name, name_n, "expect") && ieq(v, vn, "100-continue")) r->expect_continue = 1;
        break;
    case 'a':
        if (ieq(name, name_n, "authorization")) {
            r->auth_off = vb;
            r->auth_len = vn;
        }
        break;
    default:
        break;
    }
    return 0;
}

/* After the blank line: decides how the body is framed. */
static int end_of_headers(http_req *r, const http_limits *lim) {
    if (r->chunked && r->content_length >= 0)
        return fail(r, 400, "both Content-Length and Transfer-Encoding");
    if (r->chunked && r->minor == 0)
        return fail(r, 400, "chunked transfer coding in an HTTP/1.0 request");
    r->headers_done = 1;
    r->body_off = r->scan;
    r->body_len = 0;
    if (r->chunked) {
        r->state = S_CHUNK_SIZE;
        r->line_start = r->scan;
        return 0;
    }
    if (r->content_length > 0 && (unsigned long long)r->content_length > lim->max_body)
        return fail(r, 413, "request body larger than the limit");
    r->state = S_BODY_CL;
    return 0;
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

int http_parse(http_req *r, char *buf, size_t len, const http_limits *lim) {
    for (;;) {
        switch (r->state) {
        case S_START:
            /* RFC 9112 2.2: ignore empty lines before the request line. */
            while (r->scan + 1 < len && buf[r->scan] == '\r' && buf[r->scan + 1] == '\n') {
                r->scan += 2;
                if (r->scan > lim->max_line) return fail(r, 400, "too many empty lines");
            }
            if (r->scan >= len || (buf[r->scan] == '\r' && r->scan + 1 >= len))
                return HTTP_AGAIN;
            r->line_start = r->scan;
            r->state = S_LINE;
            break;
        case S_LINE: {
            char *nl = memchr(buf + r->scan, '\n', len - r->scan);
            if (!nl) {
                r->scan = len;
                if (len - r->line_start > lim->max_line)
                    return fail(r, 414, "request line too long");
                return HTTP_AGAIN;
            }
            size_t e = (size_t)(nl - buf);
            if (e - r->line_start > lim->max_line) return fail(r, 414, "request line too long");
            if (e == r->line_start || buf[e - 1] != '\r')
                return fail(r, 400, "request line not terminated by CRLF");
            if (parse_request_line(r, buf, r->line_start, e - 1)) return HTTP_ERROR;
            r->scan = e + 1;
            r->line_start = r->scan;
            r->state = S_HEADERS;
            break;
        }
        case S_HEADERS: {
            char *nl = memchr(buf + r->scan, '\n', len - r->scan);
            if (!nl) {
                r->scan = len;
                if (len > lim->max_header_bytes)
                    return fail(r, 431, "request header section too large");
                return HTTP_AGAIN;
            }
            size_t e = (size_t)(nl - buf);
            if (e + 1 > lim->max_header_bytes)
                return fail(r, 431, "request header section too large");
            if (e == r->line_start || buf[e - 1] != '\r')
                return fail(r, 400, "header line not terminated by CRLF");
            r->scan = e + 1;
            if (e - 1 == r->line_start) {            /* the blank line */
                if (end_of_headers(r, lim)) return HTTP_ERROR;
                break;
            }
            if (++r->n_headers > lim->max_headers)
                return fail(r, 431, "too many header fields");
            if (parse_header(r, buf, r->line_start, e - 1)) return HTTP_ERROR;
            r->line_start = r->scan;
            break;
        }
        case S_BODY_CL: {
            size_t need = r->content_length > 0 ? (size_t)r->content_length : 0;
            if (len - r->body_off < need) {
                r->scan = len;
                return HTTP_AGAIN;
            }
            r->body_len = need;
            r->consumed = r->body_off + need;
            r->scan = r->consumed;
            r->state = S_DONE;
            return HTTP_DONE;
        }
        case S_CHUNK_SIZE: {
            char *nl = memchr(buf + r->scan, '\n', len - r->scan);
            if (!nl) {
                r->scan = len;
                if (len - r->line_start > MAX_CHUNK_LINE)
                    return fail(r, 400, "chunk size line too long");
                return HTTP_AGAIN;
            }
            size_t e = (size_t)(nl - buf);
            if (e - r->line_start > MAX_CHUNK_LINE) return fail(r, 400, "chunk size line too long");
            if (e == r->line_start || buf[e - 1] != '\r')
                return fail(r, 400, "chunk size line not terminated by CRLF");
            size_t i = r->line_start, end = e - 1, size = 0, nd = 0;
            int h;
            while (i < end && (h = hexval((unsigned char)buf[i])) >= 0) {
                if (++nd > 15) return fail(r, 413, "chunk larger than the limit");
                size = size * 16 + (size_t)h;
                i++;
            }
            if (!nd) return fail(r, 400, "malformed chunk size");
            while (i < end && (buf[i] == ' ' || buf[i] == '\t')) i++;
            if (i < end && buf[i] != ';') return fail(r, 400, "malformed chunk size");
            for (; i < end; i++) {
                unsigned char c = (unsigned char)buf[i];
                if ((c < 0x20 && c != '\t') || c == 0x7f)
                    return fail(r, 400, "control character in chunk extension");
            }
            r->scan = e + 1;
            if (size == 0) {
                r->state = S_TRAILER;
                r->line_start = r->scan;
                break;
            }
            if (size > lim->max_body || r->body_len + size > lim->max_body)
                return fail(r, 413, "request body larger than the limit");
            r->chunk_left = size;
            r->state = S_CHUNK_DATA;
            break;
        }
        case S_CHUNK_DATA: {
            size_t n = len - r->scan < r->chunk_left ? len - r->scan : r->chunk_left;
            if (n) {
                memmove(buf + r->body_off + r->body_len, buf + r->scan, n);
                r->body_len += n;
                r->scan += n;
                r->chunk_left -= n;
            }
            if (r->chunk_left) return HTTP_AGAIN;
            r->state = S_CHUNK_CRLF;
            break;
        }
        case S_CHUNK_CRLF:
            if (len - r->scan < 2) return HTTP_AGAIN;
            if (buf[r->scan] != '\r' || buf[r->scan + 1] != '\n')
                return fail(r, 400, "chunk data not followed by CRLF");
            r->scan += 2;
            r->line_start = r->scan;
            r->state = S_CHUNK_SIZE;
            break;
        case S_TRAILER: {
            char *nl = memchr(buf + r->scan, '\n', len - r->scan);
            if (!nl) {
                r->trailer_bytes += len - r->scan;
                r->scan = len;
                if (r->trailer_bytes > lim->max_header_bytes)
                    return fail(r, 431, "chunked trailer too large");
                return HTTP_AGAIN;
            }
            size_t e = (size_t)(nl - buf);
            r->trailer_bytes += e + 1 - r->scan;
            if (r->trailer_bytes > lim->max_header_bytes)
                return fail(r, 431, "chunked trailer too large");
            if (e == r->line_start || buf[e - 1] != '\r')
                return fail(r, 400, "trailer line not terminated by CRLF");
            r->scan = e + 1;
            if (e - 1 == r->line_start) {            /* end of trailers */
                r->consumed = r->scan;
                r->state = S_DONE;
                return HTTP_DONE;
            }
            if (buf[r->line_start] == ' ' || buf[r->line_start] == '\t')
                return fail(r, 400, "obsolete line folding in trailer");
            r->line_start = r->scan;
            break;
        }
        case S_DONE:
            return HTTP_DONE;
        default:
            return fail(r, 500, "parser in an impossible state");
        }
    }
}

void http_compact(http_req *r, char *buf, size_t *len) {
    int in_line = r->state == S_CHUNK_SIZE || r->state == S_TRAILER;
    if (!in_line && r->state != S_CHUNK_DATA && r->state != S_CHUNK_CRLF) return;
    /* Keep the partly scanned line (chunk size or trailer) if we are inside one. */
    size_t end = r->body_off + r->body_len, src = in_line ? r->line_start : r->scan;
    if (src <= end) return;
    size_t gap = src - end;
    memmove(buf + end, buf + src, *len - src);
    *len -= gap;
    r->scan -= gap;
    if (in_line) r->line_start -= gap;
}

const char *http_reason(int status) {
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}
