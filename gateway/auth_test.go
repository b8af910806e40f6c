package gateway

import "testing"

// TestRequirePass: with a password, a connection runs only AUTH, HELLO
// with AUTH, QUIT and RESET until it authenticates; RESET forgets it.
func TestRequirePass(t *testing.T) {
	s := mustServer(t, newFakeBackend(), func(c *Config) { c.Password = "pw" })
	r := mustRaw(t, s)
	steps := []struct {
		name, req, want string
	}{
		{"get before auth", cmd("GET", "a"), "-NOAUTH Authentication required."},
		{"ping before auth", cmd("PING"), "-NOAUTH Authentication required."},
		{"unknown before auth", cmd("NOSUCH"), "-NOAUTH Authentication required."},
		{"hello without auth", cmd("HELLO", "2"), "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"},
		{"wrong password", cmd("AUTH", "nope"), "-WRONGPASS invalid username-password pair or user is disabled."},
		{"wrong user", cmd("AUTH", "alice", "pw"), "-WRONGPASS invalid username-password pair or user is disabled."},
		{"still locked", cmd("SET", "a", "1"), "-NOAUTH Authentication required."},
		{"auth", cmd("AUTH", "pw"), "+OK"},
		{"set", cmd("SET", "a", "1"), "+OK"},
		{"get", cmd("GET", "a"), "$1"},
		{"reset", cmd("RESET"), "+RESET"},
		{"locked after reset", cmd("GET", "a"), "-NOAUTH Authentication required."},
		{"auth with user", cmd("AUTH", "default", "pw"), "+OK"},
		{"get again", cmd("GET", "a"), "$1"},
		{"reset again", cmd("RESET"), "+RESET"},
		{"hello with auth", cmd("HELLO", "2", "AUTH", "default", "pw"), "*[$server $redis $version $7.0.15 $proto :2 $id :1 $mode $cluster $role $master $modules *[]]"},
		{"get after hello", cmd("GET", "a"), "$1"},
	}
	for _, st := range steps {
		r.send(st.req)
		if got := r.readReply(); got != st.want {
			t.Fatalf("%s: got %q, want %q", st.name, got, st.want)
		}
	}
	if s.authenticate([]byte("default"), []byte("pw2")) || !s.authenticate([]byte("default"), []byte("pw")) {
		t.Fatal("authenticate compares the password wrongly")
	}
}

// TestNoPassword: without a password the default user takes any password
// and AUTH <password> says none is configured, as in Redis.
func TestNoPassword(t *testing.T) {
	r := mustRaw(t, mustServer(t, newFakeBackend()))
	for _, st := range []struct{ req, want string }{
		{cmd("GET", "a"), "$<nil>"},
		{cmd("AUTH", "default", "anything"), "+OK"},
		{cmd("AUTH", "x"), "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"},
	} {
		r.send(st.req)
		if got := r.readReply(); got != st.want {
			t.Fatalf("%q: got %q, want %q", st.req, got, st.want)
		}
	}
}
