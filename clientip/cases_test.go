package clientip

import (
	"net/netip"
	"testing"

	"github.com/logonguard/logonguard/internal/cases"
)

func TestResolveCases(t *testing.T) {
	for _, row := range cases.Read(t, "client-ip.tsv", "peer", "trusted", "headers", "want", "source") {
		t.Run(row.Get("source"), func(t *testing.T) {
			var trusted []netip.Prefix
			if row.Get("trusted") != "-" {
				var err error
				if trusted, err = ParsePrefixes(row.Get("trusted")); err != nil {
					t.Fatalf("line %d: %v", row.Line, err)
				}
			}
			peer := netip.MustParseAddr(row.Get("peer"))
			remote := netip.AddrPortFrom(peer, 40123).String()

			got := NewResolver(trusted).Resolve(remote, cases.Headers(t, row.Get("headers")))

			if got.Peer != peer {
				t.Errorf("line %d: Peer = %v, want %v", row.Line, got.Peer, peer)
			}
			if row.Get("want") == "none" {
				if got.Known || got.Addr.IsValid() || got.String() != "unknown" {
					t.Errorf("line %d: got %+v, want no trustworthy address", row.Line, got)
				}
				if got.Key() != peer.String() {
					t.Errorf("line %d: Key() = %q, want the peer %v", row.Line, got.Key(), peer)
				}
				return
			}
			want := netip.MustParseAddr(row.Get("want"))
			if !got.Known || got.Addr != want || got.String() != want.String() {
				t.Errorf("line %d: got %+v (%s), want %v", row.Line, got, got, want)
			}
			if got.Key() != want.String() {
				t.Errorf("line %d: Key() = %q, want %v", row.Line, got.Key(), want)
			}
		})
	}
}
