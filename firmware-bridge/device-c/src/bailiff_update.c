/*
 * bailiff_update.c - see bailiff_update.h.
 */
#include "bailiff_update.h"

#include <string.h>

static const char domain[] = "bailiff-fw-v1";

static int vcmp(const bf_version *a, const bf_version *b)
{
    if (a->major != b->major) {
        return a->major < b->major ? -1 : 1;
    }
    if (a->minor != b->minor) {
        return a->minor < b->minor ? -1 : 1;
    }
    if (a->patch != b->patch) {
        return a->patch < b->patch ? -1 : 1;
    }
    return 0;
}

size_t bu_manifest(const char *device_type, const bf_version *v, uint32_t size, const uint8_t sha256[32], uint8_t *out,
                   size_t cap)
{
    size_t tl = strlen(device_type), n = 0;
    const uint16_t ver[3] = {v->major, v->minor, v->patch};
    int i;
    if (tl > BF_MAX_STRING || cap < sizeof domain - 1 + 1 + tl + 6 + 4 + 32) {
        return 0;
    }
    memcpy(out, domain, sizeof domain - 1);
    n = sizeof domain - 1;
    out[n++] = (uint8_t)tl;
    memcpy(out + n, device_type, tl);
    n += tl;
    for (i = 0; i < 3; i++) {
        out[n++] = (uint8_t)(ver[i] & 0xFF);
        out[n++] = (uint8_t)(ver[i] >> 8);
    }
    for (i = 0; i < 4; i++) {
        out[n++] = (uint8_t)(size >> (8 * i));
    }
    memcpy(out + n, sha256, 32);
    return n + 32;
}

void bu_init(bu_state *s, const bu_platform *p, int boot)
{
    memset(s, 0, sizeof *s);
    s->p = *p;
    s->phase = BU_IDLE;
    if (boot == BU_BOOT_PENDING) {
        s->phase = BU_PENDING;
        s->hello_flags = BF_HELLO_PENDING;
        s->version = p->running;
    } else if (boot == BU_BOOT_ROLLED_BACK) {
        s->phase = BU_ROLLED_BACK;
        s->hello_flags = BF_HELLO_ROLLED_BACK;
    }
}

uint8_t bu_hello_flags(const bu_state *s) { return s->hello_flags; }

static void status(const bu_state *s, bf_msg *out, uint8_t phase, uint8_t reason)
{
    memset(out, 0, sizeof *out);
    out->type = BF_UPDATE_STATUS;
    out->u.update_status.phase = phase;
    out->u.update_status.reason = reason;
    out->u.update_status.offset = s->held;
    out->u.update_status.version = s->version;
}

static void fail(bu_state *s, bf_msg *out, uint8_t reason)
{
    s->phase = BU_FAILED;
    status(s, out, BU_FAILED, reason);
    s->held = 0;
}

static void chunk_ack(bf_msg *out, uint32_t next, uint8_t st)
{
    memset(out, 0, sizeof *out);
    out->type = BF_UPDATE_CHUNK_ACK;
    out->u.update_chunk_ack.next = next;
    out->u.update_chunk_ack.status = st;
}

/* same_manifest reports whether begin names the update s holds. */
static int same_manifest(const bu_state *s, const bf_msg *in)
{
    return in->u.update_begin.size == s->size && vcmp(&in->u.update_begin.version, &s->version) == 0 &&
           memcmp(in->u.update_begin.sha256, s->sha256, 32) == 0 &&
           memcmp(in->u.update_begin.signature, s->signature, 64) == 0 &&
           strcmp(in->u.update_begin.device_type, s->device_type) == 0;
}

static int signature_ok(bu_state *s)
{
    uint8_t m[BU_MANIFEST_MAX];
    size_t n = bu_manifest(s->device_type, &s->version, s->size, s->sha256, m, sizeof m);
    return n != 0 && s->p.verify_signature(s->p.ctx, m, n, s->signature) == 0;
}

static void begin(bu_state *s, const bf_msg *in, bf_msg *out)
{
    if (s->phase == BU_RECEIVING || s->phase == BU_VERIFIED) {
        if (same_manifest(s, in)) {
            status(s, out, s->phase, BU_REASON_NONE); /* resume from what the slot holds */
            return;
        }
        status(s, out, BU_FAILED, BU_REASON_BUSY);
        return;
    }
    if (s->phase == BU_PENDING) {
        status(s, out, BU_FAILED, BU_REASON_BUSY);
        return;
    }
    s->size = in->u.update_begin.size;
    s->version = in->u.update_begin.version;
    s->force = (uint8_t)(in->u.update_begin.flags & 1u);
    memcpy(s->sha256, in->u.update_begin.sha256, 32);
    memcpy(s->signature, in->u.update_begin.signature, 64);
    memcpy(s->device_type, in->u.update_begin.device_type, sizeof s->device_type);
    s->held = 0;
    if (strcmp(s->device_type, s->p.device_type) != 0) {
        fail(s, out, BU_REASON_WRONG_TYPE);
    } else if (!s->force && vcmp(&s->version, &s->p.running) <= 0) {
        fail(s, out, BU_REASON_DOWNGRADE);
    } else if (s->size == 0 || s->size > s->p.slot_size) {
        fail(s, out, BU_REASON_TOO_LARGE);
    } else if (!signature_ok(s)) {
        fail(s, out, BU_REASON_BAD_SIGNATURE);
    } else if (s->p.slot_erase(s->p.ctx, s->size) != 0) {
        fail(s, out, BU_REASON_FLASH_ERROR);
    } else {
        s->phase = BU_RECEIVING;
        status(s, out, BU_RECEIVING, BU_REASON_NONE);
    }
}

static void chunk(bu_state *s, const bf_msg *in, bf_msg *out)
{
    uint32_t off = in->u.update_chunk.offset, n = in->u.update_chunk.len;
    if (s->phase != BU_RECEIVING) {
        chunk_ack(out, s->held, BU_CHUNK_NO_SESSION);
        return;
    }
    if (off != s->held || n == 0 || n > s->size - s->held) {
        chunk_ack(out, s->held, BU_CHUNK_RESEND);
        return;
    }
    if (s->p.slot_write(s->p.ctx, off, in->u.update_chunk.data, (uint16_t)n) != 0) {
        fail(s, out, BU_REASON_FLASH_ERROR);
        chunk_ack(out, 0, BU_CHUNK_WRITE_ERROR);
        return;
    }
    s->held += n;
    chunk_ack(out, s->held, BU_CHUNK_OK);
}

static void verify(bu_state *s, bf_msg *out)
{
    bf_sha256_ctx c;
    uint8_t block[64], sum[32];
    uint32_t off;
    if (s->phase != BU_RECEIVING && s->phase != BU_VERIFIED) {
        status(s, out, s->phase, BU_REASON_NONE);
        return;
    }
    if (s->held != s->size) {
        fail(s, out, BU_REASON_BAD_HASH); /* truncated */
        return;
    }
    bf_sha256_init(&c);
    for (off = 0; off < s->size; off += sizeof block) {
        uint16_t n = (uint16_t)(s->size - off < sizeof block ? s->size - off : sizeof block);
        if (s->p.slot_read(s->p.ctx, off, block, n) != 0) {
            fail(s, out, BU_REASON_FLASH_ERROR);
            return;
        }
        bf_sha256_update(&c, block, n);
    }
    bf_sha256_final(&c, sum);
    if (memcmp(sum, s->sha256, 32) != 0) {
        fail(s, out, BU_REASON_BAD_HASH);
        return;
    }
    if (!signature_ok(s)) {
        fail(s, out, BU_REASON_BAD_SIGNATURE);
        return;
    }
    s->phase = BU_VERIFIED;
    status(s, out, BU_VERIFIED, BU_REASON_NONE);
}

static void reboot(bu_state *s, bf_msg *out)
{
    if (s->phase != BU_VERIFIED) {
        status(s, out, s->phase, BU_REASON_NONE);
        return;
    }
    if (s->p.boot_pending(s->p.ctx) != 0) {
        fail(s, out, BU_REASON_FLASH_ERROR);
        return;
    }
    status(s, out, BU_VERIFIED, BU_REASON_NONE);
    s->reboot_due = 1;
}

static void roll_back(bu_state *s, bf_msg *out, uint8_t reason)
{
    s->phase = BU_ROLLED_BACK;
    s->hello_flags = BF_HELLO_ROLLED_BACK;
    if (out) {
        status(s, out, BU_ROLLED_BACK, reason);
    }
    s->p.roll_back(s->p.ctx);
}

static void confirm(bu_state *s, bf_msg *out)
{
    if (s->phase != BU_PENDING) {
        status(s, out, s->phase, BU_REASON_NONE);
        return;
    }
    if (s->p.self_test(s->p.ctx) != 0 || s->p.confirm(s->p.ctx) != 0) {
        roll_back(s, out, BU_REASON_SELF_TEST);
        return;
    }
    s->phase = BU_CONFIRMED;
    s->hello_flags = 0;
    status(s, out, BU_CONFIRMED, BU_REASON_NONE);
}

int bu_handle(bu_state *s, const bf_msg *in, bf_msg *out)
{
    switch (in->type) {
    case BF_UPDATE_BEGIN:
        begin(s, in, out);
        return 1;
    case BF_UPDATE_CHUNK:
        chunk(s, in, out);
        return 1;
    case BF_UPDATE_VERIFY:
        verify(s, out);
        return 1;
    case BF_UPDATE_REBOOT:
        reboot(s, out);
        return 1;
    case BF_UPDATE_CONFIRM:
        confirm(s, out);
        return 1;
    case BF_UPDATE_ABORT:
        if (s->phase == BU_PENDING) {
            status(s, out, BU_PENDING, BU_REASON_BUSY);
            return 1;
        }
        s->phase = BU_IDLE;
        s->held = 0;
        status(s, out, BU_IDLE, BU_REASON_ABORTED);
        return 1;
    }
    return 0;
}

int bu_tick(bu_state *s, uint32_t elapsed_ms)
{
    if (s->phase != BU_PENDING) {
        return 0;
    }
    s->pending_ms += elapsed_ms;
    if (s->pending_ms < s->p.confirm_ms) {
        return 0;
    }
    roll_back(s, NULL, BU_REASON_TIMEOUT);
    return 1;
}

/* SHA-256, FIPS 180-4. */
static const uint32_t K[64] = {
    0x428a2f98ul, 0x71374491ul, 0xb5c0fbcful, 0xe9b5dba5ul, 0x3956c25bul, 0x59f111f1ul, 0x923f82a4ul, 0xab1c5ed5ul,
    0xd807aa98ul, 0x12835b01ul, 0x243185beul, 0x550c7dc3ul, 0x72be5d74ul, 0x80deb1feul, 0x9bdc06a7ul, 0xc19bf174ul,
    0xe49b69c1ul, 0xefbe4786ul, 0x0fc19dc6ul, 0x240ca1ccul, 0x2de92c6ful, 0x4a7484aaul, 0x5cb0a9dcul, 0x76f988daul,
    0x983e5152ul, 0xa831c66dul, 0xb00327c8ul, 0xbf597fc7ul, 0xc6e00bf3ul, 0xd5a79147ul, 0x06ca6351ul, 0x14292967ul,
    0x27b70a85ul, 0x2e1b2138ul, 0x4d2c6dfcul, 0x53380d13ul, 0x650a7354ul, 0x766a0abbul, 0x81c2c92eul, 0x92722c85ul,
    0xa2bfe8a1ul, 0xa81a664bul, 0xc24b8b70ul, 0xc76c51a3ul, 0xd192e819ul, 0xd6990624ul, 0xf40e3585ul, 0x106aa070ul,
    0x19a4c116ul, 0x1e376c08ul, 0x2748774cul, 0x34b0bcb5ul, 0x391c0cb3ul, 0x4ed8aa4aul, 0x5b9cca4ful, 0x682e6ff3ul,
    0x748f82eeul, 0x78a5636ful, 0x84c87814ul, 0x8cc70208ul, 0x90befffaul, 0xa4506cebul, 0xbef9a3f7ul, 0xc67178f2ul};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void block(bf_sha256_ctx *c, const uint8_t *p)
{
    uint32_t w[64], a, b, d, e, f, g, h, cc, t1, t2;
    int i;
    for (i = 0; i < 16; i++) {
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    }
    for (i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3], e = c->h[4], f = c->h[5], g = c->h[6], h = c->h[7];
    for (i = 0; i < 64; i++) {
        t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & cc) ^ (b & cc));
        h = g, g = f, f = e, e = d + t1, d = cc, cc = b, b = a, a = t1 + t2;
    }
    c->h[0] += a, c->h[1] += b, c->h[2] += cc, c->h[3] += d, c->h[4] += e, c->h[5] += f, c->h[6] += g, c->h[7] += h;
}

void bf_sha256_init(bf_sha256_ctx *c)
{
    static const uint32_t h0[8] = {0x6a09e667ul, 0xbb67ae85ul, 0x3c6ef372ul, 0xa54ff53aul,
                                   0x510e527ful, 0x9b05688cul, 0x1f83d9abul, 0x5be0cd19ul};
    memcpy(c->h, h0, sizeof h0);
    c->len = 0;
    c->n = 0;
}

void bf_sha256_update(bf_sha256_ctx *c, const uint8_t *p, size_t n)
{
    c->len += n;
    while (n > 0) {
        size_t k = 64 - c->n < n ? 64 - c->n : n;
        memcpy(c->buf + c->n, p, k);
        c->n += k, p += k, n -= k;
        if (c->n == 64) {
            block(c, c->buf);
            c->n = 0;
        }
    }
}

void bf_sha256_final(bf_sha256_ctx *c, uint8_t out[32])
{
    uint64_t bits = c->len * 8;
    int i;
    c->buf[c->n++] = 0x80;
    if (c->n > 56) {
        memset(c->buf + c->n, 0, 64 - c->n);
        block(c, c->buf);
        c->n = 0;
    }
    memset(c->buf + c->n, 0, 56 - c->n);
    for (i = 0; i < 8; i++) {
        c->buf[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
    }
    block(c, c->buf);
    for (i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(c->h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
        out[4 * i + 3] = (uint8_t)c->h[i];
    }
}
