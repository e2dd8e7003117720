package web_test

import (
	"net/netip"
	"testing"

	"github.com/logonguard/logonguard/clientip"
)

func mustPrefixes(t *testing.T, list string) []netip.Prefix {
	t.Helper()
	p, err := clientip.ParsePrefixes(list)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustPrefixesTB(tb testing.TB, list string) []netip.Prefix {
	tb.Helper()
	p, err := clientip.ParsePrefixes(list)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}
