package slots

// Count is the number of hash slots in a cluster.
const Count = 16384

// Slot is a hash slot number in [0, Count).
type Slot uint16

var crcTable = func() (t [256]uint16) {
	// CRC-16/XMODEM: polynomial 0x1021, init 0, no reflection, no final xor.
	for i := 0; i < 256; i++ {
		c := uint16(i) << 8
		for j := 0; j < 8; j++ {
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

// CRC16 returns the CRC-16/XMODEM checksum of b.
func CRC16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc = crc<<8 ^ crcTable[byte(crc>>8)^c]
	}
	return crc
}

// Of returns the slot of key, honouring hash tags.
func Of(key []byte) Slot {
	return Slot(CRC16(HashPart(key)) & (Count - 1))
}

// OfString is Of for a string key, without copying it.
func OfString(key string) Slot {
	return Of([]byte(key))
}
