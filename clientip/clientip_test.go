package clientip

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsePrefixes(t *testing.T) {
	tests := []struct {
		name     string
		giveList string
		want     []string
	}{
		{name: "empty", giveList: "", want: nil},
		{name: "blank", giveList: "  ", want: nil},
		{name: "one block", giveList: "10.0.0.0/8", want: []string{"10.0.0.0/8"}},
		{
			name:     "bare addresses",
			giveList: "192.0.2.7, 2001:db8::1",
			want:     []string{"192.0.2.7/32", "2001:db8::1/128"},
		},
		{
			name:     "blanks around items",
			giveList: " 127.0.0.1/32 ,\t::1/128 ",
			want:     []string{"127.0.0.1/32", "::1/128"},
		},
		{
			name:     "mapped block read as IPv4",
			giveList: "::ffff:10.0.0.0/104,::ffff:192.0.2.1",
			want:     []string{"10.0.0.0/8", "192.0.2.1/32"},
		},
		{name: "IPv6 block", giveList: "2001:db8::/32", want: []string{"2001:db8::/32"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePrefixes(tt.giveList)
			if err != nil {
				t.Fatalf("ParsePrefixes(%q): %v", tt.giveList, err)
			}
			var gotText []string
			for _, p := range got {
				gotText = append(gotText, p.String())
			}
			if diff := cmp.Diff(tt.want, gotText); diff != "" {
				t.Errorf("ParsePrefixes(%q) mismatch (-want +got):\n%s", tt.giveList, diff)
			}
		})
	}
}

func TestParsePrefixesErrors(t *testing.T) {
	tests := []struct {
		name     string
		giveList string
		wantItem string
	}{
		{name: "word", giveList: "10.0.0.0/8,proxy", wantItem: `item 2 "proxy"`},
		{name: "empty item", giveList: "10.0.0.0/8,,::1", wantItem: `item 2 ""`},
		{name: "trailing comma", giveList: "10.0.0.0/8,", wantItem: `item 2 ""`},
		{name: "host bits", giveList: "10.1.2.3/8", wantItem: `item 1 "10.1.2.3/8"`},
		{name: "length too long", giveList: "10.0.0.0/33", wantItem: `"10.0.0.0/33"`},
		{name: "missing length", giveList: "10.0.0.0/", wantItem: `"10.0.0.0/"`},
		{name: "leading zero octet", giveList: "010.0.0.1", wantItem: `"010.0.0.1"`},
		{name: "leading zero length", giveList: "10.0.0.0/08", wantItem: `"10.0.0.0/08"`},
		{name: "signed length", giveList: "10.0.0.0/+8", wantItem: `"10.0.0.0/+8"`},
		{name: "zone on address", giveList: "fe80::1%eth0", wantItem: `"fe80::1%eth0"`},
		{name: "zone in block", giveList: "fe80::%eth0/64", wantItem: `"fe80::%eth0/64"`},
		{name: "range", giveList: "10.0.0.1-10.0.0.9", wantItem: `"10.0.0.1-10.0.0.9"`},
		{name: "port", giveList: "127.0.0.1:8080", wantItem: `"127.0.0.1:8080"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePrefixes(tt.giveList)
			if err == nil {
				t.Fatalf("ParsePrefixes(%q) = %v, want an error", tt.giveList, got)
			}
			if !strings.Contains(err.Error(), tt.wantItem) {
				t.Errorf("error %q does not name %s", err, tt.wantItem)
			}
			if got != nil {
				t.Errorf("ParsePrefixes(%q) returned %v beside its error", tt.giveList, got)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	trusted := mustPrefixes(t, "127.0.0.1,::1,10.0.0.0/8,2001:db8:ffff::/48")
	tests := []struct {
		name        string
		giveRemote  string
		giveXFF     []string
		want        Source
		wantKey     string
		wantDisplay string
	}{
		{
			name:        "untrusted peer with port",
			giveRemote:  "203.0.113.5:51000",
			giveXFF:     []string{"198.51.100.1"},
			want:        Source{Addr: addr("203.0.113.5"), Known: true, Peer: addr("203.0.113.5")},
			wantKey:     "203.0.113.5",
			wantDisplay: "203.0.113.5",
		},
		{
			name:       "loopback IPv6 peer in brackets",
			giveRemote: "[::1]:51000",
			giveXFF:    []string{"2001:db8::7"},
			want: Source{
				Addr: addr("2001:db8::7"), Known: true, Peer: addr("::1"), ViaTrustedProxy: true,
			},
			wantKey:     "2001:db8::7",
			wantDisplay: "2001:db8::7",
		},
		{
			name:        "untrusted IPv6 peer",
			giveRemote:  "[2001:db8::9]:443",
			giveXFF:     []string{"198.51.100.1"},
			want:        Source{Addr: addr("2001:db8::9"), Known: true, Peer: addr("2001:db8::9")},
			wantKey:     "2001:db8::9",
			wantDisplay: "2001:db8::9",
		},
		{
			name:       "mapped peer is unmapped and trusted",
			giveRemote: "[::ffff:127.0.0.1]:51000",
			giveXFF:    []string{"198.51.100.1"},
			want: Source{
				Addr: addr("198.51.100.1"), Known: true, Peer: addr("127.0.0.1"),
				ViaTrustedProxy: true,
			},
			wantKey:     "198.51.100.1",
			wantDisplay: "198.51.100.1",
		},
		{
			name:       "mapped untrusted peer is unmapped",
			giveRemote: "[::ffff:203.0.113.5]:51000",
			want: Source{
				Addr: addr("203.0.113.5"), Known: true, Peer: addr("203.0.113.5"),
			},
			wantKey:     "203.0.113.5",
			wantDisplay: "203.0.113.5",
		},
		{
			name:        "peer zone stripped",
			giveRemote:  "[fe80::1%eth0]:51000",
			want:        Source{Addr: addr("fe80::1"), Known: true, Peer: addr("fe80::1")},
			wantKey:     "fe80::1",
			wantDisplay: "fe80::1",
		},
		{
			name:       "peer without port",
			giveRemote: "127.0.0.1",
			giveXFF:    []string{"198.51.100.1"},
			want: Source{
				Addr: addr("198.51.100.1"), Known: true, Peer: addr("127.0.0.1"),
				ViaTrustedProxy: true,
			},
			wantKey:     "198.51.100.1",
			wantDisplay: "198.51.100.1",
		},
		{
			name:        "peer not an address",
			giveRemote:  "@",
			giveXFF:     []string{"198.51.100.1"},
			want:        Source{},
			wantKey:     "unknown",
			wantDisplay: "unknown",
		},
		{
			name:       "unreadable item keys on the peer",
			giveRemote: "[::1]:51000",
			giveXFF:    []string{"unknown"},
			want:       Source{Peer: addr("::1"), ViaTrustedProxy: true},
			wantKey:    "::1", wantDisplay: "unknown",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.giveXFF {
				h.Add("X-Forwarded-For", v)
			}
			got := NewResolver(trusted).Resolve(tt.giveRemote, h)
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(addrEqual)); diff != "" {
				t.Errorf("Resolve mismatch (-want +got):\n%s", diff)
			}
			if got.Key() != tt.wantKey {
				t.Errorf("Key() = %q, want %q", got.Key(), tt.wantKey)
			}
			if got.String() != tt.wantDisplay {
				t.Errorf("String() = %q, want %q", got.String(), tt.wantDisplay)
			}
		})
	}
}

func TestResolveForwardedItems(t *testing.T) {
	trusted := mustPrefixes(t, "127.0.0.1,10.0.0.0/8,2001:db8:ffff::/48")
	tests := []struct {
		name     string
		giveXFF  []string
		wantAddr string // "unknown" when no trustworthy address
	}{
		{name: "IPv4 with port", giveXFF: []string{"198.51.100.7:4711"}, wantAddr: "198.51.100.7"},
		{name: "IPv6 with port", giveXFF: []string{"[2001:db8::1]:80"}, wantAddr: "2001:db8::1"},
		{name: "IPv6 in brackets", giveXFF: []string{"[2001:db8::1]"}, wantAddr: "2001:db8::1"},
		{name: "zone with port", giveXFF: []string{"[fe80::1%eth0]:80"}, wantAddr: "fe80::1"},
		{name: "zone", giveXFF: []string{"fe80::1%eth0"}, wantAddr: "fe80::1"},
		{name: "mapped with port", giveXFF: []string{"[::ffff:192.0.2.1]:8"},
			wantAddr: "192.0.2.1"},
		{name: "bare IPv6 is not a port", giveXFF: []string{"2001:db8::1:80"},
			wantAddr: "2001:db8::1:80"},
		{name: "empty port", giveXFF: []string{"198.51.100.7:"}, wantAddr: "unknown"},
		{name: "port out of range", giveXFF: []string{"198.51.100.7:70000"}, wantAddr: "unknown"},
		{name: "IPv4 in brackets", giveXFF: []string{"[198.51.100.7]"}, wantAddr: "unknown"},
		{name: "quoted", giveXFF: []string{`"198.51.100.7"`}, wantAddr: "unknown"},
		{name: "obfuscated identifier", giveXFF: []string{"_hidden"}, wantAddr: "unknown"},
		{
			name:     "three headers are one list",
			giveXFF:  []string{"198.51.100.1", "198.51.100.2, 10.0.0.1", "10.0.0.2"},
			wantAddr: "198.51.100.2",
		},
		{
			name:     "walk crosses headers",
			giveXFF:  []string{"198.51.100.1", "10.0.0.1", "10.0.0.2"},
			wantAddr: "198.51.100.1",
		},
		{
			name:     "all trusted across headers: the leftmost",
			giveXFF:  []string{"10.0.0.3", "10.0.0.1, 127.0.0.1"},
			wantAddr: "10.0.0.3",
		},
		{
			name:     "trusted IPv6 hop with port skipped",
			giveXFF:  []string{"2001:db8::5, [2001:db8:ffff::2]:443"},
			wantAddr: "2001:db8::5",
		},
		{
			name:     "empty items skipped",
			giveXFF:  []string{"198.51.100.1, ,", "", " , 10.0.0.9"},
			wantAddr: "198.51.100.1",
		},
		{
			name:     "garbage left of the client is not read",
			giveXFF:  []string{"garbage, 198.51.100.1"},
			wantAddr: "198.51.100.1",
		},
		{
			name:     "garbage behind trusted hops stops the walk",
			giveXFF:  []string{"198.51.100.1, garbage, 10.0.0.1"},
			wantAddr: "unknown",
		},
		{name: "only blanks", giveXFF: []string{" ", " , "}, wantAddr: "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.giveXFF {
				h.Add("X-Forwarded-For", v)
			}
			got := NewResolver(trusted).Resolve("127.0.0.1:40000", h)
			if got.String() != tt.wantAddr {
				t.Errorf("Resolve(%q) = %s, want %s", tt.giveXFF, got, tt.wantAddr)
			}
			if got.Known != (tt.wantAddr != "unknown") {
				t.Errorf("Known = %v for %s", got.Known, tt.wantAddr)
			}
			if !got.ViaTrustedProxy || got.Peer != addr("127.0.0.1") {
				t.Errorf("Peer = %v, ViaTrustedProxy = %v", got.Peer, got.ViaTrustedProxy)
			}
		})
	}
}

func TestResolveIgnoresOtherHeaders(t *testing.T) {
	r := NewResolver(mustPrefixes(t, "127.0.0.1"))
	h := http.Header{}
	h.Set("X-Real-IP", "198.51.100.1")
	h.Set("Forwarded", "for=198.51.100.2")
	h.Set("True-Client-IP", "198.51.100.3")
	h.Set("X-Client-IP", "198.51.100.4")
	if got := r.Resolve("127.0.0.1:1", h); got.Addr != addr("127.0.0.1") {
		t.Errorf("Resolve = %v, want the peer 127.0.0.1", got.Addr)
	}
}

func TestNewResolverNormalizes(t *testing.T) {
	give := []netip.Prefix{
		netip.MustParsePrefix("10.1.2.3/8"),
		netip.MustParsePrefix("::ffff:192.0.2.0/120"),
		{},
	}
	r := NewResolver(give)
	give[0] = netip.MustParsePrefix("0.0.0.0/0")
	for _, a := range []string{"10.200.0.1", "192.0.2.9"} {
		if !r.Trusted(addr(a)) {
			t.Errorf("Trusted(%s) = false, want true", a)
		}
	}
	for _, a := range []string{"192.0.3.1", "11.0.0.1"} {
		if r.Trusted(addr(a)) {
			t.Errorf("Trusted(%s) = true, want false (or the list was not copied)", a)
		}
	}
	if !r.Trusted(addr("::ffff:10.0.0.1")) {
		t.Error("Trusted(::ffff:10.0.0.1) = false, want true after unmapping")
	}
}

func TestNoProxyTrusted(t *testing.T) {
	h := http.Header{"X-Forwarded-For": {"198.51.100.1"}, "X-Forwarded-Proto": {"https"}}
	for _, r := range []*Resolver{NewResolver(nil), {}} {
		got := r.Resolve("127.0.0.1:1", h)
		if got.Addr != addr("127.0.0.1") || got.ViaTrustedProxy {
			t.Errorf("Resolve = %+v, want the untrusted peer", got)
		}
		if r.ForwardedHTTPS("127.0.0.1:1", h) {
			t.Error("ForwardedHTTPS = true from an untrusted peer")
		}
	}
}

func TestForwardedHTTPS(t *testing.T) {
	r := NewResolver(mustPrefixes(t, "127.0.0.1,::1"))
	tests := []struct {
		name       string
		giveRemote string
		giveProto  []string
		want       bool
	}{
		{name: "trusted https", giveRemote: "127.0.0.1:1", giveProto: []string{"https"},
			want: true},
		{name: "trusted IPv6", giveRemote: "[::1]:1", giveProto: []string{"https"}, want: true},
		{name: "any case", giveRemote: "127.0.0.1:1", giveProto: []string{" HTTPS "}, want: true},
		{name: "trusted http", giveRemote: "127.0.0.1:1", giveProto: []string{"http"}},
		{name: "no header", giveRemote: "127.0.0.1:1"},
		{name: "untrusted peer", giveRemote: "203.0.113.5:1", giveProto: []string{"https"}},
		{name: "peer not an address", giveRemote: "pipe", giveProto: []string{"https"}},
		{
			name: "nearest item wins", giveRemote: "127.0.0.1:1",
			giveProto: []string{"https", "http"},
		},
		{
			name: "nearest item in a list", giveRemote: "127.0.0.1:1",
			giveProto: []string{"http, https, "}, want: true,
		},
		{name: "other word", giveRemote: "127.0.0.1:1", giveProto: []string{"httpsx"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.giveProto {
				h.Add("X-Forwarded-Proto", v)
			}
			if got := r.ForwardedHTTPS(tt.giveRemote, h); got != tt.want {
				t.Errorf("ForwardedHTTPS(%q, %q) = %v, want %v",
					tt.giveRemote, tt.giveProto, got, tt.want)
			}
		})
	}
}

func TestContains(t *testing.T) {
	list := mustPrefixes(t, "192.0.2.0/24,2001:db8::/32")
	tests := []struct {
		giveAddr string
		want     bool
	}{
		{"192.0.2.255", true},
		{"192.0.3.0", false},
		{"2001:db8:1::1", true},
		{"2001:db9::1", false},
	}
	for _, tt := range tests {
		if got := Contains(list, addr(tt.giveAddr)); got != tt.want {
			t.Errorf("Contains(%s) = %v, want %v", tt.giveAddr, got, tt.want)
		}
	}
	if Contains(nil, addr("192.0.2.1")) {
		t.Error("Contains(nil, …) = true")
	}
}

func FuzzResolve(f *testing.F) {
	f.Add("127.0.0.1:1", "198.51.100.7, 10.0.0.1", "")
	f.Add("[::1]:80", "[2001:db8::1]:80", "10.0.0.2")
	f.Add("127.0.0.1:1", "unknown", ",,")
	f.Add("10.0.0.5:9", "fe80::1%eth0", "::ffff:1.2.3.4")
	r := NewResolver([]netip.Prefix{
		netip.MustParsePrefix("127.0.0.0/8"),
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("::1/128"),
	})
	f.Fuzz(func(t *testing.T, remote, xff1, xff2 string) {
		h := http.Header{"X-Forwarded-For": {xff1, xff2}}
		got := r.Resolve(remote, h)
		if got.Known != got.Addr.IsValid() {
			t.Fatalf("Known = %v but Addr = %v", got.Known, got.Addr)
		}
		for _, a := range []netip.Addr{got.Addr, got.Peer} {
			if a.Zone() != "" || a.Is4In6() {
				t.Fatalf("address %v keeps a zone or mapping", a)
			}
		}
		if !got.ViaTrustedProxy && got.Known && got.Addr != got.Peer {
			t.Fatalf("untrusted peer %v gave source %v", got.Peer, got.Addr)
		}
		if got.ViaTrustedProxy != (got.Peer.IsValid() && r.Trusted(got.Peer)) {
			t.Fatalf("ViaTrustedProxy = %v for peer %v", got.ViaTrustedProxy, got.Peer)
		}
		if got.Key() == "" || strings.Contains(got.Key(), "%") {
			t.Fatalf("Key() = %q", got.Key())
		}
	})
}

func mustPrefixes(t *testing.T, list string) []netip.Prefix {
	t.Helper()
	p, err := ParsePrefixes(list)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func addrEqual(a, b netip.Addr) bool { return a == b }
