/*
 * bailiff_frame.h - the device side of the Bailiff firmware-bridge frame protocol, version 1.
 *
 * Protocol: docs/FIRMWARE-PROTOCOL.md (§2 framing, §3 messages, §4 streams). The Go side is
 * firmware-bridge/frame; both are checked against the same golden table.
 *
 * Portable C99, no dynamic allocation, no global state: every buffer is the caller's or on the
 * stack (bf_encode uses BF_MAX_FRAME bytes of stack). Multi-byte values are little-endian on
 * the wire whatever the CPU's byte order.
 */
#ifndef BAILIFF_FRAME_H
#define BAILIFF_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define BF_PROTO_VERSION 1u
#define BF_MAX_FRAME 512u                                    /* type + payload + CRC, before COBS */
#define BF_MAX_PAYLOAD (BF_MAX_FRAME - 3u)
#define BF_COBS_MAX(n) ((n) + (n) / 254u + 1u)               /* COBS length of n bytes, at most */
#define BF_MAX_ENCODED BF_COBS_MAX(BF_MAX_FRAME)             /* on the wire, without the 0x00 */
#define BF_MAX_CHUNK (BF_MAX_PAYLOAD - 4u)
#define BF_MAX_FIELDS 32u
#define BF_MAX_STRING 32u

/* Results. Every error is negative. */
enum {
    BF_OK = 0,
    BF_ERR_GARBLED = -1,      /* bad COBS */
    BF_ERR_SHORT = -2,        /* fewer than 3 bytes */
    BF_ERR_OVERSIZED = -3,    /* more than BF_MAX_FRAME / BF_MAX_ENCODED */
    BF_ERR_CRC = -4,          /* CRC mismatch */
    BF_ERR_UNKNOWN_TYPE = -5, /* a type this version does not know */
    BF_ERR_PAYLOAD = -6,      /* payload does not match its type's layout */
    BF_ERR_VERSION = -7,      /* hello of another protocol version */
    BF_ERR_INVALID = -8,      /* bf_pack: a field out of range */
    BF_ERR_SPACE = -9         /* the output buffer is too small */
};

/* Message types (§3). */
enum {
    BF_HELLO = 0x01, BF_HELLO_REQUEST = 0x02, BF_PING = 0x03, BF_PONG = 0x04,
    BF_STATE = 0x10, BF_EVENT = 0x11, BF_COMMAND = 0x20, BF_ACK = 0x21,
    BF_UPDATE_BEGIN = 0x30, BF_UPDATE_CHUNK = 0x31, BF_UPDATE_CHUNK_ACK = 0x32,
    BF_UPDATE_VERIFY = 0x33, BF_UPDATE_REBOOT = 0x34, BF_UPDATE_CONFIRM = 0x35,
    BF_UPDATE_STATUS = 0x36, BF_UPDATE_ABORT = 0x37
};

/* Capabilities (hello), keys (fields), event codes, actions, statuses: see §3. */
#define BF_CAP_TALLY 0x00000001ul
#define BF_CAP_BUTTON 0x00000002ul
#define BF_CAP_SIGN 0x00000004ul
#define BF_CAP_RELAY 0x00000008ul
#define BF_CAP_KEYPAD 0x00000010ul
#define BF_CAP_BRIGHTNESS 0x00000020ul
#define BF_CAP_UPDATE 0x80000000ul
#define BF_HELLO_PENDING 0x01u
#define BF_HELLO_ROLLED_BACK 0x02u
enum { BF_KEY_TALLY = 1, BF_KEY_SIGN, BF_KEY_BUTTON, BF_KEY_RELAY, BF_KEY_BRIGHTNESS, BF_KEY_INDEX, BF_KEY_CODE, BF_KEY_UPTIME };
enum { BF_EVENT_BUTTON_PRESS = 1, BF_EVENT_BUTTON_RELEASE, BF_EVENT_KEY, BF_EVENT_FAULT };
enum { BF_ACTION_SET = 1, BF_ACTION_PULSE, BF_ACTION_GET };
enum { BF_STATUS_OK = 0, BF_STATUS_UNSUPPORTED, BF_STATUS_BAD_ARGS, BF_STATUS_BUSY, BF_STATUS_DEVICE_ERROR };

typedef struct { uint16_t major, minor, patch; } bf_version;
typedef struct { uint8_t key; int32_t value; } bf_field;
typedef struct { uint8_t n; bf_field f[BF_MAX_FIELDS]; } bf_fields;

typedef struct {
    uint8_t type; /* BF_HELLO … ; selects the member of u */
    union {
        struct {
            uint8_t proto, flags;
            uint32_t caps;
            uint16_t max_frame;
            bf_version version;
            char device_type[BF_MAX_STRING + 1]; /* NUL-terminated */
            char serial[BF_MAX_STRING + 1];
        } hello;
        struct { uint32_t nonce; } ping; /* BF_PING and BF_PONG */
        struct { bf_fields fields; } state;
        struct { uint8_t code; bf_fields fields; } event;
        struct { uint16_t id; uint8_t action; bf_fields fields; } command;
        struct { uint16_t id; uint8_t status; bf_fields fields; } ack;
        struct {
            uint32_t size;
            bf_version version;
            uint16_t chunk_size;
            uint8_t flags;
            uint8_t sha256[32];
            uint8_t signature[64];
            char device_type[BF_MAX_STRING + 1];
        } update_begin;
        struct {
            uint32_t offset;
            uint16_t len;
            const uint8_t *data; /* after bf_unpack: points into the frame buffer */
        } update_chunk;
        struct { uint32_t next; uint8_t status; } update_chunk_ack;
        struct { uint8_t phase, reason; uint32_t offset; bf_version version; } update_status;
        struct { uint8_t reason; } update_abort;
    } u;
} bf_msg;

/* CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, not reflected, no final XOR. */
uint16_t bf_crc16(const uint8_t *p, size_t n);
uint16_t bf_crc16_update(uint16_t crc, const uint8_t *p, size_t n);

/* COBS. bf_cobs_encode writes at most BF_COBS_MAX(n) bytes and returns how many, or 0 when
 * cap is too small. bf_cobs_decode may decode in place (dst == src). */
size_t bf_cobs_encode(const uint8_t *src, size_t n, uint8_t *dst, size_t cap);
int bf_cobs_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t cap, size_t *out_len);

/* A frame before COBS (type, payload, CRC). bf_unpack leaves update_chunk.data pointing
 * into raw. */
int bf_pack(const bf_msg *m, uint8_t *raw, size_t cap, size_t *len);
int bf_unpack(const uint8_t *raw, size_t len, bf_msg *m);

/* A frame as on the wire: bf_encode writes COBS and the 0x00 delimiter (cap ≥
 * BF_MAX_ENCODED + 1 always suffices); bf_decode takes the bytes between two delimiters and
 * decodes them in place (buf is changed; update_chunk.data points into it). */
int bf_encode(const bf_msg *m, uint8_t *out, size_t cap, size_t *len);
int bf_decode(uint8_t *buf, size_t n, bf_msg *m);

/* Stream receiver (§4): feed it every byte read from the UART. */
typedef struct {
    uint8_t buf[BF_MAX_ENCODED];
    size_t len;
    uint8_t skip; /* inside an oversized frame */
    uint32_t frames, garbled, short_, oversized, bad_crc, unknown, malformed;
} bf_rx;

void bf_rx_init(bf_rx *rx);
/* bf_rx_byte returns 1 when c completed a frame that decoded into *m (valid until the next
 * call), 0 otherwise. A frame that does not decode is dropped and counted. */
int bf_rx_byte(bf_rx *rx, uint8_t c, bf_msg *m);
uint32_t bf_rx_dropped(const bf_rx *rx);

#endif
