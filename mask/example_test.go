package mask_test

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/logonguard/logonguard/mask"
)

func ExampleParse() {
	m, err := mask.Parse("42.120.74.98 #backup line；42.120.66.0/24 #office\n42.120.66.9")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.String())
	for _, n := range m.Notes(netip.MustParseAddr("42.120.66.20")) {
		fmt.Println(n.Kind, n.Entry)
	}
	// Output:
	// 42.120.66.0/24 #office;42.120.74.98 #backup line
	// contained 42.120.66.9
}

func ExampleParse_refused() {
	_, err := mask.Parse("42.120.66.5/24;010.0.0.1;42.120.74.98")
	var pe *mask.ParseError
	if errors.As(err, &pe) {
		for _, p := range pe.Problems {
			fmt.Println(p.Kind, p.Entry)
		}
	}
	// Output:
	// host-bits 42.120.66.5/24
	// leading-zero 010.0.0.1
}

func ExampleTable_Lookup() {
	m, err := mask.Parse("42.120.66.0/24 #office;2001:db8::/32")
	if err != nil {
		fmt.Println(err)
		return
	}
	table := m.Table()
	for _, a := range []string{"42.120.66.7", "::ffff:42.120.66.7", "2001:db8::1", "9.9.9.9"} {
		e, ok := table.Lookup(netip.MustParseAddr(a))
		fmt.Printf("%s %v %q %q\n", a, ok, e, e.Label)
	}
	// Output:
	// 42.120.66.7 true "42.120.66.0/24" "office"
	// ::ffff:42.120.66.7 true "42.120.66.0/24" "office"
	// 2001:db8::1 true "2001:db8::/32" ""
	// 9.9.9.9 false "" ""
}
