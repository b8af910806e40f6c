package slots

import "testing"

func TestSlotVectors(t *testing.T) {
	// Vectors confirmed with CLUSTER KEYSLOT on redis-server 7.0.15.
	tests := []struct {
		key  string
		slot Slot
	}{
		{"123456789", 12739},
		{"foo", 12182},
		{"bar", 5061},
		{"hello", 866},
		{"a", 15495},
		{"", 0},
		{"{user1000}.following", 3443},
		{"{user1000}.followers", 3443},
		{"foo{}{bar}", 8363},
		{"foo{{bar}}zap", 4015},
		{"foo{bar}{zap}", 5061},
		{"{a}b", 15495},
		{"{}", 15257},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if got := OfString(tt.key); got != tt.slot {
				t.Fatalf("Of(%q) = %d, want %d", tt.key, got, tt.slot)
			}
		})
	}
	if got := CRC16([]byte("123456789")); got != 0x31C3 {
		t.Fatalf("CRC16 check value = %#x, want 0x31c3", got)
	}
}

func FuzzHashTag(f *testing.F) {
	for _, s := range []string{"", "{", "}", "{}", "a{b}c", "{{}}", "x{y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		part := HashPart([]byte(key))
		if len(part) > len(key) {
			t.Fatalf("hash part longer than key")
		}
		if s := Of([]byte(key)); s >= Count {
			t.Fatalf("slot %d out of range", s)
		}
	})
}
