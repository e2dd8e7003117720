package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// SessionCodec encodes scs session data for the few value types the console
// stores: int64, string, bool and time.Time. It replaces scs's gob codec,
// which builds a decoder per request and was half of the session cost.
//
// Layout: version byte, deadline (Unix nanoseconds), then per value its key,
// a type byte and the value; lengths and integers are varints.
type SessionCodec struct{}

const codecVersion = 1

const (
	typeInt64 byte = iota + 1
	typeString
	typeBool
	typeTime
)

var errCodec = errors.New("store: session codec: malformed data")

// Encode implements scs.Codec.
func (SessionCodec) Encode(deadline time.Time, values map[string]any) ([]byte, error) {
	b := make([]byte, 0, 64)
	b = append(b, codecVersion)
	b = binary.AppendVarint(b, deadline.UnixNano())
	b = binary.AppendUvarint(b, uint64(len(values)))
	for k, v := range values {
		b = appendString(b, k)
		switch v := v.(type) {
		case int64:
			b = binary.AppendVarint(append(b, typeInt64), v)
		case int:
			b = binary.AppendVarint(append(b, typeInt64), int64(v))
		case string:
			b = appendString(append(b, typeString), v)
		case bool:
			x := byte(0)
			if v {
				x = 1
			}
			b = append(b, typeBool, x)
		case time.Time:
			b = binary.AppendVarint(append(b, typeTime), v.UnixNano())
		default:
			return nil, fmt.Errorf("store: session codec: value %q has unsupported type %T", k, v)
		}
	}
	return b, nil
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// Decode implements scs.Codec.
func (SessionCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	d := decoder{b: b}
	if d.byte() != codecVersion {
		return time.Time{}, nil, errCodec
	}
	deadline := time.Unix(0, d.varint()).UTC()
	n := d.uvarint()
	if n > 64 {
		return time.Time{}, nil, errCodec
	}
	values := make(map[string]any, n)
	for range n {
		k := d.string()
		switch d.byte() {
		case typeInt64:
			values[k] = d.varint()
		case typeString:
			values[k] = d.string()
		case typeBool:
			values[k] = d.byte() == 1
		case typeTime:
			values[k] = time.Unix(0, d.varint()).UTC()
		default:
			d.err = true
		}
	}
	if d.err || len(d.b) != 0 {
		return time.Time{}, nil, errCodec
	}
	return deadline, values, nil
}

// decoder reads the codec's layout, remembering the first fault.
type decoder struct {
	b   []byte
	err bool
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.err = true
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > math.MaxInt32 || n > uint64(len(d.b)) {
		d.err = true
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}
