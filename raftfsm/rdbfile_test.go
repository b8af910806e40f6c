package raftfsm

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const rdbTestLibrary = "#!lua name=rdblib\nredis.register_function('rdbf', function() return 1 end)"

// rdbTestFile writes rdbTestValues with RDBWriter: every third key expires
// (absolute ms), plus a function library.
func rdbTestFile(t testing.TB) (file []byte, exps map[string]int64) {
	t.Helper()
	var buf bytes.Buffer
	w := NewRDBWriter(&buf, []string{"redis-ver", "7.0.0", "raftcache-test", "1"}, [][]byte{[]byte(rdbTestLibrary)})
	exps = map[string]int64{}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range rdbTestValues() {
			if !yield(n) {
				return
			}
		}
	})
	vals := rdbTestValues()
	for i, name := range names {
		var exp int64
		if i%3 == 0 {
			exp = 4_000_000_000_000 + int64(i)
		}
		exps[name] = exp
		if err := w.Key([]byte(name), exp, DumpPayload(vals[name])); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.Keys() != uint64(len(names)) {
		t.Fatalf("Keys() = %d", w.Keys())
	}
	return buf.Bytes(), exps
}

// rdbScanAll runs ScanRDB and returns each key's value (canonical) and
// expiry.
func rdbScanAll(t *testing.T, file []byte) (RDBFile, map[string]string, map[string]int64) {
	t.Helper()
	canon, exps := map[string]string{}, map[string]int64{}
	info, err := ScanRDB(file, 0, func(key []byte, exp int64, dump []byte) error {
		v, err := DecodePayload(dump)
		if err != nil {
			t.Fatalf("key %q: payload: %v", key, err)
		}
		canon[string(key)], exps[string(key)] = rdbCanon(v), exp
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return info, canon, exps
}

func TestRDBFileRoundTrip(t *testing.T) {
	file, wantExp := rdbTestFile(t)
	if string(file[:9]) != "REDIS0010" {
		t.Fatalf("header %q", file[:9])
	}
	info, canon, exps := rdbScanAll(t, file)
	vals := rdbTestValues()
	if info.Version != 10 || info.Keys != uint64(len(vals)) || info.OtherDBKeys != 0 || info.Aux["raftcache-test"] != "1" {
		t.Fatalf("info %+v", info)
	}
	if len(info.Libraries) != 1 || string(info.Libraries[0]) != rdbTestLibrary {
		t.Fatalf("libraries %q", info.Libraries)
	}
	for name, v := range vals {
		if canon[name] != rdbCanon(v) || exps[name] != wantExp[name] {
			t.Errorf("%s: read %.80s exp %d, wrote %.80s exp %d", name, canon[name], exps[name], rdbCanon(v), wantExp[name])
		}
	}
}

// rdbFileOf frames body as an RDB file of version v: header, body, EOF,
// CRC-64.
func rdbFileOf(v int, body ...[]byte) []byte {
	b := []byte("REDIS" + strconv.Itoa(10000 + v)[1:])
	for _, p := range body {
		b = append(b, p...)
	}
	b = append(b, rdbOpEOF)
	return binary.LittleEndian.AppendUint64(b, crc64Redis(0, b))
}

func rdbStrOf(s string) []byte { return rdbAppendString(nil, []byte(s)) }

func TestScanRDBOpcodes(t *testing.T) {
	expSec := binary.LittleEndian.AppendUint32([]byte{rdbOpExpire}, 2_000_000_000)
	expMs := binary.LittleEndian.AppendUint64([]byte{rdbOpExpireMs}, 3_000_000_000_123)
	setLP := lpFinish(lpAppendEntry(lpAppendEntry(make([]byte, 6), "a"), "17"), 2)
	file := rdbFileOf(11,
		[]byte{rdbOpAux}, rdbStrOf("redis-ver"), rdbStrOf("7.2.4"),
		[]byte{rdbOpSelectDB, 0, rdbOpResizeDB, 3, 1},
		[]byte{rdbOpSlotInfo, 5, 1, 0},
		expSec, []byte{rdbTypeString}, rdbStrOf("secs"), rdbStrOf("v1"),
		expMs, []byte{rdbOpIdle, 10, rdbOpFreq, 3, rdbTypeString}, rdbStrOf("ms"), rdbStrOf("12345"),
		[]byte{rdbTypeSetListpack}, rdbStrOf("lpset"), rdbStrOf(string(setLP)),
		[]byte{rdbOpSelectDB, 2, rdbTypeString}, rdbStrOf("elsewhere"), rdbStrOf("x"),
	)
	info, canon, exps := rdbScanAll(t, file)
	if info.Version != 11 || info.Keys != 3 || info.OtherDBKeys != 1 || info.Aux["redis-ver"] != "7.2.4" {
		t.Fatalf("info %+v", info)
	}
	want := map[string]string{"secs": `string:"v1"`, "ms": `string:"12345"`, "lpset": `set:"17","a"`}
	wantExp := map[string]int64{"secs": 2_000_000_000_000, "ms": 3_000_000_000_123, "lpset": 0}
	for k, v := range want {
		if canon[k] != v || exps[k] != wantExp[k] {
			t.Errorf("%s = %s exp %d, want %s exp %d", k, canon[k], exps[k], v, wantExp[k])
		}
	}
	if _, ok := canon["elsewhere"]; ok {
		t.Error("a key of database 2 was passed on")
	}
	var db2 []string
	info, err := ScanRDB(file, 2, func(key []byte, _ int64, _ []byte) error { db2 = append(db2, string(key)); return nil })
	if err != nil || info.Keys != 1 || info.OtherDBKeys != 3 || !slices.Equal(db2, []string{"elsewhere"}) {
		t.Fatalf("database 2: %v %+v %v", err, info, db2)
	}
	// A file written with rdbchecksum no (CRC 0) is read.
	zero := slices.Clone(file)
	clear(zero[len(zero)-8:])
	if _, err := ScanRDB(zero, 0, func([]byte, int64, []byte) error { return nil }); err != nil {
		t.Fatalf("CRC 0: %v", err)
	}
}

func TestScanRDBRefuses(t *testing.T) {
	good, _ := rdbTestFile(t)
	flipped := slices.Clone(good)
	flipped[len(flipped)/2] ^= 1
	trailing := append(slices.Clone(good), 0)
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "not an RDB file"},
		{"other magic", []byte("VALKEY080xxxxxxxxxx"), "not an RDB file"},
		{"version 13", rdbFileOf(13), "version \"0013\" not supported"},
		{"version text", []byte("REDIS00x1" + strings.Repeat("\x00", 9)), "not supported"},
		{"checksum", flipped, "checksum mismatch"},
		{"truncated", good[:len(good)-100], "truncated"},
		{"bytes after", trailing, "no EOF opcode before the checksum"},
		{"module value", rdbFileOf(10, []byte{7}, rdbStrOf("m"), []byte{1, 2}), `key "m": bad RDB data: unsupported RDB type 7`},
		{"module aux", rdbFileOf(10, []byte{rdbOpModuleAux, 1}), "module data"},
		{"hash with field expiry", rdbFileOf(12, []byte{25}, rdbStrOf("h"), []byte{0}), "unsupported RDB type 25"},
		{"value cut", rdbFileOf(10, []byte{rdbTypeString}, rdbStrOf("k"), []byte{0x05, 'a'}), `key "k"`},
		{"no EOF", rdbFileOf(10, []byte{rdbTypeString})[:13], "truncated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			_, err := ScanRDB(tc.file, 0, func([]byte, int64, []byte) error { n++; return nil })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ScanRDB = %v, want an error containing %q", err, tc.want)
			}
			if tc.name == "checksum" && n != 0 {
				t.Fatalf("%d keys passed on from a damaged file", n)
			}
		})
	}
}

func TestRDBWriterRefusesDamagedPayload(t *testing.T) {
	w := NewRDBWriter(&bytes.Buffer{}, nil, nil)
	p := DumpPayload(rdbMkStr("v"))
	p[1] ^= 1
	if err := w.Key([]byte("k"), 0, p); err == nil {
		t.Fatal("a payload with a wrong checksum was written")
	}
	if err := w.Key([]byte("k"), 0, []byte{0}); err == nil {
		t.Fatal("a short payload was written")
	}
}

func FuzzScanRDB(f *testing.F) {
	good, _ := rdbTestFile(f)
	f.Add(good[:min(len(good), 4096)])
	f.Add(rdbFileOf(10, []byte{rdbOpSelectDB, 0, rdbTypeString}, rdbStrOf("k"), rdbStrOf("v")))
	f.Fuzz(func(t *testing.T, b []byte) {
		// The checksum is made valid so that the fuzzer explores the parser.
		if len(b) >= 17 {
			b = slices.Clone(b)
			copy(b, "REDIS0010")
			b[len(b)-9] = rdbOpEOF
			binary.LittleEndian.PutUint64(b[len(b)-8:], crc64Redis(0, b[:len(b)-8]))
		}
		_, _ = ScanRDB(b, 0, func(key []byte, exp int64, dump []byte) error {
			if _, err := DecodePayload(dump); err != nil {
				t.Fatalf("ScanRDB passed on a payload that does not decode: %v", err)
			}
			return nil
		})
	})
}

// TestRDBFileRedisInterop: a live redis-server 7.0 (when installed) loads
// a file RDBWriter wrote (and redis-check-rdb passes it), and ScanRDB reads
// the file redis-server SAVEs, with the same contents both ways.
func TestRDBFileRedisInterop(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil || testing.Short() {
		t.Skip("redis-server not installed (or -short)")
	}
	file, exps := rdbTestFile(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "in.rdb"), file, 0o600); err != nil {
		t.Fatal(err)
	}
	if check, err := exec.LookPath("redis-check-rdb"); err == nil {
		if out, err := exec.Command(check, filepath.Join(dir, "in.rdb")).CombinedOutput(); err != nil || !strings.Contains(string(out), "RDB looks OK") {
			t.Fatalf("redis-check-rdb: %v\n%s", err, out)
		}
	}
	conn := rdbStartRedis(t, bin, "--dir", dir, "--dbfilename", "in.rdb")
	if v := conn.do(t, "INFO", "server"); !strings.Contains(v, "redis_version:7.0.") {
		t.Skip("redis-server is not 7.0")
	}
	for i := 0; conn.do(t, "PING") != "PONG"; i++ { // LOADING
		if i > 500 {
			t.Fatal("redis-server did not finish loading")
		}
		time.Sleep(10 * time.Millisecond)
	}
	vals := rdbTestValues()
	if n := conn.do(t, "DBSIZE"); n != strconv.Itoa(len(vals)) {
		t.Fatalf("redis-server loaded %s keys, want %d", n, len(vals))
	}
	for name, v := range vals {
		got, err := DecodePayload([]byte(conn.do(t, "DUMP", name)))
		if err != nil || rdbCanon(got) != rdbCanon(v) {
			t.Errorf("%s: redis-server holds %v %.80s", name, err, rdbCanon(got))
		}
		want := "-1"
		if exps[name] != 0 {
			want = strconv.FormatInt(exps[name], 10)
		}
		if e := conn.do(t, "PEXPIRETIME", name); e != want {
			t.Errorf("%s: PEXPIRETIME %s, want %s", name, e, want)
		}
	}
	if l := conn.do(t, "FCALL", "rdbf", "0"); l != "1" {
		t.Fatalf("FCALL of the loaded library: %s", l)
	}
	// Back: a key in database 1 too, then SAVE, and read redis's file.
	conn.do(t, "SELECT", "1")
	conn.do(t, "SET", "db1", "x")
	conn.do(t, "SELECT", "0")
	if r := conn.do(t, "SAVE"); r != "OK" { // over in.rdb (dbfilename is a protected config)
		t.Fatalf("SAVE: %s", r)
	}
	saved := mustRead(t, filepath.Join(dir, "in.rdb"))
	if bytes.Equal(saved, file) {
		t.Fatal("SAVE did not rewrite the file") // its aux fields differ from ours
	}
	info, canon, gotExp := rdbScanAll(t, saved)
	if info.Keys != uint64(len(vals)) || info.OtherDBKeys != 1 || len(info.Libraries) != 1 || !strings.HasPrefix(info.Aux["redis-ver"], "7.0.") {
		t.Fatalf("redis-server's file: %+v", info)
	}
	for name, v := range vals {
		if canon[name] != rdbCanon(v) || gotExp[name] != exps[name] {
			t.Errorf("%s: read back %.80s exp %d", name, canon[name], gotExp[name])
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
