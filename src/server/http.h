/*
** http.h -- the HTTP/1.1 request parser of `parapet serve`.
**
** Incremental and strict: the server appends whatever bytes arrive to one buffer per
** connection and calls http_parse() again; the parser remembers how far it got, so a
** request that trickles in a byte at a time costs linear work, not quadratic.  It
** never allocates and never reads past `len`.  Everything it reports is an offset into
** the caller's buffer (the buffer may be moved by realloc between calls).
**
** What it accepts: "METHOD /target HTTP/1.x" (1.0 and 1.1), header fields with token
** names, bodies framed by Content-Length or by chunked transfer coding (decoded in
** place: the decoded body is written over the chunk framing, so it is contiguous in
** the buffer), optional CRLFs before a request line.  What it refuses, with the status
** to answer: a request line over max_line (414), a header section over
** max_header_bytes or with more than max_headers fields (431), a body over max_body
** (413), any other transfer coding (501), an HTTP version other than 1.x (505), and
** with 400 everything malformed: bare LF, obs-fold, whitespace before a colon, control
** characters, a Content-Length that is not a number or disagrees with another, both
** Content-Length and Transfer-Encoding (the request-smuggling case).
**
** Pipelining: when a request is complete, `consumed` says how many buffer bytes it
** used; the bytes after it are the next request's.
*/
#ifndef PP_SERVER_HTTP_H
#define PP_SERVER_HTTP_H

#include <stddef.h>
#include <stdint.h>

typedef struct http_limits {
    size_t max_line;         /* request line, bytes (default 8 KiB) */
    size_t max_header_bytes; /* request line + header fields, bytes (default 16 KiB) */
    size_t max_headers;      /* header fields (default 64) */
    size_t max_body;         /* decoded body, bytes (default 1 MiB) */
} http_limits;

void http_limits_default(http_limits *l);

enum { HTTP_AGAIN = 0, HTTP_DONE = 1, HTTP_ERROR = -1 };

enum http_method { HTTP_OTHER = 0, HTTP_GET, HTTP_HEAD, HTTP_POST, HTTP_PUT, HTTP_DELETE,
                   HTTP_OPTIONS, HTTP_PATCH };

typedef struct http_req {
    /* ---- parser state (private) ---- */
    int state;
    size_t scan;          /* bytes of the buffer examined so far */
    size_t line_start;    /* start of the header line being scanned */
    size_t chunk_left;    /* chunked: data bytes left in the current chunk */
    size_t trailer_bytes; /* chunked: bytes of trailer / extension seen */
    /* ---- results (offsets into the buffer) ---- */
    int headers_done;     /* the header section is complete and valid */
    int method;           /* enum http_method */
    size_t method_off, method_len;
    size_t path_off, path_len;   /* the target up to '?' */
    size_t query_off, query_len; /* after '?', 0 length if none */
    int minor;            /* HTTP/1.minor */
    size_t n_headers;
    long long content_length;    /* -1: none */
    int chunked;
    int keep_alive;       /* 1.1 default yes, 1.0 default no, Connection: overrides */
    int expect_continue;  /* Expect: 100-continue */
    size_t auth_off, auth_len;   /* Authorization value, 0 length if none */
    size_t ctype_off, ctype_len; /* Content-Type value */
    size_t body_off, body_len;   /* the (decoded) body */
    size_t consumed;      /* on HTTP_DONE: bytes of the buffer this request used */
    /* ---- on HTTP_ERROR ---- */
    int status;           /* the status to answer: 400, 413, 414, 431, 501, 505 */
    const char *error;    /* static message naming the problem */
} http_req;

/* Resets a parser for a new request (at the start of the buffer). */
void http_req_init(http_req *r);

/* Parses buf[0..len), continuing from where the last call on `r` stopped.  buf must
** hold the same bytes as before plus any appended ones; for a chunked body the parser
** rewrites bytes it has already scanned (the in-place decode), so only the parser may
** modify buf[0..r->scan).  Returns HTTP_DONE (request complete; fields filled),
** HTTP_AGAIN (need more bytes) or HTTP_ERROR (r->status and r->error set; the
** connection cannot be reused since framing is lost). */
int http_parse(http_req *r, char *buf, size_t len, const http_limits *lim);

/* While a chunked body is being received, moves the unparsed bytes buf[scan..*len)
** down over the chunk framing already decoded away, so a body sent in tiny chunks
** pins no more buffer than its decoded size plus one chunk line.  Updates *len.
** A no-op in any other state. */
void http_compact(http_req *r, char *buf, size_t *len);

/* The reason phrase of a status code ("OK", "Bad Request", ...); static storage. */
const char *http_reason(int status);

#endif
