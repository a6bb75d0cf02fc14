package frame

// CRC16 is CRC-16/CCITT-FALSE (protocol §2.2): polynomial 0x1021, initial value 0xFFFF, not
// reflected, no final XOR. CRC16([]byte("123456789")) is 0x29B1.
func CRC16(b []byte) uint16 { return crcUpdate(0xFFFF, b) }

var crcTable = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i) << 8
		for range 8 {
			if c&0x8000 != 0 {
				c = c<<1 ^ 0x1021
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

func crcUpdate(crc uint16, b []byte) uint16 {
	for _, x := range b {
		crc = crc<<8 ^ crcTable[byte(crc>>8)^x]
	}
	return crc
}
