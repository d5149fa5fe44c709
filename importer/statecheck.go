package importer

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
)

// checkStateFile walks a bbolt file with plain reads before bbolt maps it,
// and says what is wrong with it, if anything. bbolt trusts its file: it
// reads pages straight from a memory map, so a file cut short faults
// (SIGBUS) and a page number gone wrong reads anywhere; some damage trips
// its assertions in a goroutine of its own, where no recover can reach, and
// a page that points back to its ancestor sends its tree walks (tx.Check
// among them) into a recursion without end, which is fatal too. So bbolt's
// own check cannot be the first look at a file: this walk is, and once it
// passed, every page bbolt can reach lies inside the file, has the type its
// parent expects, is reached once, and holds its elements and keys in order.
//
// It reads what tx.Check checks (bbolt 1.x, format version 2): the meta page
// bbolt would pick, the free list, and every page of every bucket, with the
// keys ordered within a page and between a branch and its children; pages
// are neither reached twice nor both free and in use nor lost. It also
// checks what bbolt's writes rely on and tx.Check does not: no key is
// empty, and a branch holds the first key of each child.
func checkStateFile(f io.ReaderAt, size int64) error {
	c := &boltCheck{f: f, size: size}
	return c.run()
}

// The layout of a bbolt file, as far as checkStateFile reads it
// (go.etcd.io/bbolt/internal/common). Integers are in the machine's byte
// order, as bbolt writes them.
const (
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	boltPageHeader   = 16 // id uint64, flags uint16, count uint16, overflow uint32
	boltElement      = 16 // branch: pos, ksize uint32, pgid uint64; leaf: flags, pos, ksize, vsize uint32
	boltBucketHeader = 16 // root pgid uint64, sequence uint64
	boltMetaSum      = 56 // magic, version, page size, flags uint32; root bucket; free list, pgid, txid uint64; then the checksum
	boltBranchPage   = 0x01
	boltLeafPage     = 0x02
	boltFreelistPage = 0x10
	boltBucketLeaf   = 0x01
	boltNoFreelist   = ^uint64(0)
	// The page sizes a state file may have: bbolt takes the system's, from
	// 4 KiB to 64 KiB; it looks for the second meta page from 1 KiB on.
	boltMinPageSize = 1 << 10
	boltMaxPageSize = 1 << 16
)

var boltOrder = binary.NativeEndian

// What a page is to the file, as the walk finds it.
const (
	pageUnseen byte = iota
	pageMeta
	pageFreelist
	pageFree
	pageInTree
)

type boltCheck struct {
	f        io.ReaderAt
	size     int64
	pageSize int64
	hwm      uint64 // the number of pages the meta says the file holds
	pages    []byte // pageUnseen… per page below hwm
	buf      []byte
}

// boltMeta is the part of a meta page the walk needs.
type boltMeta struct {
	pageSize uint64
	root     uint64
	freelist uint64
	hwm      uint64
	txid     uint64
}

// damaged is what checkStateFile returns: the file cannot be trusted. It
// is also what protect makes of bbolt panicking on it.
type damaged struct {
	problem  string
	panicked bool
}

func (d *damaged) Error() string { return d.problem }

func damagedf(format string, args ...any) error {
	return &damaged{problem: fmt.Sprintf(format, args...)}
}

func (c *boltCheck) run() error {
	meta, err := c.meta()
	if err != nil {
		return err
	}
	c.pageSize, c.hwm = int64(meta.pageSize), meta.hwm
	if c.hwm < 4 || c.hwm > uint64(c.size/c.pageSize) {
		if c.hwm >= 4 && c.hwm <= uint64(1<<62)/meta.pageSize {
			return damagedf("it ends at %d bytes, before the end of its data at %d bytes: it was cut short", c.size, c.hwm*meta.pageSize)
		}
		return damagedf("its header says it holds %d pages, which cannot be", c.hwm)
	}
	c.pages = make([]byte, c.hwm)
	c.pages[0], c.pages[1] = pageMeta, pageMeta
	if err := c.freelist(meta.freelist); err != nil {
		return err
	}
	if meta.root < 2 || meta.root >= c.hwm {
		return damagedf("its root page %d lies outside its %d pages", meta.root, c.hwm)
	}
	if err := c.tree(meta.root); err != nil {
		return err
	}
	for id, p := range c.pages {
		if p == pageUnseen {
			return damagedf("page %d is neither free nor in use", id)
		}
	}
	return nil
}

// meta finds the meta page bbolt would use: the page size from the first
// valid meta page (the first page, else the second, looked for at each
// possible page size), then of the two meta pages the valid one with the
// higher transaction.
func (c *boltCheck) meta() (boltMeta, error) {
	if c.size < boltPageHeader+boltMetaSum+8 {
		return boltMeta{}, damagedf("it is %d bytes long, shorter than a state file's header: it was cut short, or it is not a state file", c.size)
	}
	var ps uint64
	if m, ok := c.readMeta(0); ok {
		ps = m.pageSize
	} else {
		for pos := int64(boltMinPageSize); pos <= boltMaxPageSize && pos < c.size-1024; pos <<= 1 {
			if m, ok := c.readMeta(pos); ok {
				ps = m.pageSize
				break
			}
		}
	}
	if ps == 0 {
		return boltMeta{}, damagedf("its header pages are unreadable: it is not a state file, or it was overwritten")
	}
	if ps < boltMinPageSize || ps > boltMaxPageSize || ps&(ps-1) != 0 {
		return boltMeta{}, damagedf("its header gives a page size of %d bytes, which cannot be", ps)
	}
	if c.size < 2*int64(ps) {
		return boltMeta{}, damagedf("it is %d bytes long, shorter than its two header pages: it was cut short", c.size)
	}
	m0, ok0 := c.readMeta(0)
	m1, ok1 := c.readMeta(int64(ps))
	var m boltMeta
	switch {
	case ok0 && ok1:
		m = m0
		if m1.txid > m0.txid {
			m = m1
		}
	case ok0:
		m = m0
	case ok1:
		m = m1
	default:
		return boltMeta{}, damagedf("both of its header pages are unreadable")
	}
	if m.pageSize != ps {
		return boltMeta{}, damagedf("its header pages disagree on the page size (%d and %d bytes)", ps, m.pageSize)
	}
	return m, nil
}

// readMeta reads and validates the meta page at off.
func (c *boltCheck) readMeta(off int64) (boltMeta, bool) {
	var b [boltPageHeader + boltMetaSum + 8]byte
	if _, err := c.f.ReadAt(b[:], off); err != nil {
		return boltMeta{}, false
	}
	m := b[boltPageHeader:]
	h := fnv.New64a()
	h.Write(m[:boltMetaSum])
	if boltOrder.Uint32(m[0:]) != boltMagic || boltOrder.Uint32(m[4:]) != boltVersion || boltOrder.Uint64(m[boltMetaSum:]) != h.Sum64() {
		return boltMeta{}, false
	}
	return boltMeta{pageSize: uint64(boltOrder.Uint32(m[8:])), root: boltOrder.Uint64(m[16:]), freelist: boltOrder.Uint64(m[32:]),
		hwm: boltOrder.Uint64(m[40:]), txid: boltOrder.Uint64(m[48:])}, true
}

// page reads page id and its overflow pages, and marks them as kind. The
// returned slice is valid until the next call.
func (c *boltCheck) page(id uint64, kind byte) ([]byte, error) {
	if id < 2 || id >= c.hwm {
		return nil, damagedf("a page points to page %d, outside its %d pages", id, c.hwm)
	}
	if err := c.read(id, c.pageSize); err != nil {
		return nil, err
	}
	if got := boltOrder.Uint64(c.buf); got != id {
		return nil, damagedf("page %d calls itself page %d", id, got)
	}
	overflow := uint64(boltOrder.Uint32(c.buf[12:]))
	if overflow >= c.hwm-id {
		return nil, damagedf("page %d runs %d pages past the end of the file's data", id, overflow)
	}
	for p := id; p <= id+overflow; p++ {
		switch c.pages[p] {
		case pageUnseen:
			c.pages[p] = kind
		case pageFree:
			return nil, damagedf("page %d is both free and in use", p)
		default:
			return nil, damagedf("page %d is reached twice", p)
		}
	}
	if overflow > 0 {
		if err := c.read(id, int64(overflow+1)*c.pageSize); err != nil {
			return nil, err
		}
	}
	return c.buf, nil
}

// read reads n bytes from page id into c.buf.
func (c *boltCheck) read(id uint64, n int64) error {
	if int64(cap(c.buf)) < n {
		c.buf = make([]byte, n)
	}
	c.buf = c.buf[:n]
	if _, err := c.f.ReadAt(c.buf, int64(id)*c.pageSize); err != nil {
		return damagedf("page %d cannot be read: %v", id, err)
	}
	return nil
}

// freelist reads the free list: every page it names lies inside the file
// and is named once.
func (c *boltCheck) freelist(id uint64) error {
	if id == boltNoFreelist {
		// bbolt then rebuilds the list by walking the file in a goroutine
		// that panics on damage; contactsync never writes such a file.
		return damagedf("it has no free list")
	}
	p, err := c.page(id, pageFreelist)
	if err != nil {
		return err
	}
	if flags := boltOrder.Uint16(p[8:]); flags != boltFreelistPage {
		return damagedf("its free list, page %d, is not a free list (type %#x)", id, flags)
	}
	ids := p[boltPageHeader:]
	count := uint64(boltOrder.Uint16(p[10:]))
	if count == 0xFFFF { // the real count is the first element
		count, ids = boltOrder.Uint64(ids), ids[8:]
	}
	if count > uint64(len(ids)/8) {
		return damagedf("its free list, page %d, names more pages (%d) than it holds", id, count)
	}
	for i := range count {
		free := boltOrder.Uint64(ids[8*i:])
		if free < 2 || free >= c.hwm {
			return damagedf("its free list names page %d, outside its %d pages", free, c.hwm)
		}
		if c.pages[free] != pageUnseen {
			return damagedf("its free list names page %d, which is not free or named twice", free)
		}
		c.pages[free] = pageFree
	}
	return nil
}

// subtree is a page to walk and the range its keys must lie in: from lo
// (its first key) to hi (excluded); nil is no bound.
type subtree struct {
	id     uint64
	lo, hi []byte
}

// tree walks the bucket tree from the root bucket's page, sub-buckets
// included, without recursion: a damaged file may nest as deep as it likes.
func (c *boltCheck) tree(root uint64) error {
	todo := []subtree{{id: root}}
	for len(todo) > 0 {
		t := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		p, err := c.page(t.id, pageInTree)
		if err != nil {
			return err
		}
		flags, count := boltOrder.Uint16(p[8:]), int(boltOrder.Uint16(p[10:]))
		if boltPageHeader+count*boltElement > len(p) {
			return damagedf("page %d holds more elements (%d) than fit in it", t.id, count)
		}
		switch flags {
		case boltBranchPage:
			if count == 0 {
				return damagedf("branch page %d is empty", t.id)
			}
			keys := make([][]byte, count)
			for i := range count {
				off := boltPageHeader + i*boltElement
				key, err := element(p, t.id, off, boltOrder.Uint32(p[off:]), boltOrder.Uint32(p[off+4:]), 0)
				if err != nil {
					return err
				}
				var prev []byte
				if i > 0 {
					prev = keys[i-1]
				}
				if err := inOrder(t, prev, key); err != nil {
					return err
				}
				keys[i] = bytes.Clone(key) // p is read over by the next page
			}
			// Child i holds the keys from key i to key i+1.
			for i := range count {
				child := subtree{id: boltOrder.Uint64(p[boltPageHeader+i*boltElement+8:]), lo: keys[i], hi: t.hi}
				if i+1 < count {
					child.hi = keys[i+1]
				}
				todo = append(todo, child)
			}
		case boltLeafPage:
			roots, err := leaf(p, t)
			if err != nil {
				return err
			}
			for _, r := range roots {
				todo = append(todo, subtree{id: r})
			}
		default:
			return damagedf("page %d is not a tree page (type %#x)", t.id, flags)
		}
	}
	return nil
}

// leaf checks the elements of a leaf page (or of an inline bucket's page)
// and returns the root pages of the buckets it holds.
func leaf(p []byte, t subtree) ([]uint64, error) {
	count := int(boltOrder.Uint16(p[10:]))
	if boltPageHeader+count*boltElement > len(p) {
		return nil, damagedf("page %d holds more elements (%d) than fit in it", t.id, count)
	}
	var roots []uint64
	var prev []byte
	for i := range count {
		off := boltPageHeader + i*boltElement
		flags, vsize := boltOrder.Uint32(p[off:]), boltOrder.Uint32(p[off+12:])
		key, err := element(p, t.id, off, boltOrder.Uint32(p[off+4:]), boltOrder.Uint32(p[off+8:]), vsize)
		if err != nil {
			return nil, err
		}
		if err := inOrder(t, prev, key); err != nil {
			return nil, err
		}
		prev = key
		if flags&boltBucketLeaf == 0 {
			continue
		}
		v := p[off+int(boltOrder.Uint32(p[off+4:]))+len(key):][:vsize] // inside p: element checked it
		if len(v) < boltBucketHeader {
			return nil, damagedf("bucket %q on page %d is cut short", key, t.id)
		}
		if root := boltOrder.Uint64(v); root != 0 {
			roots = append(roots, root)
			continue
		}
		// An inline bucket: its one leaf page is in the value. bbolt never
		// inlines a bucket that holds buckets.
		inline := v[boltBucketHeader:]
		if len(inline) < boltPageHeader || boltOrder.Uint16(inline[8:]) != boltLeafPage {
			return nil, damagedf("bucket %q on page %d is damaged", key, t.id)
		}
		sub, err := leaf(inline, subtree{id: t.id})
		if err != nil {
			return nil, err
		}
		if len(sub) > 0 {
			return nil, damagedf("bucket %q on page %d holds buckets inline", key, t.id)
		}
	}
	return roots, nil
}

// element returns the key of the element at off, whose key and value lie
// pos bytes after it, and checks that they lie inside the page.
func element(p []byte, id uint64, off int, pos, ksize, vsize uint32) ([]byte, error) {
	start := int64(off) + int64(pos)
	end := start + int64(ksize) + int64(vsize)
	if end > int64(len(p)) {
		return nil, damagedf("an element of page %d lies past its end", id)
	}
	return p[start : start+int64(ksize)], nil
}

// inOrder checks that key follows prev and lies in the subtree's range.
// bbolt never writes an empty key (and asserts that a node has none), and
// the key a branch holds for a child is the child's first key: when the
// child is rewritten, bbolt finds it in its parent by that key, and adds a
// second entry for it if it is not there, leaving the first on a page it
// frees.
func inOrder(t subtree, prev, key []byte) error {
	switch {
	case len(key) == 0:
		return damagedf("page %d holds an empty key", t.id)
	case prev == nil && t.lo != nil && !bytes.Equal(key, t.lo):
		return damagedf("the first key of page %d is not the one its parent holds for it", t.id)
	case prev != nil && bytes.Compare(prev, key) >= 0, t.hi != nil && bytes.Compare(key, t.hi) >= 0:
		return damagedf("the keys of page %d are out of order", t.id)
	}
	return nil
}
