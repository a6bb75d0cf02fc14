/* bailiff_frame.c - see bailiff_frame.h and docs/FIRMWARE-PROTOCOL.md. */
#include "bailiff_frame.h"

#include <string.h>

uint16_t bf_crc16_update(uint16_t crc, const uint8_t *p, size_t n)
{
    size_t i;
    int b;
    for (i = 0; i < n; i++) {
        crc ^= (uint16_t)((uint16_t)p[i] << 8);
        for (b = 0; b < 8; b++) {
            crc = (crc & 0x8000u) ? (uint16_t)((crc << 1) ^ 0x1021u) : (uint16_t)(crc << 1);
        }
    }
    return crc;
}

uint16_t bf_crc16(const uint8_t *p, size_t n) { return bf_crc16_update(0xFFFFu, p, n); }

size_t bf_cobs_encode(const uint8_t *src, size_t n, uint8_t *dst, size_t cap)
{
    size_t out = 1, code_at = 0, i;
    uint8_t code = 1;
    if (cap < 1) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (src[i] == 0) {
            dst[code_at] = code;
            if (out >= cap) {
                return 0;
            }
            code_at = out++;
            code = 1;
            continue;
        }
        if (out >= cap) {
            return 0;
        }
        dst[out++] = src[i];
        code++;
        if (code == 0xFF && i != n - 1) {
            dst[code_at] = code;
            if (out >= cap) {
                return 0;
            }
            code_at = out++;
            code = 1;
        }
    }
    dst[code_at] = code;
    return out;
}

int bf_cobs_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t cap, size_t *out_len)
{
    size_t i = 0, out = 0, j, k;
    while (i < n) {
        uint8_t code = src[i++];
        if (code == 0) {
            return BF_ERR_GARBLED;
        }
        k = (size_t)code - 1u;
        if (k > n - i) {
            return BF_ERR_GARBLED;
        }
        if (out + k > cap) {
            return BF_ERR_OVERSIZED;
        }
        for (j = 0; j < k; j++) {
            uint8_t c = src[i++];
            if (c == 0) {
                return BF_ERR_GARBLED;
            }
            dst[out++] = c; /* out <= i - 1 always, so in place is safe */
        }
        if (code != 0xFF && i < n) {
            if (out >= cap) {
                return BF_ERR_OVERSIZED;
            }
            dst[out++] = 0;
        }
    }
    *out_len = out;
    return BF_OK;
}

/* ---- writing ---- */

typedef struct {
    uint8_t *p;
    size_t cap, len;
    int err;
} wbuf;

static void put8(wbuf *w, uint8_t v)
{
    if (w->len >= w->cap) {
        w->err = BF_ERR_SPACE;
        return;
    }
    w->p[w->len++] = v;
}

static void put16(wbuf *w, uint16_t v)
{
    put8(w, (uint8_t)(v & 0xFFu));
    put8(w, (uint8_t)(v >> 8));
}

static void put32(wbuf *w, uint32_t v)
{
    put16(w, (uint16_t)(v & 0xFFFFu));
    put16(w, (uint16_t)(v >> 16));
}

static void putbytes(wbuf *w, const uint8_t *b, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        put8(w, b[i]);
    }
}

static void putversion(wbuf *w, const bf_version *v)
{
    put16(w, v->major);
    put16(w, v->minor);
    put16(w, v->patch);
}

static int valid_device_type(const char *s, size_t n)
{
    size_t i;
    if (n == 0) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            return 0;
        }
    }
    return 1;
}

static int valid_serial(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if ((uint8_t)s[i] < 0x21u || (uint8_t)s[i] > 0x7Eu) {
            return 0;
        }
    }
    return 1;
}

static size_t bounded_strlen(const char *s, size_t max)
{
    size_t n = 0;
    while (n <= max && s[n] != '\0') {
        n++;
    }
    return n;
}

static int putstr(wbuf *w, const char *s, int (*ok)(const char *, size_t))
{
    size_t n = bounded_strlen(s, BF_MAX_STRING);
    if (n > BF_MAX_STRING || !ok(s, n)) {
        return BF_ERR_INVALID;
    }
    put8(w, (uint8_t)n);
    putbytes(w, (const uint8_t *)s, n);
    return BF_OK;
}

static int putfields(wbuf *w, const bf_fields *f)
{
    uint8_t i;
    if (f->n > BF_MAX_FIELDS) {
        return BF_ERR_INVALID;
    }
    put8(w, f->n);
    for (i = 0; i < f->n; i++) {
        put8(w, f->f[i].key);
        put32(w, (uint32_t)f->f[i].value);
    }
    return BF_OK;
}

int bf_pack(const bf_msg *m, uint8_t *raw, size_t cap, size_t *len)
{
    wbuf w;
    int err = BF_OK;
    uint16_t crc;
    w.p = raw;
    w.cap = cap < BF_MAX_FRAME ? cap : BF_MAX_FRAME;
    w.len = 0;
    w.err = BF_OK;
    put8(&w, m->type);
    switch (m->type) {
    case BF_HELLO:
        if ((m->u.hello.proto != 0 && m->u.hello.proto != BF_PROTO_VERSION) || m->u.hello.max_frame < 16u ||
            m->u.hello.max_frame > BF_MAX_FRAME) {
            return BF_ERR_INVALID;
        }
        put8(&w, BF_PROTO_VERSION);
        put8(&w, m->u.hello.flags);
        put32(&w, m->u.hello.caps);
        put16(&w, m->u.hello.max_frame);
        putversion(&w, &m->u.hello.version);
        err = putstr(&w, m->u.hello.device_type, valid_device_type);
        if (err == BF_OK) {
            err = putstr(&w, m->u.hello.serial, valid_serial);
        }
        break;
    case BF_HELLO_REQUEST:
    case BF_UPDATE_VERIFY:
    case BF_UPDATE_REBOOT:
    case BF_UPDATE_CONFIRM:
        break;
    case BF_PING:
    case BF_PONG:
        put32(&w, m->u.ping.nonce);
        break;
    case BF_STATE:
        err = putfields(&w, &m->u.state.fields);
        break;
    case BF_EVENT:
        put8(&w, m->u.event.code);
        err = putfields(&w, &m->u.event.fields);
        break;
    case BF_COMMAND:
        put16(&w, m->u.command.id);
        put8(&w, m->u.command.action);
        err = putfields(&w, &m->u.command.fields);
        break;
    case BF_ACK:
        put16(&w, m->u.ack.id);
        put8(&w, m->u.ack.status);
        err = putfields(&w, &m->u.ack.fields);
        break;
    case BF_UPDATE_BEGIN:
        if (m->u.update_begin.chunk_size == 0 || m->u.update_begin.chunk_size > BF_MAX_CHUNK) {
            return BF_ERR_INVALID;
        }
        put32(&w, m->u.update_begin.size);
        putversion(&w, &m->u.update_begin.version);
        put16(&w, m->u.update_begin.chunk_size);
        put8(&w, m->u.update_begin.flags);
        putbytes(&w, m->u.update_begin.sha256, 32);
        putbytes(&w, m->u.update_begin.signature, 64);
        err = putstr(&w, m->u.update_begin.device_type, valid_device_type);
        break;
    case BF_UPDATE_CHUNK:
        if (m->u.update_chunk.len == 0 || m->u.update_chunk.len > BF_MAX_CHUNK) {
            return BF_ERR_INVALID;
        }
        put32(&w, m->u.update_chunk.offset);
        putbytes(&w, m->u.update_chunk.data, m->u.update_chunk.len);
        break;
    case BF_UPDATE_CHUNK_ACK:
        put32(&w, m->u.update_chunk_ack.next);
        put8(&w, m->u.update_chunk_ack.status);
        break;
    case BF_UPDATE_STATUS:
        put8(&w, m->u.update_status.phase);
        put8(&w, m->u.update_status.reason);
        put32(&w, m->u.update_status.offset);
        putversion(&w, &m->u.update_status.version);
        break;
    case BF_UPDATE_ABORT:
        put8(&w, m->u.update_abort.reason);
        break;
    default:
        return BF_ERR_INVALID;
    }
    if (err != BF_OK) {
        return err;
    }
    crc = bf_crc16(raw, w.len < w.cap ? w.len : w.cap);
    put16(&w, crc);
    if (w.err != BF_OK) {
        return w.len >= BF_MAX_FRAME ? BF_ERR_INVALID : w.err;
    }
    *len = w.len;
    return BF_OK;
}

/* ---- reading ---- */

typedef struct {
    const uint8_t *p;
    size_t len;
    int err;
} rbuf;

static const uint8_t zeros[8];

static const uint8_t *take(rbuf *r, size_t n)
{
    const uint8_t *p;
    if (r->err != BF_OK || r->len < n) {
        if (r->err == BF_OK) {
            r->err = BF_ERR_PAYLOAD;
        }
        return zeros; /* n <= 8 for every caller of take that reads the result */
    }
    p = r->p;
    r->p += n;
    r->len -= n;
    return p;
}

static uint8_t get8(rbuf *r) { return take(r, 1)[0]; }

static uint16_t get16(rbuf *r)
{
    const uint8_t *p = take(r, 2);
    return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static uint32_t get32(rbuf *r)
{
    const uint8_t *p = take(r, 4);
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void getversion(rbuf *r, bf_version *v)
{
    v->major = get16(r);
    v->minor = get16(r);
    v->patch = get16(r);
}

static void getbytes(rbuf *r, uint8_t *dst, size_t n)
{
    if (r->err != BF_OK || r->len < n) {
        r->err = r->err != BF_OK ? r->err : BF_ERR_PAYLOAD;
        return;
    }
    memcpy(dst, r->p, n);
    r->p += n;
    r->len -= n;
}

static void getstr(rbuf *r, char *dst, int (*ok)(const char *, size_t))
{
    size_t n = get8(r);
    dst[0] = '\0';
    if (r->err != BF_OK) {
        return;
    }
    if (n > BF_MAX_STRING || r->len < n || !ok((const char *)r->p, n)) {
        r->err = BF_ERR_PAYLOAD;
        return;
    }
    memcpy(dst, r->p, n);
    dst[n] = '\0';
    r->p += n;
    r->len -= n;
}

static void getfields(rbuf *r, bf_fields *f)
{
    uint8_t i, n = get8(r);
    f->n = 0;
    if (r->err != BF_OK) {
        return;
    }
    if (n > BF_MAX_FIELDS || r->len < (size_t)n * 5u) {
        r->err = BF_ERR_PAYLOAD;
        return;
    }
    for (i = 0; i < n; i++) {
        f->f[i].key = get8(r);
        f->f[i].value = (int32_t)get32(r);
    }
    f->n = n;
}

int bf_unpack(const uint8_t *raw, size_t len, bf_msg *m)
{
    rbuf r;
    uint16_t crc;
    if (len > BF_MAX_FRAME) {
        return BF_ERR_OVERSIZED;
    }
    if (len < 3) {
        return BF_ERR_SHORT;
    }
    crc = (uint16_t)(raw[len - 2] | (uint16_t)raw[len - 1] << 8);
    if (crc != bf_crc16(raw, len - 2)) {
        return BF_ERR_CRC;
    }
    memset(m, 0, sizeof *m);
    m->type = raw[0];
    r.p = raw + 1;
    r.len = len - 3;
    r.err = BF_OK;
    switch (m->type) {
    case BF_HELLO:
        m->u.hello.proto = get8(&r);
        if (r.err == BF_OK && m->u.hello.proto != BF_PROTO_VERSION) {
            return BF_ERR_VERSION;
        }
        m->u.hello.flags = get8(&r);
        m->u.hello.caps = get32(&r);
        m->u.hello.max_frame = get16(&r);
        if (r.err == BF_OK && (m->u.hello.max_frame < 16u || m->u.hello.max_frame > BF_MAX_FRAME)) {
            r.err = BF_ERR_PAYLOAD;
        }
        getversion(&r, &m->u.hello.version);
        getstr(&r, m->u.hello.device_type, valid_device_type);
        getstr(&r, m->u.hello.serial, valid_serial);
        break;
    case BF_HELLO_REQUEST:
    case BF_UPDATE_VERIFY:
    case BF_UPDATE_REBOOT:
    case BF_UPDATE_CONFIRM:
        break;
    case BF_PING:
    case BF_PONG:
        m->u.ping.nonce = get32(&r);
        break;
    case BF_STATE:
        getfields(&r, &m->u.state.fields);
        break;
    case BF_EVENT:
        m->u.event.code = get8(&r);
        getfields(&r, &m->u.event.fields);
        break;
    case BF_COMMAND:
        m->u.command.id = get16(&r);
        m->u.command.action = get8(&r);
        getfields(&r, &m->u.command.fields);
        break;
    case BF_ACK:
        m->u.ack.id = get16(&r);
        m->u.ack.status = get8(&r);
        getfields(&r, &m->u.ack.fields);
        break;
    case BF_UPDATE_BEGIN:
        m->u.update_begin.size = get32(&r);
        getversion(&r, &m->u.update_begin.version);
        m->u.update_begin.chunk_size = get16(&r);
        if (r.err == BF_OK && (m->u.update_begin.chunk_size == 0 || m->u.update_begin.chunk_size > BF_MAX_CHUNK)) {
            r.err = BF_ERR_PAYLOAD;
        }
        m->u.update_begin.flags = get8(&r);
        getbytes(&r, m->u.update_begin.sha256, 32);
        getbytes(&r, m->u.update_begin.signature, 64);
        getstr(&r, m->u.update_begin.device_type, valid_device_type);
        break;
    case BF_UPDATE_CHUNK:
        m->u.update_chunk.offset = get32(&r);
        if (r.err == BF_OK && r.len == 0) {
            r.err = BF_ERR_PAYLOAD;
        }
        m->u.update_chunk.len = (uint16_t)r.len;
        m->u.update_chunk.data = r.p;
        r.p += r.len;
        r.len = 0;
        break;
    case BF_UPDATE_CHUNK_ACK:
        m->u.update_chunk_ack.next = get32(&r);
        m->u.update_chunk_ack.status = get8(&r);
        break;
    case BF_UPDATE_STATUS:
        m->u.update_status.phase = get8(&r);
        m->u.update_status.reason = get8(&r);
        m->u.update_status.offset = get32(&r);
        getversion(&r, &m->u.update_status.version);
        break;
    case BF_UPDATE_ABORT:
        m->u.update_abort.reason = get8(&r);
        break;
    default:
        return BF_ERR_UNKNOWN_TYPE;
    }
    if (r.err == BF_OK && r.len != 0) {
        r.err = BF_ERR_PAYLOAD; /* trailing bytes */
    }
    return r.err;
}

int bf_encode(const bf_msg *m, uint8_t *out, size_t cap, size_t *len)
{
    uint8_t raw[BF_MAX_FRAME];
    size_t n = 0, e;
    int err = bf_pack(m, raw, sizeof raw, &n);
    if (err != BF_OK) {
        return err;
    }
    e = bf_cobs_encode(raw, n, out, cap);
    if (e == 0 || e >= cap) {
        return BF_ERR_SPACE;
    }
    out[e] = 0;
    *len = e + 1;
    return BF_OK;
}

int bf_decode(uint8_t *buf, size_t n, bf_msg *m)
{
    size_t raw_len = 0;
    int err;
    if (n > BF_MAX_ENCODED) {
        return BF_ERR_OVERSIZED;
    }
    err = bf_cobs_decode(buf, n, buf, n, &raw_len);
    if (err != BF_OK) {
        return err;
    }
    return bf_unpack(buf, raw_len, m);
}

/* ---- stream ---- */

void bf_rx_init(bf_rx *rx) { memset(rx, 0, sizeof *rx); }

static void rx_count(bf_rx *rx, int err)
{
    switch (err) {
    case BF_ERR_GARBLED: rx->garbled++; break;
    case BF_ERR_SHORT: rx->short_++; break;
    case BF_ERR_OVERSIZED: rx->oversized++; break;
    case BF_ERR_CRC: rx->bad_crc++; break;
    case BF_ERR_UNKNOWN_TYPE: rx->unknown++; break;
    default: rx->malformed++; break;
    }
}

int bf_rx_byte(bf_rx *rx, uint8_t c, bf_msg *m)
{
    int err;
    size_t n;
    if (c != 0) {
        if (rx->skip) {
            return 0;
        }
        if (rx->len == sizeof rx->buf) {
            rx->skip = 1;
            rx->len = 0;
            rx_count(rx, BF_ERR_OVERSIZED);
            return 0;
        }
        rx->buf[rx->len++] = c;
        return 0;
    }
    if (rx->skip) {
        rx->skip = 0;
        return 0;
    }
    if (rx->len == 0) {
        return 0; /* idle fill */
    }
    n = rx->len;
    rx->len = 0;
    err = bf_decode(rx->buf, n, m);
    if (err != BF_OK) {
        rx_count(rx, err);
        return 0;
    }
    rx->frames++;
    return 1;
}

uint32_t bf_rx_dropped(const bf_rx *rx)
{
    return rx->garbled + rx->short_ + rx->oversized + rx->bad_crc + rx->unknown + rx->malformed;
}
