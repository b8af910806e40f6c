package gateway

import (
	"errors"
	"strings"
	"sync"
	"testing"
)

// fakeTLSControl records what CONFIG SET asks of the node's TLS identity;
// a file named bad fails to load.
type fakeTLSControl struct {
	mu       sync.Mutex
	cur      TLSSettings
	fileSets int // SetTLSFiles calls
	authSets int // SetTLSAuthClients calls
	polSets  int // SetTLSPolicy calls
}

func (f *fakeTLSControl) TLSSettings() TLSSettings {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cur
}

func (f *fakeTLSControl) SetTLSFiles(s TLSSettings) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fileSets++
	for _, p := range []string{s.CertFile, s.KeyFile, s.CAFile} {
		if p == "" || strings.Contains(p, "bad") {
			return errors.New("tls: certificate " + p + ": no such file\r\nor directory")
		}
	}
	f.cur = s
	return nil
}

func (f *fakeTLSControl) SetTLSAuthClients(v string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.authSets++
	f.cur.AuthClients = v
	return nil
}

// SetTLSPolicy refuses protocols named bad.
func (f *fakeTLSControl) SetTLSPolicy(protocols, ciphers string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.polSets++
	if strings.Contains(protocols, "bad") {
		return errors.New("tls-protocols: unknown protocol " + `"` + protocols + `"`)
	}
	f.cur.Protocols, f.cur.Ciphers = protocols, ciphers
	return nil
}

func (f *fakeTLSControl) counts() (files, auth, policy int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fileSets, f.authSets, f.polSets
}

// TestConfigTLSFiles: CONFIG SET of the tls-* file parameters goes to the
// node's TLS identity as one change, re-reads the files even when their
// names do not change, and a failure leaves every parameter of the
// command as it was, with Redis's error text.
func TestConfigTLSFiles(t *testing.T) {
	start := TLSSettings{CertFile: "/tls/a.crt", KeyFile: "/tls/a.key", CAFile: "/tls/ca-a.crt", AuthClients: "no"}
	tests := []struct {
		name      string
		args      []string
		want      string      // reply
		after     TLSSettings // settings afterwards
		fileSets  int
		authSets  int
		polSets   int
		maxmemory string // CONFIG GET maxmemory afterwards
	}{
		{name: "protocols alone read no file",
			args: []string{"tls-protocols", "TLSv1.3"}, want: "+OK",
			after:   TLSSettings{CertFile: "/tls/a.crt", KeyFile: "/tls/a.key", CAFile: "/tls/ca-a.crt", AuthClients: "no", Protocols: "TLSv1.3"},
			polSets: 1, maxmemory: "0"},
		{name: "protocols and ciphers as one change, with auth",
			args: []string{"tls-ciphers", "ECDHE-ECDSA-AES256-GCM-SHA384", "tls-protocols", "TLSv1.2", "tls-auth-clients", "yes"}, want: "+OK",
			after: TLSSettings{CertFile: "/tls/a.crt", KeyFile: "/tls/a.key", CAFile: "/tls/ca-a.crt", AuthClients: "yes",
				Protocols: "TLSv1.2", Ciphers: "ECDHE-ECDSA-AES256-GCM-SHA384"},
			authSets: 1, polSets: 1, maxmemory: "0"},
		{name: "bad protocols refused before the files",
			args:    []string{"tls-protocols", "bad", "tls-cert-file", "/tls/b.crt"},
			want:    "-ERR CONFIG SET failed (possibly related to argument 'tls-protocols') - Unable to update TLS configuration: tls-protocols: unknown protocol \"bad\"",
			after:   start,
			polSets: 1, maxmemory: "0"},
		{name: "policy put back when the files fail",
			args:     []string{"tls-protocols", "TLSv1.3", "tls-cert-file", "/tls/bad.crt"},
			want:     "-ERR CONFIG SET failed (possibly related to argument 'tls-protocols') - Unable to update TLS configuration: tls: certificate /tls/bad.crt: no such file  or directory",
			after:    start,
			fileSets: 1, polSets: 2, maxmemory: "0"},
		{name: "one file re-read with the others",
			args: []string{"tls-cert-file", "/tls/b.crt"}, want: "+OK",
			after:    TLSSettings{CertFile: "/tls/b.crt", KeyFile: "/tls/a.key", CAFile: "/tls/ca-a.crt", AuthClients: "no"},
			fileSets: 1, maxmemory: "0"},
		{name: "all together",
			args:     []string{"tls-cert-file", "/tls/b.crt", "tls-key-file", "/tls/b.key", "tls-ca-cert-file", "/tls/ca-b.crt", "tls-auth-clients", "YES"},
			want:     "+OK",
			after:    TLSSettings{CertFile: "/tls/b.crt", KeyFile: "/tls/b.key", CAFile: "/tls/ca-b.crt", AuthClients: "yes"},
			fileSets: 1, maxmemory: "0"},
		{name: "same name re-read (rotation in place)",
			args: []string{"tls-cert-file", "/tls/a.crt"}, want: "+OK", after: start, fileSets: 1, maxmemory: "0"},
		{name: "auth alone reads no file",
			args: []string{"tls-auth-clients", "optional"}, want: "+OK",
			after:    TLSSettings{CertFile: "/tls/a.crt", KeyFile: "/tls/a.key", CAFile: "/tls/ca-a.crt", AuthClients: "optional"},
			authSets: 1, maxmemory: "0"},
		{name: "bad file refused, nothing changes",
			args:      []string{"maxmemory", "10mb", "tls-key-file", "/tls/b.key", "tls-cert-file", "/tls/bad.crt", "tls-auth-clients", "yes"},
			want:      "-ERR CONFIG SET failed (possibly related to argument 'tls-key-file') - Unable to update TLS configuration: tls: certificate /tls/bad.crt: no such file  or directory",
			after:     start,
			fileSets:  1,
			maxmemory: "0"},
		{name: "empty file name refused",
			args:  []string{"tls-ca-cert-file", ""},
			want:  "-ERR CONFIG SET failed (possibly related to argument 'tls-ca-cert-file') - Unable to update TLS configuration: tls: certificate : no such file  or directory",
			after: start, fileSets: 1, maxmemory: "0"},
		{name: "bad auth value",
			args:  []string{"tls-auth-clients", "maybe", "tls-cert-file", "/tls/b.crt"},
			want:  "-ERR CONFIG SET failed (possibly related to argument 'tls-auth-clients') - argument(s) must be one of the following: no, yes, optional",
			after: start, maxmemory: "0"},
		{name: "duplicate",
			args:  []string{"tls-cert-file", "/tls/b.crt", "tls-cert-file", "/tls/c.crt"},
			want:  "-ERR CONFIG SET failed (possibly related to argument 'tls-cert-file') - duplicate parameter",
			after: start, maxmemory: "0"},
		{name: "key password and CA directory re-read the files",
			args: []string{"tls-key-file-pass", "pw", "tls-ca-cert-dir", "/tls/cas"}, want: "+OK",
			after: TLSSettings{CertFile: "/tls/a.crt", KeyFile: "/tls/a.key", KeyPass: "pw", CAFile: "/tls/ca-a.crt", CADir: "/tls/cas",
				AuthClients: "no"},
			fileSets: 1, maxmemory: "0"},
		{name: "with other parameters",
			args: []string{"maxmemory", "10mb", "tls-cert-file", "/tls/b.crt"}, want: "+OK",
			after:    TLSSettings{CertFile: "/tls/b.crt", KeyFile: "/tls/a.key", CAFile: "/tls/ca-a.crt", AuthClients: "no"},
			fileSets: 1, maxmemory: "10485760"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustServer(t, newFakeBackend())
			ctl := &fakeTLSControl{cur: start}
			s.SetTLSControl(ctl)
			r := mustRaw(t, s)
			if got := r.do(append([]string{"CONFIG", "SET"}, tc.args...)...); got != tc.want {
				t.Fatalf("CONFIG SET: %s\nwant %s", got, tc.want)
			}
			if got := ctl.TLSSettings(); got != tc.after {
				t.Fatalf("settings %+v, want %+v", got, tc.after)
			}
			if files, auth, pol := ctl.counts(); files != tc.fileSets || auth != tc.authSets || pol != tc.polSets {
				t.Fatalf("SetTLSFiles %d times, SetTLSAuthClients %d times, SetTLSPolicy %d times; want %d, %d, %d",
					files, auth, pol, tc.fileSets, tc.authSets, tc.polSets)
			}
			want := "*[$tls-auth-clients $" + tc.after.AuthClients + " $tls-ca-cert-dir $" + tc.after.CADir +
				" $tls-ca-cert-file $" + tc.after.CAFile + " $tls-cert-file $" + tc.after.CertFile + " $tls-ciphers $" + tc.after.Ciphers +
				" $tls-key-file $" + tc.after.KeyFile + " $tls-key-file-pass $" + tc.after.KeyPass +
				" $tls-port $0 $tls-protocols $" + tc.after.Protocols + "]"
			if got := r.do("CONFIG", "GET", "tls-*"); got != want {
				t.Fatalf("CONFIG GET tls-*: %s\nwant %s", got, want)
			}
			if got := r.do("CONFIG", "GET", "maxmemory"); got != "*[$maxmemory $"+tc.maxmemory+"]" {
				t.Fatalf("CONFIG GET maxmemory: %s", got)
			}
		})
	}
}

// TestConfigTLSChangedOutside: CONFIG GET shows the node's settings as
// they are, also after a change made elsewhere (SIGHUP reloads the same
// names; another CONFIG SET path).
func TestConfigTLSChangedOutside(t *testing.T) {
	s := mustServer(t, newFakeBackend())
	ctl := &fakeTLSControl{cur: TLSSettings{CertFile: "/a.crt", KeyFile: "/a.key", CAFile: "/ca.crt", AuthClients: "no"}}
	s.SetTLSControl(ctl)
	if err := ctl.SetTLSFiles(TLSSettings{CertFile: "/b.crt", KeyFile: "/b.key", CAFile: "/ca.crt", AuthClients: "yes"}); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.ConfigValue("tls-cert-file"); v != "/b.crt" {
		t.Fatalf("ConfigValue(tls-cert-file) = %q", v)
	}
	if err := s.SetConfig("tls-auth-clients", "optional"); err != nil {
		t.Fatal(err)
	}
	if got := mustRaw(t, s).do("CONFIG", "GET", "tls-auth-clients"); got != "*[$tls-auth-clients $optional]" {
		t.Fatalf("CONFIG GET tls-auth-clients: %s", got)
	}
}

// TestConfigTLSWithoutTLS: a node started without TLS cannot turn it on
// (its ports are fixed), so CONFIG SET refuses the tls-* parameters rather
// than keep names it would never read; CONFIG GET shows them empty. The
// tls-* parameters raftcache has no use for stay unknown.
func TestConfigTLSWithoutTLS(t *testing.T) {
	s := mustServer(t, newFakeBackend())
	r := mustRaw(t, s)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"tls-cert-file", "/a.crt"},
			"-ERR CONFIG SET failed (possibly related to argument 'tls-cert-file') - TLS is not enabled on this node (it was started without a certificate)"},
		{[]string{"maxmemory", "1mb", "tls-auth-clients", "yes", "tls-key-file", "/a.key"},
			"-ERR CONFIG SET failed (possibly related to argument 'tls-auth-clients') - TLS is not enabled on this node (it was started without a certificate)"},
		{[]string{"tls-protocols", "TLSv1.2"},
			"-ERR CONFIG SET failed (possibly related to argument 'tls-protocols') - TLS is not enabled on this node (it was started without a certificate)"},
		{[]string{"tls-ciphersuites", "TLS_AES_128_GCM_SHA256"}, "-ERR Unknown option or number of arguments for CONFIG SET - 'tls-ciphersuites'"},
		{[]string{"tls-key-file-pass", "secret"},
			"-ERR CONFIG SET failed (possibly related to argument 'tls-key-file-pass') - TLS is not enabled on this node (it was started without a certificate)"},
		{[]string{"tls-dh-params-file", "/dh.pem"}, "-ERR Unknown option or number of arguments for CONFIG SET - 'tls-dh-params-file'"},
		{[]string{"tls-port", "7001"}, "-ERR CONFIG SET failed (possibly related to argument 'tls-port') - can't set immutable config"},
	}
	for _, tc := range tests {
		if got := r.do(append([]string{"CONFIG", "SET"}, tc.args...)...); got != tc.want {
			t.Errorf("CONFIG SET %v: %s\nwant %s", tc.args, got, tc.want)
		}
	}
	want := "*[$tls-auth-clients $no $tls-ca-cert-dir $ $tls-ca-cert-file $ $tls-cert-file $ $tls-ciphers $ $tls-key-file $ $tls-key-file-pass $ $tls-port $0 $tls-protocols $]"
	if got := r.do("CONFIG", "GET", "tls-*"); got != want {
		t.Fatalf("CONFIG GET tls-*: %s\nwant %s", got, want)
	}
	if got := r.do("CONFIG", "GET", "maxmemory"); got != "*[$maxmemory $0]" {
		t.Fatalf("the failed CONFIG SET changed maxmemory: %s", got)
	}
	if err := s.SetConfig("tls-cert-file", "/a.crt"); err == nil {
		t.Fatal("SetConfig(tls-cert-file) without TLS succeeded")
	}
}
