package sfu

import (
	"encoding/binary"
	"strconv"
)

// UDP generic segmentation offload (Linux 4.18+): one sendmsg carries up to
// 64 datagrams for one destination, all of one size but the last, and the
// kernel splits them late (or the NIC does), instead of each one walking
// the whole send path.
const (
	solUDP     = 17  // SOL_UDP
	udpSegment = 103 // UDP_SEGMENT
)

// gsoAvailable: the control message below is laid out for 64-bit Linux.
var gsoAvailable = strconv.IntSize == 64

// gsoControl returns the control message asking the kernel to cut a send
// into datagrams of size bytes.
func gsoControl(b []byte, size int) []byte {
	b = append(b[:0], make([]byte, 24)...)   // CMSG_SPACE(2) on 64-bit Linux
	binary.NativeEndian.PutUint64(b[0:], 18) // CMSG_LEN(2)
	binary.NativeEndian.PutUint32(b[8:], solUDP)
	binary.NativeEndian.PutUint32(b[12:], udpSegment)
	binary.NativeEndian.PutUint16(b[16:], uint16(size))
	return b
}
