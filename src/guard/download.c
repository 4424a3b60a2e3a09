/*
** download.c -- resumable, verified model downloads over HTTP(S) with libcurl
** (parapet_download in parapet.h; `parapet model pull` is its front end).
**
** A guard model is one to five gigabytes, fetched over connections that drop.  The
** bytes go to PATH.part; a later call resumes from the part's end with a Range
** request, hashing the bytes already there first, so the SHA-256 always covers the
** whole file without reading it twice.  Only a complete file whose size and digest
** match is renamed to PATH (rename is atomic within a directory), so PATH never holds
** a partial or unverified model.  A server that answers a Range request with the
** whole file (200 instead of 206; curl reports CURLE_RANGE_ERROR) is handled by
** fetching the file again from the start; a 416 for a part that is already complete
** is taken as "nothing left to fetch".
**
** Thread-safety: curl_global_init runs once (pthread_once); each call has its own
** easy handle, so concurrent downloads of different files are fine.
*/
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <curl/curl.h>
#include "core/core.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;
static void curl_init(void) { curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }

typedef struct dl {
    FILE *f;
    CURL *curl;
    pp_sha256 sha;
    uint64_t have;        /* bytes in the part file (resumed + received) */
    uint64_t start;       /* bytes the part had when this call started */
    int checked;          /* the status code was looked at (first write) */
    int io_error;
    parapet_download_progress_fn progress;
    void *user;
} dl;

/* Hashes the first n bytes of f (the part from an earlier attempt).  0 on success. */
static int hash_existing(FILE *f, uint64_t n, pp_sha256 *sha) {
    unsigned char buf[1 << 16];
    if (fseek(f, 0, SEEK_SET)) return -1;
    while (n > 0) {
        size_t want = n < sizeof buf ? (size_t)n : sizeof buf;
        size_t got = fread(buf, 1, want, f);
        if (got != want) return -1;
        pp_sha256_update(sha, buf, got);
        n -= got;
    }
    return fseek(f, 0, SEEK_END);
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud) {
    dl *d = ud;
    size_t n = size * nmemb;
    if (!d->checked) {
        d->checked = 1;
        long code = 0;
        curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE, &code);
        if (d->start > 0 && code == 200) {
            /* the server ignored Range: the body is the whole file, start over */
            if (ftruncate(fileno(d->f), 0) || fseek(d->f, 0, SEEK_SET)) { d->io_error = errno; return 0; }
            pp_sha256_init(&d->sha);
            d->have = d->start = 0;
        }
    }
    if (fwrite(p, 1, n, d->f) != n) { d->io_error = errno ? errno : EIO; return 0; }
    pp_sha256_update(&d->sha, p, n);
    d->have += n;
    return n;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ut, curl_off_t un) {
    dl *d = ud;
    if (!d->progress) return 0;
    uint64_t total = dltotal > 0 ? d->start + (uint64_t)dltotal : 0;
    return d->progress(d->user, d->start + (uint64_t)(dlnow > 0 ? dlnow : 0), total);
}

static pp_status fail(char **detail, pp_status st, char *msg) {
    if (detail) *detail = msg;
    else pp_free(msg);
    return st;
}

static int is_hex64(const char *s) {
    if (strlen(s) != 64) return 0;
    for (int i = 0; i < 64; i++)
        if (!strchr("0123456789abcdefABCDEF", s[i])) return 0;
    return 1;
}

static int hex_eq(const char *a, const char *b) {
    for (int i = 0; i < 64; i++) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'F') x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'F') y = (char)(y - 'A' + 'a');
        if (x != y) return 0;
    }
    return 1;
}

parapet_status parapet_download(const char *url, const char *path, const char *sha256,
                                 uint64_t size, parapet_download_progress_fn progress, void *user,
                                 char sha256_out[65], char **detail) {
    if (detail) *detail = NULL;
    if (!url || !path || !*path || (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)))
        return fail(detail, PARAPET_ERR_ARG, pp_strdup("the URL must start with http:// or https://"));
    if (sha256 && !is_hex64(sha256))
        return fail(detail, PARAPET_ERR_ARG, pp_strdup("sha256 must be 64 hex digits"));
    pthread_once(&curl_once, curl_init);
    if (!curl_ok) return fail(detail, PARAPET_ERR_INTERNAL, pp_strdup("curl_global_init failed"));

    char *part = pp_asprintf("%s.part", path);
    if (!part) return PARAPET_ERR_NOMEM;
    dl d;
    memset(&d, 0, sizeof d);
    d.progress = progress;
    d.user = user;
    pp_sha256_init(&d.sha);
    pp_status st = PARAPET_OK;
    char *msg = NULL;

    d.f = fopen(part, "a+b");
    if (!d.f) {
        msg = pp_asprintf("%s: %s", part, strerror(errno));
        st = PARAPET_ERR_IO;
        goto out;
    }
    struct stat sb;
    if (fstat(fileno(d.f), &sb)) { msg = pp_asprintf("%s: %s", part, strerror(errno)); st = PARAPET_ERR_IO; goto out; }
    d.have = d.start = (uint64_t)sb.st_size;
    if (size && d.have > size) { /* longer than the file can be: start over */
        if (ftruncate(fileno(d.f), 0)) { msg = pp_asprintf("%s: %s", part, strerror(errno)); st = PARAPET_ERR_IO; goto out; }
        d.have = d.start = 0;
    }
    if (d.have && hash_existing(d.f, d.have, &d.sha)) {
        msg = pp_asprintf("%s: cannot read the partial download", part);
        st = PARAPET_ERR_IO;
        goto out;
    }

    long code = 0;
    int complete = size && d.have == size; /* nothing left to fetch */
    if (!complete) {
        d.curl = curl_easy_init();
        if (!d.curl) { st = PARAPET_ERR_NOMEM; goto out; }
        char errbuf[CURL_ERROR_SIZE] = "";
        curl_easy_setopt(d.curl, CURLOPT_URL, url);
        curl_easy_setopt(d.curl, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(d.curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(d.curl, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(d.curl, CURLOPT_MAXREDIRS, 10L);
        curl_easy_setopt(d.curl, CURLOPT_FAILONERROR, 1L);
        curl_easy_setopt(d.curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(d.curl, CURLOPT_CONNECTTIMEOUT, 30L);
        curl_easy_setopt(d.curl, CURLOPT_LOW_SPEED_LIMIT, 1L);   /* a stalled server: */
        curl_easy_setopt(d.curl, CURLOPT_LOW_SPEED_TIME, 60L);   /* give up after 60 s */
        curl_easy_setopt(d.curl, CURLOPT_USERAGENT, "parapet/" PARAPET_VERSION_STRING);
        curl_easy_setopt(d.curl, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(d.curl, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(d.curl, CURLOPT_WRITEDATA, &d);
        curl_easy_setopt(d.curl, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(d.curl, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(d.curl, CURLOPT_XFERINFODATA, &d);
        if (d.start) curl_easy_setopt(d.curl, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)d.start);
        CURLcode rc = curl_easy_perform(d.curl);
        if (rc == CURLE_RANGE_ERROR && d.start > 0) {
            /* the server cannot resume (it answered the Range with the whole file,
            ** which curl refuses): fetch everything once more from the start */
            if (ftruncate(fileno(d.f), 0) || fseek(d.f, 0, SEEK_SET)) {
                msg = pp_asprintf("%s: %s", part, strerror(errno));
                st = PARAPET_ERR_IO;
                goto out;
            }
            pp_sha256_init(&d.sha);
            d.have = d.start = 0;
            d.checked = 0;
            curl_easy_setopt(d.curl, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)0);
            rc = curl_easy_perform(d.curl);
        }
        curl_easy_getinfo(d.curl, CURLINFO_RESPONSE_CODE, &code);
        if (rc == CURLE_HTTP_RETURNED_ERROR && code == 416 && d.start > 0) {
            complete = 1; /* the part already holds the whole file */
        } else if (rc != CURLE_OK) {
            if (code == 404 || code == 410) {
                st = PARAPET_ERR_NOT_FOUND;
                msg = pp_asprintf("%s: HTTP %ld", url, code);
            } else if (d.io_error) {
                st = PARAPET_ERR_IO;
                msg = pp_asprintf("%s: %s", part, strerror(d.io_error));
            } else if (rc == CURLE_ABORTED_BY_CALLBACK) {
                st = PARAPET_ERR_IO;
                msg = pp_asprintf("download stopped after %llu bytes; run again to resume",
                                  (unsigned long long)d.have);
            } else {
                st = PARAPET_ERR_IO;
                msg = pp_asprintf("%s: %s%s%s (HTTP %ld) after %llu bytes; run again to resume",
                                  url, curl_easy_strerror(rc), *errbuf ? ": " : "", errbuf,
                                  code, (unsigned long long)d.have);
            }
            goto out;
        }
    }
    if (fflush(d.f) || fsync(fileno(d.f))) {
        msg = pp_asprintf("%s: %s", part, strerror(errno));
        st = PARAPET_ERR_IO;
        goto out;
    }
    char got[65];
    pp_sha256_final_hex(&d.sha, got);
    if (sha256_out) memcpy(sha256_out, got, 65);
    if ((size && d.have != size) || (sha256 && !hex_eq(got, sha256))) {
        if (size && d.have != size)
            msg = pp_asprintf("%s: size %llu, expected %llu; the download was discarded", url,
                              (unsigned long long)d.have, (unsigned long long)size);
        else
            msg = pp_asprintf("%s: sha256 %s, expected %s; the download was discarded", url, got,
                              sha256);
        fclose(d.f);
        d.f = NULL;
        unlink(part);
        st = PARAPET_ERR_FORMAT;
        goto out;
    }
    fclose(d.f);
    d.f = NULL;
    if (rename(part, path)) {
        msg = pp_asprintf("rename %s -> %s: %s", part, path, strerror(errno));
        st = PARAPET_ERR_IO;
    }
out:
    if (d.f) fclose(d.f);
    if (d.curl) curl_easy_cleanup(d.curl);
    pp_free(part);
    if (st && msg) return fail(detail, st, msg);
    pp_free(msg);
    return st;
}
