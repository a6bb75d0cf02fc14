/*
 * Host unit tests of bailiff_frame.c, run by device_c_test.go:
 *
 *   test_frame                 unit tests only
 *   test_frame GOLDEN          then every line "name<TAB>hex<TAB>ok|error" of GOLDEN: decode the
 *                              frame, check the result, and print "name<TAB>dump<TAB>hex" with
 *                              the message as text and as this codec re-encodes it; last the
 *                              stream receiver's counters after all frames in one stream.
 *
 * Exit status 0 when every check passed.
 */
#include "../src/bailiff_frame.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);              \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    unsigned v;
    while (s[0] && s[1] && n < cap) {
        if (sscanf(s, "%2x", &v) != 1) {
            break;
        }
        out[n++] = (uint8_t)v;
        s += 2;
    }
    return n;
}

static void test_crc(void)
{
    CHECK(bf_crc16((const uint8_t *)"123456789", 9) == 0x29B1u);
    CHECK(bf_crc16(NULL, 0) == 0xFFFFu);
}

static void test_cobs(void)
{
    static const struct { const char *plain, *enc; } v[] = {
        {"", "01"}, {"00", "0101"}, {"0000", "010101"}, {"001100", "01021101"},
        {"11220033", "0311220233"}, {"11223344", "0511223344"}, {"11000000", "0211010101"},
    };
    uint8_t plain[8], enc[8], out[16], back[16];
    size_t i, np, ne, n, nb;
    uint8_t big[600], bigenc[BF_COBS_MAX(600)], bigdec[600];
    for (i = 0; i < sizeof v / sizeof v[0]; i++) {
        np = unhex(v[i].plain, plain, sizeof plain);
        ne = unhex(v[i].enc, enc, sizeof enc);
        n = bf_cobs_encode(plain, np, out, sizeof out);
        CHECK(n == ne && memcmp(out, enc, ne) == 0);
        CHECK(bf_cobs_decode(enc, ne, back, sizeof back, &nb) == BF_OK && nb == np && memcmp(back, plain, np) == 0);
    }
    /* 254 non-zero bytes: FF and the bytes, no empty block after them. */
    for (i = 0; i < 254; i++) {
        big[i] = (uint8_t)(i + 1);
    }
    n = bf_cobs_encode(big, 254, bigenc, sizeof bigenc);
    CHECK(n == 255 && bigenc[0] == 0xFF);
    /* Round trips with zeros here and there, and in place. */
    for (np = 0; np <= sizeof big; np += 37) {
        for (i = 0; i < np; i++) {
            big[i] = (uint8_t)(i % 97 == 5 ? 0 : i % 255 + 1);
        }
        n = bf_cobs_encode(big, np, bigenc, sizeof bigenc);
        CHECK(n > 0 && n <= BF_COBS_MAX(np) && memchr(bigenc, 0, n) == NULL);
        CHECK(bf_cobs_decode(bigenc, n, bigenc, n, &nb) == BF_OK && nb == np && memcmp(bigenc, big, np) == 0);
    }
    CHECK(bf_cobs_encode(big, 10, bigenc, 5) == 0);
    CHECK(bf_cobs_decode((const uint8_t *)"\x05\x01\x02", 3, bigdec, sizeof bigdec, &nb) == BF_ERR_GARBLED);
    CHECK(bf_cobs_decode((const uint8_t *)"\x03\x11\x00\x22", 4, bigdec, sizeof bigdec, &nb) == BF_ERR_GARBLED);
}

static void test_pack(void)
{
    bf_msg m, d;
    uint8_t out[BF_MAX_ENCODED + 1];
    size_t n = 0;
    static const uint8_t ping[] = {0x08, 0x03, 0x78, 0x56, 0x34, 0x12, 0x24, 0x2f, 0x00};
    memset(&m, 0, sizeof m);
    m.type = BF_PING;
    m.u.ping.nonce = 0x12345678ul;
    CHECK(bf_encode(&m, out, sizeof out, &n) == BF_OK && n == sizeof ping && memcmp(out, ping, n) == 0);
    CHECK(bf_encode(&m, out, 5, &n) == BF_ERR_SPACE);

    memset(&m, 0, sizeof m);
    m.type = BF_HELLO;
    m.u.hello.max_frame = 512;
    m.u.hello.version.major = 1;
    strcpy(m.u.hello.device_type, "tally-light");
    strcpy(m.u.hello.serial, "TL-1");
    CHECK(bf_encode(&m, out, sizeof out, &n) == BF_OK);
    CHECK(bf_decode(out, n - 1, &d) == BF_OK && d.type == BF_HELLO && d.u.hello.proto == 1 &&
          strcmp(d.u.hello.device_type, "tally-light") == 0 && strcmp(d.u.hello.serial, "TL-1") == 0);
    strcpy(m.u.hello.device_type, "Tally");
    CHECK(bf_encode(&m, out, sizeof out, &n) == BF_ERR_INVALID);
    strcpy(m.u.hello.device_type, "tally");
    strcpy(m.u.hello.serial, "has space");
    CHECK(bf_encode(&m, out, sizeof out, &n) == BF_ERR_INVALID);

    memset(&m, 0, sizeof m);
    m.type = BF_STATE;
    m.u.state.fields.n = BF_MAX_FIELDS + 1;
    CHECK(bf_encode(&m, out, sizeof out, &n) == BF_ERR_INVALID);
    m.type = BF_UPDATE_CHUNK;
    CHECK(bf_encode(&m, out, sizeof out, &n) == BF_ERR_INVALID);
    m.type = 0x7F;
    CHECK(bf_encode(&m, out, sizeof out, &n) == BF_ERR_INVALID);
}

static void test_rx(void)
{
    bf_rx rx;
    bf_msg m, got;
    uint8_t frame[BF_MAX_ENCODED + 1];
    size_t n = 0, i;
    int msgs = 0;
    static const uint8_t noise[] = {0x55, 0xAA, 0x13, 0x00, 0x08, 0x03, 0x78, 0x00, 0x00, 0x00};
    bf_rx_init(&rx);
    memset(&m, 0, sizeof m);
    m.type = BF_PING;
    m.u.ping.nonce = 7;
    CHECK(bf_encode(&m, frame, sizeof frame, &n) == BF_OK);
    for (i = 0; i < sizeof noise; i++) {
        msgs += bf_rx_byte(&rx, noise[i], &got);
    }
    for (i = 0; i < 2000; i++) { /* babble longer than any frame */
        msgs += bf_rx_byte(&rx, 0x07, &got);
    }
    msgs += bf_rx_byte(&rx, 0x00, &got);
    for (i = 0; i < n; i++) {
        msgs += bf_rx_byte(&rx, frame[i], &got);
    }
    CHECK(msgs == 1 && got.type == BF_PING && got.u.ping.nonce == 7);
    CHECK(rx.frames == 1 && rx.oversized == 1 && bf_rx_dropped(&rx) == 3);
}

static const char *errname(int err)
{
    switch (err) {
    case BF_OK: return "ok";
    case BF_ERR_GARBLED: return "garbled";
    case BF_ERR_SHORT: return "short";
    case BF_ERR_OVERSIZED: return "oversized";
    case BF_ERR_CRC: return "crc";
    case BF_ERR_UNKNOWN_TYPE: return "unknown-type";
    case BF_ERR_PAYLOAD: return "payload";
    case BF_ERR_VERSION: return "version";
    case BF_ERR_INVALID: return "invalid";
    }
    return "space";
}

static void dumphex(const uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        printf("%02x", p[i]);
    }
}

static void dumpfields(const bf_fields *f)
{
    uint8_t i;
    printf(" fields=[");
    for (i = 0; i < f->n; i++) {
        printf("%s%u:%ld", i ? "," : "", (unsigned)f->f[i].key, (long)f->f[i].value);
    }
    printf("]");
}

static void dumpversion(const char *name, const bf_version *v)
{
    printf(" %s=%u.%u.%u", name, (unsigned)v->major, (unsigned)v->minor, (unsigned)v->patch);
}

/* dump prints m in the text form device_c_test.go makes of the Go message. */
static void dump(const bf_msg *m)
{
    switch (m->type) {
    case BF_HELLO:
        printf("hello proto=%u flags=%u caps=%lx max_frame=%u", (unsigned)m->u.hello.proto, (unsigned)m->u.hello.flags,
               (unsigned long)m->u.hello.caps, (unsigned)m->u.hello.max_frame);
        dumpversion("version", &m->u.hello.version);
        printf(" device_type=%s serial=%s", m->u.hello.device_type, m->u.hello.serial);
        break;
    case BF_HELLO_REQUEST: printf("hello-request"); break;
    case BF_PING: printf("ping nonce=%lu", (unsigned long)m->u.ping.nonce); break;
    case BF_PONG: printf("pong nonce=%lu", (unsigned long)m->u.ping.nonce); break;
    case BF_STATE: printf("state"); dumpfields(&m->u.state.fields); break;
    case BF_EVENT: printf("event code=%u", (unsigned)m->u.event.code); dumpfields(&m->u.event.fields); break;
    case BF_COMMAND:
        printf("command id=%u action=%u", (unsigned)m->u.command.id, (unsigned)m->u.command.action);
        dumpfields(&m->u.command.fields);
        break;
    case BF_ACK:
        printf("ack id=%u status=%u", (unsigned)m->u.ack.id, (unsigned)m->u.ack.status);
        dumpfields(&m->u.ack.fields);
        break;
    case BF_UPDATE_BEGIN:
        printf("update-begin size=%lu", (unsigned long)m->u.update_begin.size);
        dumpversion("version", &m->u.update_begin.version);
        printf(" chunk_size=%u flags=%u sha256=", (unsigned)m->u.update_begin.chunk_size, (unsigned)m->u.update_begin.flags);
        dumphex(m->u.update_begin.sha256, 32);
        printf(" signature=");
        dumphex(m->u.update_begin.signature, 64);
        printf(" device_type=%s", m->u.update_begin.device_type);
        break;
    case BF_UPDATE_CHUNK:
        printf("update-chunk offset=%lu data=", (unsigned long)m->u.update_chunk.offset);
        dumphex(m->u.update_chunk.data, m->u.update_chunk.len);
        break;
    case BF_UPDATE_CHUNK_ACK:
        printf("update-chunk-ack next=%lu status=%u", (unsigned long)m->u.update_chunk_ack.next,
               (unsigned)m->u.update_chunk_ack.status);
        break;
    case BF_UPDATE_VERIFY: printf("update-verify"); break;
    case BF_UPDATE_REBOOT: printf("update-reboot"); break;
    case BF_UPDATE_CONFIRM: printf("update-confirm"); break;
    case BF_UPDATE_STATUS:
        printf("update-status phase=%u reason=%u offset=%lu", (unsigned)m->u.update_status.phase,
               (unsigned)m->u.update_status.reason, (unsigned long)m->u.update_status.offset);
        dumpversion("version", &m->u.update_status.version);
        break;
    case BF_UPDATE_ABORT: printf("update-abort reason=%u", (unsigned)m->u.update_abort.reason); break;
    }
}

static void golden(const char *path)
{
    static char line[4096];
    static uint8_t wire[2048], out[BF_MAX_ENCODED + 1];
    static bf_rx rx;
    FILE *f = fopen(path, "r");
    bf_msg m, s;
    size_t n, i, e;
    int err, k;
    if (f == NULL) {
        perror(path);
        failures++;
        return;
    }
    bf_rx_init(&rx);
    while (fgets(line, sizeof line, f) != NULL) {
        char *name = strtok(line, "\t\n");
        char *hx = strtok(NULL, "\t\n");
        char *want = strtok(NULL, "\t\n");
        if (name == NULL || hx == NULL || want == NULL) {
            fprintf(stderr, "bad golden line\n");
            failures++;
            continue;
        }
        if (strcmp(hx, "-") == 0) {
            hx = "";
        }
        n = unhex(hx, wire, sizeof wire);
        /* The stream: 0x00, the frame, 0x00. */
        bf_rx_byte(&rx, 0, &s);
        for (i = 0; i < n; i++) {
            bf_rx_byte(&rx, wire[i], &s);
        }
        k = bf_rx_byte(&rx, 0, &s);
        err = bf_decode(wire, n, &m);
        if (strcmp(errname(err), want) != 0) {
            fprintf(stderr, "%s: decode: %s, want %s\n", name, errname(err), want);
            failures++;
            continue;
        }
        if (err != BF_OK) {
            CHECK(k == 0);
            continue;
        }
        CHECK(k == 1 && s.type == m.type);
        err = bf_encode(&m, out, sizeof out, &e);
        if (err != BF_OK) {
            fprintf(stderr, "%s: encode: %s\n", name, errname(err));
            failures++;
            continue;
        }
        printf("%s\t", name);
        dump(&m);
        printf("\t");
        dumphex(out, e - 1);
        printf("\n");
    }
    fclose(f);
    printf("stream\tframes=%lu garbled=%lu short=%lu oversized=%lu crc=%lu unknown=%lu malformed=%lu\n",
           (unsigned long)rx.frames, (unsigned long)rx.garbled, (unsigned long)rx.short_, (unsigned long)rx.oversized,
           (unsigned long)rx.bad_crc, (unsigned long)rx.unknown, (unsigned long)rx.malformed);
}

int main(int argc, char **argv)
{
    test_crc();
    test_cobs();
    test_pack();
    test_rx();
    if (argc > 1) {
        golden(argv[1]);
    }
    if (failures != 0) {
        fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    fprintf(stderr, "all checks passed\n");
    return 0;
}
