package mapping

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// The encodings contactsync reads, by the names --encoding accepts.
const (
	EncodingUTF8    = "utf-8"
	EncodingUTF16LE = "utf-16le"
	EncodingUTF16BE = "utf-16be"
	EncodingCP1252  = "windows-1252"
)

// encodingSample is how much of the file the encoding is decided from.
const encodingSample = 64 << 10

// decode returns r as UTF-8 text, decoding on the fly. name forces an
// encoding; empty means detect it from the first bytes.
func decode(r io.Reader, name string) (io.Reader, string, error) {
	br := bufio.NewReaderSize(r, encodingSample)
	sample, err := br.Peek(encodingSample)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, "", err
	}
	if err := notText(sample); err != nil {
		return nil, "", err
	}
	if name == "" {
		name = DetectEncoding(sample, len(sample) < encodingSample)
	}
	switch normaliseEncodingName(name) {
	case EncodingUTF8:
		return br, EncodingUTF8, nil // the splitter drops a BOM
	case EncodingUTF16LE:
		return transform.NewReader(br, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewDecoder()), EncodingUTF16LE, nil
	case EncodingUTF16BE:
		return transform.NewReader(br, unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewDecoder()), EncodingUTF16BE, nil
	case EncodingCP1252:
		return transform.NewReader(br, charmap.Windows1252.NewDecoder()), EncodingCP1252, nil
	}
	return nil, "", fmt.Errorf("unknown encoding %q: use utf-8, utf-16le, utf-16be or windows-1252", name)
}

func normaliseEncodingName(n string) string {
	switch strings.ReplaceAll(strings.ToLower(strings.TrimSpace(n)), "_", "-") {
	case "utf-8", "utf8":
		return EncodingUTF8
	case "utf-16le", "utf16le", "utf-16", "utf16", "unicode":
		return EncodingUTF16LE
	case "utf-16be", "utf16be":
		return EncodingUTF16BE
	case "windows-1252", "cp1252", "latin1", "latin-1", "iso-8859-1", "ansi":
		return EncodingCP1252
	}
	return n
}

// notText recognises binary files passed by mistake. Workbooks and
// compressed files never get here: the source package tells them by their
// first bytes, reads them or says what to do.
func notText(sample []byte) error {
	if utf16WithoutBOM(sample) != "" || bytes.HasPrefix(sample, []byte{0xFF, 0xFE}) || bytes.HasPrefix(sample, []byte{0xFE, 0xFF}) {
		return nil
	}
	if nuls := bytes.Count(sample[:min(len(sample), 4096)], []byte{0}); nuls > 8 {
		return errors.New("this is not a text file (it holds binary data): export the contacts as CSV")
	}
	return nil
}

// DetectEncoding decides a file's encoding from its first bytes: a BOM wins;
// then UTF-16 is recognised by its NUL bytes; then the bytes are UTF-8 unless
// invalid sequences outnumber the valid multi-byte ones — so a UTF-8 file
// with a stray byte stays UTF-8 (and only that row is rejected), while a
// French or Spanish Excel export in Windows-1252 is read as such. complete
// says the sample is the whole file (its last rune is not cut).
func DetectEncoding(sample []byte, complete bool) string {
	switch {
	case bytes.HasPrefix(sample, []byte{0xEF, 0xBB, 0xBF}):
		return EncodingUTF8
	case bytes.HasPrefix(sample, []byte{0xFF, 0xFE}):
		return EncodingUTF16LE
	case bytes.HasPrefix(sample, []byte{0xFE, 0xFF}):
		return EncodingUTF16BE
	}
	if enc := utf16WithoutBOM(sample); enc != "" {
		return enc
	}
	valid, invalid := 0, 0
	for i := 0; i < len(sample); {
		c := sample[i]
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(sample[i:])
		if r == utf8.RuneError && n <= 1 {
			if !complete && !utf8.FullRune(sample[i:]) {
				break // cut by the sample's end
			}
			invalid++
			i++
			continue
		}
		valid++
		i += n
	}
	if invalid > valid {
		return EncodingCP1252
	}
	return EncodingUTF8
}

// utf16WithoutBOM recognises UTF-16 text without a BOM: mostly ASCII text
// has a NUL in every other byte.
func utf16WithoutBOM(sample []byte) string {
	if len(sample) < 4 {
		return ""
	}
	n := min(len(sample), 1024) &^ 1
	even, odd := 0, 0
	for i := 0; i < n; i += 2 {
		if sample[i] == 0 {
			even++
		}
		if sample[i+1] == 0 {
			odd++
		}
	}
	half := n / 2
	switch {
	case odd > half*6/10 && even < half/10:
		return EncodingUTF16LE
	case even > half*6/10 && odd < half/10:
		return EncodingUTF16BE
	}
	return ""
}
