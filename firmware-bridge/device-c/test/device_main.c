/*
 * A firmware-bridge device in C on standard input and output (one end of a pty pair): a tally
 * light that says hello, answers hello-request, ping and get/set commands, and takes firmware
 * updates through bailiff_update.c, "rebooting" into the new image in place. device_c_test.go
 * runs it against the Go bridge.
 *
 *   device_main VERSION      e.g. 1.0.0
 *
 * The slot is RAM; the signature check is the test double of test_update.c (the SHA-256 of
 * the manifest, then 32 bytes 0xA5). On exit it prints the running version to standard error.
 */
#define _POSIX_C_SOURCE 200809L
#include "../src/bailiff_update.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static uint8_t slot[65536];
static bf_version running, previous;
static int32_t tally;
static int pending_boot, rolled_back;

static int slot_erase(void *ctx, uint32_t size) { (void)ctx; memset(slot, 0xFF, size); return 0; }
static int slot_write(void *ctx, uint32_t off, const uint8_t *p, uint16_t n) { (void)ctx; memcpy(slot + off, p, n); return 0; }
static int slot_read(void *ctx, uint32_t off, uint8_t *p, uint16_t n) { (void)ctx; memcpy(p, slot + off, n); return 0; }
static int verify_signature(void *ctx, const uint8_t *msg, size_t n, const uint8_t sig[64])
{
    bf_sha256_ctx c;
    uint8_t h[32];
    int i;
    (void)ctx;
    bf_sha256_init(&c);
    bf_sha256_update(&c, msg, n);
    bf_sha256_final(&c, h);
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
static int boot_pending(void *ctx) { (void)ctx; pending_boot = 1; return 0; }
static int self_test(void *ctx) { (void)ctx; return 0; }
static int confirm(void *ctx) { (void)ctx; return 0; }
static void roll_back(void *ctx) { (void)ctx; rolled_back = 1; }

static void send(const bf_msg *m)
{
    uint8_t out[BF_MAX_ENCODED + 1];
    size_t n;
    if (bf_encode(m, out, sizeof out, &n) == BF_OK) {
        ssize_t w = write(1, out, n);
        (void)w;
    }
}

static void hello(uint8_t flags)
{
    bf_msg m;
    static const uint8_t zero = 0;
    ssize_t w = write(1, &zero, 1); /* a delimiter first, as after every boot */
    (void)w;
    memset(&m, 0, sizeof m);
    m.type = BF_HELLO;
    m.u.hello.proto = BF_PROTO_VERSION;
    m.u.hello.flags = flags;
    m.u.hello.caps = BF_CAP_TALLY | BF_CAP_UPDATE;
    m.u.hello.max_frame = BF_MAX_FRAME;
    m.u.hello.version = running;
    strcpy(m.u.hello.device_type, "tally-light");
    strcpy(m.u.hello.serial, "C-0001");
    send(&m);
}

static bu_platform platform(void)
{
    bu_platform p;
    memset(&p, 0, sizeof p);
    p.slot_size = sizeof slot;
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

int main(int argc, char **argv)
{
    static bf_rx rx;
    static bu_state upd;
    bu_platform p;
    bf_msg in, out;
    uint8_t buf[256];
    unsigned a = 1, b = 0, c = 0;
    if (argc > 1) {
        sscanf(argv[1], "%u.%u.%u", &a, &b, &c);
    }
    running.major = (uint16_t)a, running.minor = (uint16_t)b, running.patch = (uint16_t)c;
    p = platform();
    bu_init(&upd, &p, BU_BOOT_NORMAL);
    bf_rx_init(&rx);
    hello(0);
    for (;;) {
        struct pollfd pfd = {0, POLLIN, 0};
        int r = poll(&pfd, 1, 100);
        ssize_t n, i;
        if (r == 0) {
            if (bu_tick(&upd, 100)) {
                rolled_back = 0;
                running = previous;
                p = platform();
                bu_init(&upd, &p, BU_BOOT_ROLLED_BACK);
                hello(BF_HELLO_ROLLED_BACK);
            }
            continue;
        }
        n = read(0, buf, sizeof buf);
        if (n <= 0) {
            break;
        }
        for (i = 0; i < n; i++) {
            if (!bf_rx_byte(&rx, buf[i], &in)) {
                continue;
            }
            memset(&out, 0, sizeof out);
            switch (in.type) {
            case BF_HELLO_REQUEST:
                hello(bu_hello_flags(&upd));
                break;
            case BF_PING:
                out.type = BF_PONG;
                out.u.ping.nonce = in.u.ping.nonce;
                send(&out);
                break;
            case BF_COMMAND:
                out.type = BF_ACK;
                out.u.ack.id = in.u.command.id;
                if (in.u.command.action == BF_ACTION_SET && in.u.command.fields.n == 1 &&
                    in.u.command.fields.f[0].key == BF_KEY_TALLY && in.u.command.fields.f[0].value >= 0 &&
                    in.u.command.fields.f[0].value <= 3) {
                    tally = in.u.command.fields.f[0].value;
                } else if (in.u.command.action != BF_ACTION_GET) {
                    out.u.ack.status = BF_STATUS_BAD_ARGS;
                }
                out.u.ack.fields.n = 1;
                out.u.ack.fields.f[0].key = BF_KEY_TALLY;
                out.u.ack.fields.f[0].value = tally;
                send(&out);
                break;
            default:
                if (bu_handle(&upd, &in, &out)) {
                    send(&out);
                    if (upd.reboot_due) {
                        /* Reboot into the new image, pending. */
                        previous = running;
                        running = upd.version;
                        p = platform();
                        bu_init(&upd, &p, BU_BOOT_PENDING);
                        hello(BF_HELLO_PENDING);
                    } else if (rolled_back) {
                        rolled_back = 0;
                        running = previous;
                        p = platform();
                        bu_init(&upd, &p, BU_BOOT_ROLLED_BACK);
                        hello(BF_HELLO_ROLLED_BACK);
                    }
                }
            }
        }
    }
    fprintf(stderr, "%u.%u.%u\n", running.major, running.minor, running.patch);
    return 0;
}
