/*
 * Host unit tests of bailiff_update.c, run by device_c_test.go:
 *
 *   test_update            unit tests of the update state machine and of SHA-256
 *   test_update FILE       then for every line of FILE, "sha HEX" or
 *                          "manifest TYPE MAJOR MINOR PATCH SIZE SHA256HEX", print the digest or
 *                          the manifest in hex, for the Go test to compare with Go's.
 *
 * The slot is RAM. The signature check is a test double (a "signature" is the SHA-256 of the
 * manifest followed by 32 bytes 0xA5): a device uses a real ed25519 check; what is tested here
 * is that the state machine asks for it, on the right bytes, and obeys it.
 *
 * Exit status 0 when every check passed.
 */
#include "../src/bailiff_update.h"

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

/* The device: a RAM slot and the bootloader's flags. */
static struct {
    uint8_t slot[8192];
    int fail_write_at; /* a write at this offset fails; -1 never */
    int self_test_fails;
    int pending, confirmed, rolled_back, erased;
    uint32_t verify_calls;
} dev;

static int slot_erase(void *ctx, uint32_t size)
{
    (void)ctx;
    memset(dev.slot, 0xFF, size);
    dev.erased++;
    return 0;
}
static int slot_write(void *ctx, uint32_t off, const uint8_t *p, uint16_t n)
{
    (void)ctx;
    if (dev.fail_write_at >= 0 && (uint32_t)dev.fail_write_at >= off && (uint32_t)dev.fail_write_at < off + n) {
        return -1;
    }
    memcpy(dev.slot + off, p, n);
    return 0;
}
static int slot_read(void *ctx, uint32_t off, uint8_t *p, uint16_t n)
{
    (void)ctx;
    memcpy(p, dev.slot + off, n);
    return 0;
}
static void sha(const uint8_t *p, size_t n, uint8_t out[32])
{
    bf_sha256_ctx c;
    bf_sha256_init(&c);
    bf_sha256_update(&c, p, n);
    bf_sha256_final(&c, out);
}
static int verify_signature(void *ctx, const uint8_t *msg, size_t n, const uint8_t sig[64])
{
    uint8_t h[32];
    int i;
    (void)ctx;
    dev.verify_calls++;
    sha(msg, n, h);
    if (memcmp(h, sig, 32) != 0) {
        return -1;
    }
    for (i = 32; i < 64; i++) {
        if (sig[i] != 0xA5) {
            return -1;
        }
    }
    return 0;
}
static int boot_pending(void *ctx) { (void)ctx; dev.pending = 1; return 0; }
static int self_test(void *ctx) { (void)ctx; return dev.self_test_fails ? -1 : 0; }
static int confirm(void *ctx) { (void)ctx; dev.confirmed = 1; dev.pending = 0; return 0; }
static void roll_back(void *ctx) { (void)ctx; dev.rolled_back = 1; dev.pending = 0; }

static bu_platform platform(bf_version running)
{
    bu_platform p;
    memset(&p, 0, sizeof p);
    p.slot_size = sizeof dev.slot;
    p.device_type = "tally-light";
    p.running = running;
    p.confirm_ms = 5000;
    p.slot_erase = slot_erase;
    p.slot_write = slot_write;
    p.slot_read = slot_read;
    p.verify_signature = verify_signature;
    p.boot_pending = boot_pending;
    p.self_test = self_test;
    p.confirm = confirm;
    p.roll_back = roll_back;
    return p;
}

static uint8_t image[3000];

/* begin_msg describes image[0:size] as version v for type, signed when good. */
static bf_msg begin_msg(const char *type, bf_version v, uint32_t size, int good, int force)
{
    bf_msg m;
    uint8_t man[BU_MANIFEST_MAX];
    size_t n;
    memset(&m, 0, sizeof m);
    m.type = BF_UPDATE_BEGIN;
    m.u.update_begin.size = size;
    m.u.update_begin.version = v;
    m.u.update_begin.chunk_size = 256;
    m.u.update_begin.flags = (uint8_t)(force ? 1 : 0);
    sha(image, size < sizeof image ? size : sizeof image, m.u.update_begin.sha256);
    strcpy(m.u.update_begin.device_type, type);
    n = bu_manifest(type, &v, size, m.u.update_begin.sha256, man, sizeof man);
    sha(man, n, m.u.update_begin.signature);
    memset(m.u.update_begin.signature + 32, 0xA5, 32);
    if (!good) {
        m.u.update_begin.signature[3] ^= 1;
    }
    return m;
}

static bf_msg chunk_msg(uint32_t off, uint16_t len)
{
    bf_msg m;
    memset(&m, 0, sizeof m);
    m.type = BF_UPDATE_CHUNK;
    m.u.update_chunk.offset = off;
    m.u.update_chunk.len = len;
    m.u.update_chunk.data = image + off;
    return m;
}

static bf_msg bare(uint8_t type)
{
    bf_msg m;
    memset(&m, 0, sizeof m);
    m.type = type;
    return m;
}

/* send_image sends image[from:size] in 256-byte chunks; returns the last ack's next. */
static uint32_t send_image(bu_state *s, uint32_t from, uint32_t size)
{
    bf_msg in, out;
    uint32_t off = from;
    while (off < size) {
        uint16_t n = (uint16_t)(size - off < 256 ? size - off : 256);
        in = chunk_msg(off, n);
        CHECK(bu_handle(s, &in, &out) == 1);
        CHECK(out.type == BF_UPDATE_CHUNK_ACK);
        if (out.u.update_chunk_ack.status != BU_CHUNK_OK) {
            return out.u.update_chunk_ack.next;
        }
        off = out.u.update_chunk_ack.next;
    }
    return off;
}

static void reset_dev(void)
{
    memset(&dev, 0, sizeof dev);
    dev.fail_write_at = -1;
}

static const bf_version v1 = {1, 0, 0}, v11 = {1, 1, 0}, v09 = {0, 9, 0};

static void test_happy_path_and_resume(void)
{
    bu_state s;
    bu_platform p = platform(v1);
    bf_msg in, out;
    reset_dev();
    bu_init(&s, &p, BU_BOOT_NORMAL);
    CHECK(bu_hello_flags(&s) == 0);
    in = begin_msg("tally-light", v11, sizeof image, 1, 0);
    CHECK(bu_handle(&s, &in, &out) == 1 && out.type == BF_UPDATE_STATUS && out.u.update_status.phase == BU_RECEIVING &&
          out.u.update_status.offset == 0);
    CHECK(send_image(&s, 0, 1024) == 1024);
    /* A chunk at another offset: resend from what is held, nothing written. */
    in = chunk_msg(2048, 256);
    bu_handle(&s, &in, &out);
    CHECK(out.u.update_chunk_ack.status == BU_CHUNK_RESEND && out.u.update_chunk_ack.next == 1024);
    /* The host lost its place (a reconnect): begin with the same manifest resumes. */
    in = begin_msg("tally-light", v11, sizeof image, 1, 0);
    bu_handle(&s, &in, &out);
    CHECK(out.u.update_status.phase == BU_RECEIVING && out.u.update_status.offset == 1024);
    CHECK(send_image(&s, 1024, sizeof image) == sizeof image);
    CHECK(memcmp(dev.slot, image, sizeof image) == 0);
    /* Another manifest meanwhile: busy. */
    in = begin_msg("tally-light", (bf_version){2, 0, 0}, sizeof image, 1, 0);
    bu_handle(&s, &in, &out);
    CHECK(out.u.update_status.phase == BU_FAILED && out.u.update_status.reason == BU_REASON_BUSY);
    in = bare(BF_UPDATE_VERIFY);
    bu_handle(&s, &in, &out);
    CHECK(out.u.update_status.phase == BU_VERIFIED);
    in = bare(BF_UPDATE_REBOOT);
    bu_handle(&s, &in, &out);
    CHECK(out.u.update_status.phase == BU_VERIFIED && s.reboot_due && dev.pending);

    /* After the reboot: pending, then confirmed. */
    p.running = v11;
    bu_init(&s, &p, BU_BOOT_PENDING);
    CHECK(bu_hello_flags(&s) == BF_HELLO_PENDING);
    CHECK(bu_tick(&s, 1000) == 0);
    in = bare(BF_UPDATE_CONFIRM);
    bu_handle(&s, &in, &out);
    CHECK(out.u.update_status.phase == BU_CONFIRMED && dev.confirmed && !dev.rolled_back && bu_hello_flags(&s) == 0);
    CHECK(bu_tick(&s, 100000) == 0);
}

static void test_refusals(void)
{
    static const struct {
        const char *type;
        bf_version v;
        uint32_t size;
        int good, force;
        uint8_t reason;
    } c[] = {
        {"call-button", {1, 1, 0}, sizeof image, 1, 0, BU_REASON_WRONG_TYPE},
        {"tally-light", {0, 9, 0}, sizeof image, 1, 0, BU_REASON_DOWNGRADE},
        {"tally-light", {1, 0, 0}, sizeof image, 1, 0, BU_REASON_DOWNGRADE},
        {"tally-light", {1, 1, 0}, sizeof image, 0, 0, BU_REASON_BAD_SIGNATURE},
        {"tally-light", {1, 1, 0}, sizeof dev.slot + 1, 1, 0, BU_REASON_TOO_LARGE},
    };
    size_t i;
    for (i = 0; i < sizeof c / sizeof c[0]; i++) {
        bu_state s;
        bu_platform p = platform(v1);
        bf_msg in, out;
        reset_dev();
        bu_init(&s, &p, BU_BOOT_NORMAL);
        in = begin_msg(c[i].type, c[i].v, c[i].size, c[i].good, c[i].force);
        bu_handle(&s, &in, &out);
        CHECK(out.u.update_status.phase == BU_FAILED && out.u.update_status.reason == c[i].reason);
        CHECK(dev.erased == 0); /* the slot is untouched, the running image stays */
        in = chunk_msg(0, 256);
        bu_handle(&s, &in, &out);
        CHECK(out.u.update_chunk_ack.status == BU_CHUNK_NO_SESSION);
    }
    /* A forced downgrade is taken. */
    {
        bu_state s;
        bu_platform p = platform(v1);
        bf_msg in, out;
        reset_dev();
        bu_init(&s, &p, BU_BOOT_NORMAL);
        in = begin_msg("tally-light", v09, sizeof image, 1, 1);
        bu_handle(&s, &in, &out);
        CHECK(out.u.update_status.phase == BU_RECEIVING);
    }
}

static void test_corrupt_truncated_flash_error(void)
{
    bu_state s;
    bu_platform p = platform(v1);
    bf_msg in, out;
    /* Corrupted in the slot: bad hash at verify, no reboot. */
    reset_dev();
    bu_init(&s, &p, BU_BOOT_NORMAL);
    in = begin_msg("tally-light", v11, sizeof image, 1, 0);
    bu_handle(&s, &in, &out);
    send_image(&s, 0, sizeof image);
    dev.slot[777] ^= 0x10;
    in = bare(BF_UPDATE_VERIFY);
    bu_handle(&s, &in, &out);
    CHECK(out.u.update_status.phase == BU_FAILED && out.u.update_status.reason == BU_REASON_BAD_HASH);
    in = bare(BF_UPDATE_REBOOT);
    bu_handle(&s, &in, &out);
    CHECK(!s.reboot_due && !dev.pending);
    /* Truncated: verify before the last byte. */
    reset_dev();
    bu_init(&s, &p, BU_BOOT_NORMAL);
    in = begin_msg("tally-light", v11, sizeof image, 1, 0);
    bu_handle(&s, &in, &out);
    send_image(&s, 0, 2000);
    in = bare(BF_UPDATE_VERIFY);
    bu_handle(&s, &in, &out);
    CHECK(out.u.update_status.phase == BU_FAILED && out.u.update_status.reason == BU_REASON_BAD_HASH);
    /* A flash write that fails ends the update. */
    reset_dev();
    dev.fail_write_at = 600;
    bu_init(&s, &p, BU_BOOT_NORMAL);
    in = begin_msg("tally-light", v11, sizeof image, 1, 0);
    bu_handle(&s, &in, &out);
    CHECK(send_image(&s, 0, sizeof image) == 0 && s.phase == BU_FAILED);
    /* Abort before reboot: idle, the running image stays. */
    reset_dev();
    bu_init(&s, &p, BU_BOOT_NORMAL);
    in = begin_msg("tally-light", v11, sizeof image, 1, 0);
    bu_handle(&s, &in, &out);
    send_image(&s, 0, 512);
    in = bare(BF_UPDATE_ABORT);
    bu_handle(&s, &in, &out);
    CHECK(out.u.update_status.phase == BU_IDLE && out.u.update_status.reason == BU_REASON_ABORTED && !dev.pending);
}

static void test_rollbacks(void)
{
    bu_state s;
    bu_platform p = platform(v11);
    bf_msg in, out;
    /* Self-test fails at confirm. */
    reset_dev();
    dev.self_test_fails = 1;
    bu_init(&s, &p, BU_BOOT_PENDING);
    in = bare(BF_UPDATE_CONFIRM);
    bu_handle(&s, &in, &out);
    CHECK(out.u.update_status.phase == BU_ROLLED_BACK && out.u.update_status.reason == BU_REASON_SELF_TEST);
    CHECK(dev.rolled_back && !dev.confirmed && bu_hello_flags(&s) == BF_HELLO_ROLLED_BACK);
    /* No confirm in time (the host is gone, or power was lost and the clock restarted). */
    reset_dev();
    bu_init(&s, &p, BU_BOOT_PENDING);
    CHECK(bu_tick(&s, 4999) == 0 && !dev.rolled_back);
    CHECK(bu_tick(&s, 1) == 1 && dev.rolled_back);
    /* Nothing else starts while pending. */
    reset_dev();
    bu_init(&s, &p, BU_BOOT_PENDING);
    in = begin_msg("tally-light", (bf_version){2, 0, 0}, sizeof image, 1, 0);
    bu_handle(&s, &in, &out);
    CHECK(out.u.update_status.reason == BU_REASON_BUSY);
    in = bare(BF_UPDATE_ABORT);
    bu_handle(&s, &in, &out);
    CHECK(out.u.update_status.phase == BU_PENDING);
    /* The boot after a rollback says so. */
    bu_init(&s, &p, BU_BOOT_ROLLED_BACK);
    CHECK(bu_hello_flags(&s) == BF_HELLO_ROLLED_BACK);
    /* Other messages are not the update's. */
    in = bare(BF_PING);
    CHECK(bu_handle(&s, &in, &out) == 0);
}

static void hex(const uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        printf("%02x", p[i]);
    }
    printf("\n");
}

static void test_sha256(void)
{
    static const struct { const char *in, *want; } v[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    };
    uint8_t out[32];
    char got[65];
    size_t i, j;
    bf_sha256_ctx c;
    static uint8_t a[1000];
    for (i = 0; i < sizeof v / sizeof v[0]; i++) {
        sha((const uint8_t *)v[i].in, strlen(v[i].in), out);
        for (j = 0; j < 32; j++) {
            sprintf(got + 2 * j, "%02x", out[j]);
        }
        CHECK(strcmp(got, v[i].want) == 0);
    }
    /* One million "a", fed in pieces. */
    memset(a, 'a', sizeof a);
    bf_sha256_init(&c);
    for (i = 0; i < 1000; i++) {
        bf_sha256_update(&c, a, sizeof a);
    }
    bf_sha256_final(&c, out);
    for (j = 0; j < 32; j++) {
        sprintf(got + 2 * j, "%02x", out[j]);
    }
    CHECK(strcmp(got, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0);
}

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    unsigned v;
    while (s[0] && s[1] && n < cap && sscanf(s, "%2x", &v) == 1) {
        out[n++] = (uint8_t)v;
        s += 2;
    }
    return n;
}

static void cross(const char *path)
{
    static char line[20000];
    static uint8_t buf[10000];
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        failures++;
        return;
    }
    while (fgets(line, sizeof line, f)) {
        char type[64], shahex[80];
        unsigned maj, min, pat;
        unsigned long size;
        line[strcspn(line, "\n")] = 0;
        if (strncmp(line, "sha ", 4) == 0) {
            uint8_t out[32];
            size_t n = strcmp(line + 4, "-") == 0 ? 0 : unhex(line + 4, buf, sizeof buf);
            sha(buf, n, out);
            hex(out, 32);
        } else if (sscanf(line, "manifest %63s %u %u %u %lu %79s", type, &maj, &min, &pat, &size, shahex) == 6) {
            bf_version v;
            uint8_t h[32], m[BU_MANIFEST_MAX];
            size_t n;
            v.major = (uint16_t)maj, v.minor = (uint16_t)min, v.patch = (uint16_t)pat;
            unhex(shahex, h, sizeof h);
            n = bu_manifest(type, &v, (uint32_t)size, h, m, sizeof m);
            hex(m, n);
        } else {
            fprintf(stderr, "bad line %s\n", line);
            failures++;
        }
    }
    fclose(f);
}

int main(int argc, char **argv)
{
    size_t i;
    for (i = 0; i < sizeof image; i++) {
        image[i] = (uint8_t)(i * 131u + 7u);
    }
    test_sha256();
    test_happy_path_and_resume();
    test_refusals();
    test_corrupt_truncated_flash_error();
    test_rollbacks();
    if (argc > 1) {
        cross(argv[1]);
    }
    if (failures) {
        fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    return 0;
}
