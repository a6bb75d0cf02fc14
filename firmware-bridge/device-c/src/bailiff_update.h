/*
 * bailiff_update.h - the device side of firmware updates in the Bailiff firmware-bridge
 * protocol, version 1 (docs/FIRMWARE-PROTOCOL.md §3.6).
 *
 * bu_handle takes every update message the frame codec (bailiff_frame.h) decodes and gives the
 * answer to send. The state machine refuses anything that would leave the device without good
 * firmware: a manifest not signed by a trusted key, for another device type, older than (or the
 * same as) the running firmware unless forced, larger than the slot; an image whose SHA-256
 * does not match. It writes the image to the inactive slot through the platform's hooks, resumes
 * a transfer from the bytes the slot holds, asks the bootloader to boot the new image as
 * pending, confirms it after the firmware's self-test, or rolls back (self-test failed, or no
 * confirm within confirm_ms of booting it).
 *
 * Portable C99, no dynamic allocation, no global state. Cryptography is the platform's:
 * verify_signature must be a real ed25519 check (for instance Monocypher's
 * crypto_eddsa_check) against the key(s) the device trusts; bf_sha256 (below) hashes the slot
 * unless the platform has a faster one.
 */
#ifndef BAILIFF_UPDATE_H
#define BAILIFF_UPDATE_H

#include "bailiff_frame.h"

/* Update phases and reasons (update-status). */
enum { BU_IDLE = 0, BU_RECEIVING, BU_VERIFYING, BU_VERIFIED, BU_PENDING, BU_CONFIRMED, BU_ROLLED_BACK, BU_FAILED };
enum {
    BU_REASON_NONE = 0, BU_REASON_BAD_SIGNATURE, BU_REASON_WRONG_TYPE, BU_REASON_DOWNGRADE, BU_REASON_BAD_HASH,
    BU_REASON_TOO_LARGE, BU_REASON_FLASH_ERROR, BU_REASON_ABORTED, BU_REASON_SELF_TEST, BU_REASON_TIMEOUT, BU_REASON_BUSY
};
enum { BU_CHUNK_OK = 0, BU_CHUNK_RESEND, BU_CHUNK_WRITE_ERROR, BU_CHUNK_NO_SESSION };

/* What the firmware and its bootloader provide. Every hook returns 0 on success. */
typedef struct {
    void *ctx;
    uint32_t slot_size;      /* bytes of the inactive slot */
    const char *device_type; /* as in the hello */
    bf_version running;      /* the firmware running now */
    uint32_t confirm_ms;     /* a pending image not confirmed within this is rolled back */
    int (*slot_erase)(void *ctx, uint32_t size);
    int (*slot_write)(void *ctx, uint32_t offset, const uint8_t *p, uint16_t n);
    int (*slot_read)(void *ctx, uint32_t offset, uint8_t *p, uint16_t n);
    /* 0 when sig is a valid ed25519 signature of msg by a trusted key */
    int (*verify_signature)(void *ctx, const uint8_t *msg, size_t n, const uint8_t sig[64]);
    /* marks the slot to boot once as pending; the firmware reboots after sending the answer */
    int (*boot_pending)(void *ctx);
    int (*self_test)(void *ctx);   /* 0 when the new firmware works */
    int (*confirm)(void *ctx);     /* makes the running (pending) image the permanent one */
    void (*roll_back)(void *ctx);  /* boots the previous image (does not return on a device) */
} bu_platform;

/* The update state: keep it in RAM; what survives a reboot is the platform's (the slot's bytes
 * and the bootloader's pending flag, passed to bu_init). */
typedef struct {
    bu_platform p;
    uint8_t phase;
    uint8_t hello_flags; /* BF_HELLO_PENDING, BF_HELLO_ROLLED_BACK */
    uint8_t force;
    uint8_t reboot_due;  /* set when the answer to update-reboot is to be followed by a reboot */
    uint32_t size, held;
    uint32_t pending_ms; /* time running the pending image */
    bf_version version;  /* the image concerned */
    uint8_t sha256[32];
    uint8_t signature[64];
    char device_type[BF_MAX_STRING + 1];
} bu_state;

/* Boot states for bu_init, from the bootloader. */
enum { BU_BOOT_NORMAL = 0, BU_BOOT_PENDING, BU_BOOT_ROLLED_BACK };

void bu_init(bu_state *s, const bu_platform *p, int boot);
/* bu_handle answers one update message (BF_UPDATE_BEGIN … BF_UPDATE_ABORT) into *out and
 * returns 1, or returns 0 for any other message. After answering an update-reboot, check
 * s->reboot_due: send the answer, then reboot. */
int bu_handle(bu_state *s, const bf_msg *in, bf_msg *out);
/* bu_tick counts time running a pending image; past confirm_ms it rolls back (and returns 1). */
int bu_tick(bu_state *s, uint32_t elapsed_ms);
/* The hello's flags. */
uint8_t bu_hello_flags(const bu_state *s);

/* The manifest the signature covers (§3.6): "bailiff-fw-v1" ‖ str8 device type ‖ u16 major,
 * minor, patch ‖ u32 size ‖ sha256. Returns its length (at most BU_MANIFEST_MAX) or 0. */
#define BU_MANIFEST_MAX (13u + 1u + BF_MAX_STRING + 6u + 4u + 32u)
size_t bu_manifest(const char *device_type, const bf_version *v, uint32_t size, const uint8_t sha256[32], uint8_t *out,
                   size_t cap);

/* SHA-256 (FIPS 180-4), for platforms without their own. */
typedef struct {
    uint32_t h[8];
    uint64_t len;
    uint8_t buf[64];
    size_t n;
} bf_sha256_ctx;
void bf_sha256_init(bf_sha256_ctx *c);
void bf_sha256_update(bf_sha256_ctx *c, const uint8_t *p, size_t n);
void bf_sha256_final(bf_sha256_ctx *c, uint8_t out[32]);

#endif
