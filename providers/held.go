package providers

import "encoding/binary"

// Held keeps, for each number of a listing (mapping.Contact.Key), the
// values the provider showed for its contact, so that a write that replaces
// the whole contact can send them back for the fields a row leaves empty
// (AvoSMS's update, AmootSMS's ContactEdit). A listing may hold a million
// contacts: their values are packed into a few large chunks of bytes, which
// the garbage collector has no pointer to follow in, rather than into a
// string each, which cost three times the memory and most of the listing's
// reading time.
//
// Put is for the one goroutine that reads the listing; Get may then be
// called from many at once.
type Held struct {
	chunks [][]byte
	at     map[uint64]uint64 // key → chunk index << 32 | offset in it
}

// heldChunk is the size of a chunk; a contact larger than it (at most
// MaxItemSize and a few bytes, as listings are read) gets a chunk of its own.
const heldChunk = 4 << 20

// NewHeld returns an empty Held.
func NewHeld() *Held { return &Held{at: map[uint64]uint64{}} }

// Put keeps values for key, replacing what was kept for it.
func (h *Held) Put(key uint64, values []string) {
	size := binary.MaxVarintLen64
	for _, v := range values {
		size += binary.MaxVarintLen64 + len(v)
	}
	last := len(h.chunks) - 1
	if last < 0 || cap(h.chunks[last])-len(h.chunks[last]) < size {
		h.chunks = append(h.chunks, make([]byte, 0, max(heldChunk, size)))
		last++
	}
	c := h.chunks[last]
	h.at[key] = uint64(last)<<32 | uint64(len(c))
	c = binary.AppendUvarint(c, uint64(len(values)))
	for _, v := range values {
		c = binary.AppendUvarint(c, uint64(len(v)))
		c = append(c, v...)
	}
	h.chunks[last] = c
}

// Get returns the values kept for key, nil when there are none (or when h
// is nil: nothing was listed).
func (h *Held) Get(key uint64) []string {
	if h == nil {
		return nil
	}
	at, ok := h.at[key]
	if !ok {
		return nil
	}
	b := h.chunks[at>>32][uint32(at):]
	n, w := binary.Uvarint(b)
	b = b[w:]
	values := make([]string, n)
	for i := range values {
		size, w := binary.Uvarint(b)
		values[i] = string(b[w : w+int(size)])
		b = b[w+int(size):]
	}
	return values
}
